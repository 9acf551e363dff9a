"""Time one gradient-descent step: Gram space against weight space (and PyTorch where installed).

Run from the repository root::

    .venv/bin/python benchmarks/gd.py [--out FILE.md] [--dims 1000 10000 30000]

For ``n = 100``, ``m = 64`` and each ``d``, every implementation starts from the same training set
(isotropic Gaussian mixture of docs/theory.md §1, ``||mu|| = 3``) and ``W(0)``, takes the same plain-GD
steps on the exponential loss (``eta = 1/d``, inside the stability condition of docs/theory.md §3 since
``lambda_max(K) ~ d``), and the time per step is the fastest of several blocks of steps. A
step is everything the trainer does per step: margins, log-loss and increment
(`theorybench.network.descent_state`), the update, and the new pre-activations. The one-off Gram
set-up ``K = X X^T``, ``H(0) = X W(0)^T`` (``O(n^2 d)``) is reported separately.

Fresh copies of every implementation then take the same 20 steps from the same start, and the
largest relative Frobenius difference of their ``W(20)`` to the weight-space reference is printed
as a check that they follow the same trajectory (docs/theory.md §2.5). Prints a Markdown table; ``--out`` also writes
it to a file. Keeps to ~1 minute on 2 cores.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time
from pathlib import Path

import numpy as np

from theorybench.gd_gram import GramSpaceGD
from theorybench.gd_weight import WeightSpaceGD
from theorybench.network import descent_state

N, M, GAMMA, SIGNAL, OMEGA = 100, 64, 0.5, 3.0, 1e-5
WARMUP_STEPS, REPEATS, GRAM_BLOCK, TRAJECTORY_STEPS = 3, 15, 300, 20


def problem(d: int, seed: int = 0):
    data, init = (np.random.default_rng(s) for s in np.random.SeedSequence([seed, d]).spawn(2))
    y = np.where(data.random(N) < 0.5, 1.0, -1.0)
    X = data.standard_normal((N, d))
    X[:, 0] += SIGNAL * y
    a = np.where(np.arange(M) < M // 2, 1.0, -1.0) / math.sqrt(M)
    W0 = OMEGA * init.standard_normal((M, d))
    return X, y, a, W0


class NumpyStepper:
    """One trainer step on a `GramSpaceGD` or `WeightSpaceGD` engine."""

    def __init__(self, engine, X, y, a, W0, eta):
        self.engine, self.y, self.a, self.eta = engine, y, a, eta
        self.X, self.W0 = X, W0

    def step(self) -> None:
        state = descent_state(self.engine.preactivations, self.y, self.a, GAMMA, loss="exponential",
                              step_size=self.eta, normalized=False)
        self.engine.advance(state.increment)

    def weights(self) -> np.ndarray:
        coefficients, weights = self.engine.snapshot()
        return weights if weights is not None else self.W0 + coefficients.T @ self.X


class TorchStepper:
    """Weight-space GD in PyTorch (float64, CPU) with the gradient from autograd: an independent
    implementation of the same trajectory. log L = logsumexp(-u) - log n, as in docs/theory.md §2.6."""

    def __init__(self, torch, X, y, a, W0, eta):
        self.torch = torch
        self.X = torch.from_numpy(X)
        self.y = torch.from_numpy(y)
        self.a = torch.from_numpy(a)
        self.W = torch.from_numpy(W0.copy()).requires_grad_(True)
        self.eta = eta

    def step(self) -> None:
        torch = self.torch
        H = self.X @ self.W.T
        margins = self.y * (torch.nn.functional.leaky_relu(H, GAMMA) @ self.a)
        loss = torch.exp(torch.logsumexp(-margins, 0) - math.log(len(margins)))
        (gradient,) = torch.autograd.grad(loss, self.W)
        with torch.no_grad():
            self.W -= self.eta * gradient

    def weights(self) -> np.ndarray:
        return self.W.detach().numpy().copy()


def per_step_seconds(steppers: dict, block_steps: dict) -> dict:
    """Fastest time per step of each stepper over `REPEATS` blocks, taken round-robin.

    Round-robin spreads bursts of other processes' load over all implementations alike, and the
    fastest block is the one least disturbed (the timeit convention): on a shared 2-core machine
    a median mostly measures the neighbours.
    """
    for stepper in steppers.values():
        for _ in range(WARMUP_STEPS):
            stepper.step()
    best = {name: math.inf for name in steppers}
    for _ in range(REPEATS):
        for name, stepper in steppers.items():
            start = time.perf_counter()
            for _ in range(block_steps[name]):
                stepper.step()
            best[name] = min(best[name], (time.perf_counter() - start) / block_steps[name])
    return best


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return (f"{cpu}; {os.cpu_count()} logical cores; load average before the run {load}; "
            f"Python {platform.python_version()}, NumPy {np.__version__}")


def run(dims: list[int]) -> str:
    try:
        import torch
    except ImportError:
        torch = None
        print("PyTorch is not installed: the PyTorch column is skipped.")
    lines = [f"Machine: {machine()}"
             + (f"; PyTorch {torch.__version__} ({torch.get_num_threads()} threads)" if torch else ""),
             "",
             f"n = {N}, m = {M}, exponential loss, plain GD, eta = 1/d; fastest of {REPEATS} "
             "blocks, time per step.",
             "",
             "| d | weight (ms/step) | Gram (ms/step) | speed-up | Gram set-up K, H(0) (ms) "
             f"| PyTorch weight (ms/step) | max rel. diff. of W({TRAJECTORY_STEPS}) to weight |",
             "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for d in dims:
        X, y, a, W0 = problem(d)
        eta = 1.0 / d
        start = time.perf_counter()
        GramSpaceGD(X, W0)
        setup = time.perf_counter() - start

        def steppers():
            yield "weight", NumpyStepper(WeightSpaceGD(X, W0), X, y, a, W0, eta)
            yield "gram", NumpyStepper(GramSpaceGD(X, W0), X, y, a, W0, eta)
            if torch is not None:
                yield "torch", TorchStepper(torch, X, y, a, W0, eta)

        # Blocks of ~40 ms: 3e4/d steps for the d-dependent implementations, a fixed number for
        # Gram space, whose step costs ~0.1 ms whatever d.
        blocks = {name: GRAM_BLOCK if name == "gram" else max(3, int(3e4 / d)) for name, _ in steppers()}
        seconds = per_step_seconds(dict(steppers()), blocks)
        # Same trajectory: fresh steppers, TRAJECTORY_STEPS identical steps, final W compared.
        finals = {}
        for name, stepper in steppers():
            for _ in range(TRAJECTORY_STEPS):
                stepper.step()
            finals[name] = stepper.weights()
        reference = finals.pop("weight")
        difference = max(np.linalg.norm(W - reference) / np.linalg.norm(reference) for W in finals.values())
        torch_cell = f"{1e3 * seconds['torch']:.3f}" if torch is not None else "skipped (not installed)"
        lines.append(f"| {d} | {1e3 * seconds['weight']:.3f} | {1e3 * seconds['gram']:.4f} "
                     f"| {seconds['weight'] / seconds['gram']:.0f}x | {1e3 * setup:.1f} | {torch_cell} "
                     f"| {difference:.1e} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="also write the Markdown table to this file")
    parser.add_argument("--dims", type=int, nargs="+", default=[1_000, 10_000, 30_000])
    args = parser.parse_args()
    table = run(args.dims)
    print(table)
    if args.out is not None:
        args.out.write_text(table, encoding="utf-8")


if __name__ == "__main__":
    main()
