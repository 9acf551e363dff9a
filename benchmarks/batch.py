"""Unit-steps per second: the batched Gram-space engine against one-at-a-time `train()`.

Run from the repository root::

    .venv/bin/python benchmarks/batch.py [--out FILE.md] [--quick]

For each (n, m) in {16, 40, 100} x {10, 64}, B independent units (isotropic Gaussian mixtures of
docs/theory.md §1 with ||mu|| = 3, d = 200, balanced second layer, W0 ~ N(0, 1e-12 I), exponential
loss, eta = 0.01, 20 checkpoints, no stop before the budget) are trained two ways:

- one at a time, `theorybench.training.train` on each unit (the reference, cost per step of one
  unit);
- together, `theorybench.gd_batch.train_batch` on the batch (cost per step divided by B).

Both include everything the trainer does: the step, the stop rules, the pattern check at every
step and the checkpoints. BLAS runs on one thread (threadpoolctl), so the figures are per core.
A measurement is the fastest of `REPEATS` blocks taken round-robin across the two ways (the least
disturbed by other processes, the timeit convention), so each ratio comes from one run on the
same machine state. Prints a Markdown table; ``--out`` also writes it to a file.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from theorybench.config import TrainingConfig
from theorybench.gd_batch import Problem, train_batch
from theorybench.training import train

D, GAMMA, SIGNAL, OMEGA, ETA = 200, 0.5, 3.0, 1e-6, 0.01
SHAPES = [(16, 10), (16, 64), (40, 10), (40, 64), (100, 10), (100, 64)]
BATCHES = [1, 4, 16, 64, 256, 1024]
REPEATS = 3
# Steps per block: enough for ~0.1-1 s per block on one core, whatever n, m and B.
TARGET_UNIT_STEPS = 2e5


def problem(seed: int, n: int, m: int) -> Problem:
    data, init = (np.random.default_rng(s) for s in np.random.SeedSequence([seed, n, m]).spawn(2))
    y = np.where(data.random(n) < 0.5, 1.0, -1.0)
    X = data.standard_normal((n, D))
    X[:, 0] += SIGNAL * y
    a = np.where(np.arange(m) < m // 2, 1.0, -1.0) / math.sqrt(m)
    return Problem(X, y, a, OMEGA * init.standard_normal((m, D)), GAMMA)


def steps_for(n: int, m: int, batch: int) -> int:
    """Budget so that a block does about TARGET_UNIT_STEPS * (16 * 10) / (n * m) unit-steps."""
    return max(20, int(TARGET_UNIT_STEPS * 160 / (n * m) / batch))


def seconds_per_unit_step(problems: list[Problem], steps: int, batched: bool) -> float:
    config = TrainingConfig(step_size=ETA, max_steps=steps, log_loss_floor=-1e300, checkpoints=20)
    start = time.perf_counter()
    if batched:
        runs = train_batch(problems, [config] * len(problems))
    else:
        runs = [train(p.X, p.y, p.a, p.W0, p.gamma, config) for p in problems]
    elapsed = time.perf_counter() - start
    assert all(run.steps_taken == steps for run in runs)  # no early stop: the count is exact
    return elapsed / (steps * len(problems))


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return (f"{cpu}; {os.cpu_count()} logical cores; load average before the run {load}; "
            f"Python {platform.python_version()}, NumPy {np.__version__}; BLAS on 1 thread")


def run(shapes, batches) -> str:
    lines = [f"Machine: {machine()}", "",
             "| n | m | batch B | one at a time (us/unit-step) | batched (us/unit-step) | speed-up |",
             "| ---: | ---: | ---: | ---: | ---: | ---: |"]
    for n, m in shapes:
        pool = [problem(seed, n, m) for seed in range(max(batches))]
        # One-at-a-time cost does not depend on B: measured on 4 units, round-robin with every B.
        single_steps = steps_for(n, m, 4)
        best_single = math.inf
        best = {batch: math.inf for batch in batches}
        for _ in range(REPEATS):
            best_single = min(best_single, seconds_per_unit_step(pool[:4], single_steps, batched=False))
            for batch in batches:
                best[batch] = min(best[batch], seconds_per_unit_step(pool[:batch], steps_for(n, m, batch),
                                                                     batched=True))
        for batch in batches:
            lines.append(f"| {n} | {m} | {batch} | {1e6 * best_single:.2f} | {1e6 * best[batch]:.2f} "
                         f"| {best_single / best[batch]:.1f}x |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="also write the Markdown table to this file")
    parser.add_argument("--quick", action="store_true", help="n = 16, m = 10 only, B in {1, 64, 256}")
    args = parser.parse_args()
    shapes, batches = ([(16, 10)], [1, 64, 256]) if args.quick else (SHAPES, BATCHES)
    with threadpool_limits(limits=1):
        table = run(shapes, batches)
    print(table)
    if args.out is not None:
        args.out.write_text(table, encoding="utf-8")


if __name__ == "__main__":
    main()
