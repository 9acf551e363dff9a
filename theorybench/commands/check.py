"""`theorybench check` (placeholder until its issue lands)."""

from theorybench.errors import UserInputError

HELP = "check (not implemented yet)"


def add_arguments(parser):
    parser.add_argument("args", nargs="*")


def run(args):
    raise UserInputError("'theorybench check' is not implemented yet.")
