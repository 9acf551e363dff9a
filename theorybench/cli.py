"""The `theorybench` command line: one sub-command per job, each in `theorybench.commands`.

Every sub-command module exposes `HELP` (one line), `add_arguments(parser)` and `run(args) -> int`.
Errors that are the user's to fix (`UserInputError`) become one paragraph on stderr and exit
status 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import textwrap

from theorybench import __version__
from theorybench.errors import UserInputError

COMMANDS = ("simulate", "check", "report", "proptest")
EXIT_BAD_INPUT = 2


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


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except UserInputError as error:
        message = textwrap.fill(f"theorybench {args.command}: error: {error}", width=100)
        print(message, file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
