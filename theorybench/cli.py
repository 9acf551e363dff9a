"""The `theorybench` command line: one sub-command per job, each in `theorybench.commands`.

Every sub-command module exposes `HELP` (one line), `add_arguments(parser)` and `run(args) -> int`.
Errors that are the user's to fix (`UserInputError`) become one paragraph on stderr (cut to
`MAX_MESSAGE` characters) and exit status 2; SIGINT and SIGTERM end the run with exit status 130 /
143 and a line saying what was kept (`Interrupted`); anything else is a bug and keeps its
traceback. NumPy's floating-point RuntimeWarnings are not shown: the code handles overflow and
non-finite values by design (results carry them as inf / NaN), so the user could do nothing about
them; any other warning is printed as one line. docs/failure.md describes the guarantees.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import signal
import sys
import textwrap
import warnings
from collections.abc import Iterator

from theorybench import __version__
from theorybench.errors import Interrupted, UserInputError

COMMANDS = ("simulate", "check", "report", "proptest")
EXIT_BAD_INPUT = 2
# A message longer than this is cut (values are already cut by errors.shown; this bounds the rest).
MAX_MESSAGE = 2000


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="theorybench",
        description="Check the theorems of arXiv:2505.16204 (leaky-ReLU two-layer networks, "
        "gradient descent, benign overfitting) against computation.",
    )
    parser.add_argument("--version", action="version", version=f"theorybench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"theorybench.commands.{name}")
        command_parser = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(command_parser)
        command_parser.set_defaults(run=module.run)
    return parser


def _raise_interrupted(signal_number: int, frame) -> None:
    raise Interrupted(signal_number)


@contextlib.contextmanager
def _run_environment(command: str) -> Iterator[None]:
    """SIGTERM raises `Interrupted`; floating-point RuntimeWarnings are silenced and every other
    warning is printed as one line. Both are restored on exit (main may be called in-process)."""
    def one_line(message, category, filename, lineno, file=None, line=None) -> None:
        text = " ".join(str(message).split())[:300]
        print(f"theorybench {command}: warning: {text}", file=sys.stderr)

    previous = signal.getsignal(signal.SIGTERM)
    try:
        signal.signal(signal.SIGTERM, _raise_interrupted)
    except ValueError:  # not the main thread: signals cannot be handled here
        previous = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            warnings.showwarning = one_line
            yield
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _paragraph(text: str) -> str:
    if len(text) > MAX_MESSAGE:
        text = text[:MAX_MESSAGE] + f"... (message cut at {MAX_MESSAGE} characters)"
    return textwrap.fill(text, width=100)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with _run_environment(args.command):
            return args.run(args)
    except UserInputError as error:
        print(_paragraph(f"theorybench {args.command}: error: {error}"), file=sys.stderr)
        if error.detail:
            print(error.detail.rstrip(), file=sys.stderr)
        return EXIT_BAD_INPUT
    except MemoryError as error:
        # Past the resource guard (theorybench.guard) only when its estimate was too low or the
        # budget was raised above what the machine has: either way the sizes are the user's.
        print(_paragraph(f"theorybench {args.command}: error: this machine ran out of memory ({error}); "
                         "reduce data.n, data.d or network.m, or lower --max-memory so that the "
                         "estimate refuses such runs before they start."), file=sys.stderr)
        return EXIT_BAD_INPUT
    except (KeyboardInterrupt, Interrupted) as interruption:
        number = getattr(interruption, "signal_number", signal.SIGINT)
        hint = getattr(interruption, "hint", "") or "Nothing was written."
        print(_paragraph(f"theorybench {args.command}: interrupted by {signal.Signals(number).name}. {hint}"),
              file=sys.stderr)
        if getattr(interruption, "command", ""):
            print(f"  {interruption.command}", file=sys.stderr)  # on its own line: copyable whole
        return 128 + number


if __name__ == "__main__":
    sys.exit(main())
