"""`python -m onnxcost` and the console script: exit with the code `cli.main` returns."""

import gc
import sys

from .cli.app import main


def run() -> None:
    code = main()
    # The interpreter's last cycle collection would walk every object the run left (numpy's, protobuf's, the
    # report's) only for the process to end: a tenth of a small model's whole report. Frozen, it skips them;
    # the exit is otherwise the usual one (atexit handlers run, streams are flushed).
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    run()
