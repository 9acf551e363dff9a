"""`theorybench simulate [CONFIG.toml] [--out DIR] [--seed S]`: one run, written as JSON.

Loads the configuration (the built-in default when none is given), overrides the seed if asked,
runs `theorybench.simulate.simulate` with progress on stderr (a bar on a terminal, one-line
records in a log), adds what the theory says about the draw (`draw_theory.theory_on_draw`: the
limit direction's certificate, 1 − cos(W(T), Ŵ), the exact error of w̄ for Gaussian noise, Theorem
4.8's applicability), writes ``DIR/result.json`` (default ``DIR``:
``./theorybench-out/simulate-<config hash>``) and prints a short summary. The wall time is printed
only, never written into the (deterministic) JSON.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from theorybench.errors import UserInputError
from theorybench.guard import config_estimate, parse_memory, require_within
from theorybench.safeio import atomic_write_text

HELP = "run one configuration: sample, train by gradient descent, measure the test error"
RESULT_NAME = "result.json"


def add_arguments(parser) -> None:
    parser.add_argument("config", nargs="?", default=None, metavar="CONFIG.toml",
                        help="configuration file (TOML); the built-in default when omitted")
    parser.add_argument("--out", default=None, metavar="DIR",
                        help="output directory (default ./theorybench-out/simulate-<config hash>)")
    parser.add_argument("--seed", type=int, default=None, metavar="S",
                        help="root seed, replacing the configuration's")
    parser.add_argument("--max-memory", default=None, metavar="SIZE",
                        help="memory budget, e.g. 4GiB (default: half of this machine's memory); "
                             "a configuration estimated above it is refused before it runs")


def _prepare_output(directory: Path) -> Path:
    # Fail before the (possibly long) run, not after it.
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / f".{RESULT_NAME}.probe"
        probe.write_text("")
        probe.unlink()
    except OSError as error:
        raise UserInputError(
            f"output directory --out = {str(directory)!r} cannot be created or written "
            f"({error.strerror or error}); choose a writable directory."
        ) from None
    return directory / RESULT_NAME


def run(args) -> int:
    # Imported here: the simulator (scipy.stats, the training loop) is not needed to parse arguments.
    from theorybench.commands.draw_theory import summary_lines, theory_on_draw
    # Imported here: neither the configuration layer (numpy) nor the simulator is needed to parse
    # arguments, and theorybench.cli imports every command module to build its parser.
    from theorybench.config import config_hash, load_config
    from theorybench.simulate import simulate, summary

    config = load_config(args.config)
    if args.seed is not None:
        config = config.replace(seed=args.seed)
    budget = None if args.max_memory is None else parse_memory(args.max_memory)
    require_within(config_estimate(config, sample=True), budget, "this configuration")
    directory = Path(args.out) if args.out is not None else (
        Path("theorybench-out") / f"simulate-{config_hash(config)}")
    path = _prepare_output(directory)
    start = time.perf_counter()
    try:
        result = simulate(config, progress=True)
    except MemoryError as error:
        # The sizes are the user's to choose (data.n x data.d training points, network.m x data.d
        # weights, test points in chunks of bounded size); an allocation that fails is their input.
        raise UserInputError(
            f"the configuration needs more memory than this machine has ({error}); reduce data.n, "
            "data.d or network.m."
        ) from None
    result = dataclasses.replace(result, theory=theory_on_draw(result))
    elapsed = time.perf_counter() - start
    try:
        # Atomic: result.json is either the whole result or absent, never empty or half-written.
        atomic_write_text(path, result.to_json(),
                          kept="No result file was left behind; free some space and run again.")
    except OSError as error:
        raise UserInputError(
            f"output file {str(path)!r} cannot be written ({error.strerror or error})."
        ) from None
    print(summary(result))
    print("\n".join(summary_lines(result.theory)))
    print(f"wrote {path} (wall time {elapsed:.2f} s, not recorded in the result)")
    return 0
