"""`theorybench simulate` (placeholder until its issue lands)."""

from theorybench.errors import UserInputError

HELP = "simulate (not implemented yet)"


def add_arguments(parser):
    parser.add_argument("args", nargs="*")


def run(args):
    raise UserInputError("'theorybench simulate' is not implemented yet.")
