"""`python -m onnxcost` and the console script: exit with the code `cli.main` returns."""

import sys

from .cli.app import main


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
