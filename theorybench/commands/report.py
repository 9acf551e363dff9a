"""`theorybench report` (placeholder until its issue lands)."""

from theorybench.errors import UserInputError

HELP = "report (not implemented yet)"


def add_arguments(parser):
    parser.add_argument("args", nargs="*")


def run(args):
    raise UserInputError("'theorybench report' is not implemented yet.")
