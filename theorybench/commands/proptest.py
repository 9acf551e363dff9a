"""`theorybench proptest` (placeholder until its issue lands)."""

from theorybench.errors import UserInputError

HELP = "proptest (not implemented yet)"


def add_arguments(parser):
    parser.add_argument("args", nargs="*")


def run(args):
    raise UserInputError("'theorybench proptest' is not implemented yet.")
