"""`theorybench proptest [--bound NAME | --module PATH] [--profile quick|thorough] [--seed S]`.

Runs the property suite of `theorybench.proptest`: against the shipped bounds of
`bounds.catalogue` together with the toolkit's own EXACT properties (default), against one shipped
bound (``--bound``), or against the ``BOUNDS`` of a user's module (``--module``, a file path or a
dotted module name; ``--bound`` then picks one of its bounds). Prints one line per property and,
for a failure, the shrunk counterexample with its raw values and, when it maps to one, a TOML
configuration that ``theorybench check`` accepts.

Exit status: 0 when every property passed, 1 when one was falsified, its search failed, or no
generated instance exercised it (vacuous; a user's module may allow that with ``ALLOW_VACUOUS =
True``), 2 on bad input, including a user's bound that breaks the contract when called (an
exception inside it is reported with its traceback).
"""

from __future__ import annotations

import time


HELP = "search for counterexamples to the encoded bounds (property-based tests)"


# The names of theorybench.proptest.PROFILES, spelled out so that building the command line does
# not import hypothesis and the whole theory layer (run() checks them against PROFILES).
PROFILE_NAMES = ("quick", "thorough")


def add_arguments(parser) -> None:
    parser.add_argument("--bound", default=None, metavar="NAME",
                        help="test only this declared bound (shipped, or of --module)")
    parser.add_argument("--module", default=None, metavar="PATH",
                        help="a Python file or dotted module that defines BOUNDS, a list of "
                        "bounds.catalogue.DeclaredBound")
    parser.add_argument("--profile", default="quick", choices=PROFILE_NAMES,
                        help="hypothesis profile: quick (default, CI) or thorough")
    parser.add_argument("--seed", type=int, default=0, metavar="S",
                        help="seed of the search (same seed, same examples; default 0)")


def run(args) -> int:
    from theorybench import proptest

    proptest.validate_run_options(args.profile, args.seed)
    user = args.module is not None
    if user:
        module = proptest.load_bounds_module(args.module)
        bounds, allow_vacuous = module.bounds, module.allow_vacuous
    else:
        bounds, allow_vacuous = proptest.shipped_bounds(), False
    if args.bound is not None:
        bounds = proptest.select_bound(bounds, args.bound)
    properties = proptest.suite(bounds, library=not user and args.bound is None, user_code=user,
                                allow_vacuous=allow_vacuous)
    start = time.perf_counter()
    outcomes = proptest.run_properties(
        properties, profile=args.profile, seed=args.seed,
        on_outcome=lambda outcome: print(proptest.format_outcome(outcome), flush=True))
    passed = sum(o.status == "passed" for o in outcomes)
    falsified = sum(o.status in ("falsified", "error") for o in outcomes)
    vacuous = sum(o.status == "vacuous" for o in outcomes)
    allowed = sum(o.status == "vacuous" and not o.failed for o in outcomes)
    print(f"\n{passed} passed, {falsified} falsified or failed, {vacuous} vacuous ({allowed} "
          f"allowed); profile {args.profile}, seed {args.seed}, "
          f"{time.perf_counter() - start:.1f} s")
    return 1 if any(o.failed for o in outcomes) else 0
