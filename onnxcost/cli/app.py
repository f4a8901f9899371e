"""The `onnxcost` command: parses arguments, calls the Python API, formats. It computes nothing itself.

Every error a user can cause ends as one line on stderr and exit code 2; see `main`."""

from __future__ import annotations

import sys
from typing import Any

from ..base.errors import OnnxcostError, internal_error, printable
from .fast import fast_report
from .options import EXIT_BAD_INPUT, flags

__all__ = ["app", "main"]  # noqa: F822 - `app` comes from __getattr__, on first use


def _typer_app() -> Any:
    """The typer app with every command registered, imported only when the fast path declines."""
    from . import analysis, gate, measure  # noqa: F401 - their commands register on `app`
    from .common import app

    return app


def __getattr__(name: str) -> Any:
    """`app` on first use: importing this module stays as cheap as the fast path."""
    if name == "app":
        return _typer_app()
    raise AttributeError(name)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, turn every onnxcost error into one line and exit code 2."""
    args = sys.argv[1:] if argv is None else argv
    if not args:
        app = _typer_app()
        names = ", ".join(sorted(str(c.name or getattr(c.callback, "__name__", "")) for c in app.registered_commands))
        print(f"onnxcost: error: no command given (one of: {names}); see onnxcost --help", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        if fast_report(args):
            return 0
        rc = _typer_app()(args=args, standalone_mode=False)
        if isinstance(rc, int):  # click returns an Exit's code instead of raising it here
            return rc
    except OnnxcostError as exc:
        print(f"onnxcost: error: {flags(str(exc))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except SystemExit as exc:  # typer raises it for --help and exits inside commands
        return int(exc.code or 0) if not isinstance(exc.code, str) else EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("onnxcost: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the promise is one line and exit 2, never a traceback
        # typer's click (vendored or not) signals usage errors and explicit exits with exceptions.
        if type(exc).__name__ == "Exit":
            return int(getattr(exc, "exit_code", 0))
        if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):  # a usage error: one line, not click's block
            print(f"onnxcost: error: {printable(exc.format_message())}", file=sys.stderr)
            return EXIT_BAD_INPUT
        if type(exc).__name__ == "Abort":
            return 1
        print(f"onnxcost: {internal_error(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
