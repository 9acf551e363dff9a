"""Start-up cost of the command line: `--help`, and `check` / `simulate` on a trivial workload.

The cost a user pays before any work is the interpreter plus the imports a command needs. This
script measures it two ways, for the source tree at ``--root`` (default: this repository), so that
the figures before and after a change come from the same script and the same interpreter:

- wall time of a whole process (``python -m theorybench ...``), the minimum and the median over
  ``--repeat`` runs: ``--help``; ``check`` and ``simulate`` on a configuration whose work is
  negligible (n = 2, d = 2, m = 2, 1 step, 1 test point), so that the process time is the time
  to the first line of work plus a few milliseconds;
- the time to the first line of work: a process that builds the parser (as every command does)
  and imports what `check` (`bounds`) or `simulate` (`theorybench.simulate`) needs before it
  starts computing; the rest of a command's time is work, or imports made during the work
  (``scipy.special`` for the Clopper-Pearson interval after training). `check` is measured with
  ``--draws 0``: its default 200 draws of the sample hypotheses are work, not start-up;
- the cumulative import time of the slowest top-level modules of each command, from
  ``python -X importtime``.

The minimum is the figure least disturbed by other processes on a shared machine (start-up has no
randomness of its own; every excess is interference); the median is printed beside it.
Figures are published in docs/benchmarks.md.

Usage::

    python benchmarks/startup.py [--root PATH] [--repeat 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TRIVIAL = """seed = 0
[data]
n = 2
d = 2
[network]
m = 2
[training]
max_steps = 1
checkpoints = 2
[evaluation]
test_points = 1
"""


def commands(config: Path, out: Path) -> dict[str, list[str]]:
    return {
        "--help": ["--help"],
        "check (trivial config)": ["check", str(config), "--draws", "0"],
        "simulate (trivial config)": ["simulate", str(config), "--out", str(out)],
    }


# What each command imports before its first line of work (theorybench.commands.*.run).
FIRST_WORK = {
    "check: first line of work": "import theorybench.cli as c; c.build_parser(); "
                                 "import theorybench.config, bounds",
    "simulate: first line of work": "import theorybench.cli as c; c.build_parser(); "
                                    "import theorybench.config, theorybench.simulate",
}


def timed_run(root: Path, arguments: list[str], extra: list[str] | None = None,
              module: bool = True) -> tuple[float, str]:
    env = dict(os.environ, PYTHONPATH=str(root))
    start = time.perf_counter()
    program = ["-m", "theorybench"] if module else []
    done = subprocess.run([sys.executable, *(extra or []), *program, *arguments],
                          cwd=root, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{arguments} failed with status {done.returncode}: {done.stderr}")
    return elapsed, done.stderr


def slowest_imports(stderr: str, count: int = 5) -> list[tuple[str, float]]:
    """Top-level (indentation 0) modules by cumulative import time, in seconds."""
    rows = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line[len("import time:"):].split("|")
        if not name.startswith("  "):  # one space of padding: imported by the program itself
            rows.append((name.strip(), int(cumulative) / 1e6))
    return sorted(rows, key=lambda row: -row[1])[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    root = args.root.resolve()
    with tempfile.TemporaryDirectory() as scratch:
        config = Path(scratch) / "trivial.toml"
        config.write_text(TRIVIAL)
        for label, arguments in commands(config, Path(scratch) / "out").items():
            times = [timed_run(root, arguments)[0] for _ in range(args.repeat)]
            _, trace = timed_run(root, arguments, ["-X", "importtime"])
            top = ", ".join(f"{name} {seconds:.2f}" for name, seconds in slowest_imports(trace))
            print(f"{label:<30} min {min(times):.2f} s  median {statistics.median(times):.2f} s  "
                  f"(n = {args.repeat}); slowest imports (s): {top}")
        for label, code in FIRST_WORK.items():
            times = [timed_run(root, ["-c", code], module=False)[0] for _ in range(args.repeat)]
            print(f"{label:<30} min {min(times):.2f} s  median {statistics.median(times):.2f} s  "
                  f"(n = {args.repeat})")


if __name__ == "__main__":
    main()
