"""Cost of a d x d user covariance given as a .npy file, and of the orthogonal-noise family.

Measures, at d = 1000 (``--d``):

- loading a configuration whose ``data.covariance.matrix_file`` is a d x d ``.npy`` file (read,
  SHA-256, symmetric PSD check), first load in the process and a repeated load (the PSD check is
  then skipped for the same content), and the size of the ``result.json`` of a run with it;
- one ``simulate`` run (n = 50, m = 64, 200 GD steps, 10^4 test points) with the isotropic family,
  the structured ``orthogonal`` family and the same Sigma = I - u u^T as a ``.npy`` user matrix:
  the first run in the process (for the user matrix it includes the cached eigendecomposition) and
  the best of the repeated runs.

Each timing is the minimum over ``--repeat`` runs (``time.perf_counter``), the figure least
disturbed by other processes. Figures are published in docs/benchmarks.md.

Usage::

    python benchmarks/covariance_files.py [--d 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from theorybench import config as config_module
from theorybench.config import load_config
from theorybench.simulate import simulate

TOML = """seed = 1
[data]
n = 50
d = {d}
signal = 2.0
mean_direction = "ones"
[data.covariance]
{covariance}
[network]
m = 64
gamma = 0.1
[training]
max_steps = 200
checkpoints = 10
[evaluation]
test_points = 10000
"""


def best_of(repeat: int, function) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--d", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    d = args.d
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        u = np.ones(d) / np.sqrt(d)
        np.save(folder / "sigma.npy", np.eye(d) - np.outer(u, u))
        files = {}
        for name, covariance in (("isotropic", 'family = "isotropic"'),
                                 ("orthogonal", 'family = "orthogonal"'),
                                 ("user .npy", 'family = "user"\nmatrix_file = "sigma.npy"')):
            files[name] = folder / f"{name.split()[0]}.toml"
            files[name].write_text(TOML.format(d=d, covariance=covariance))

        config_module._CHECKED_MATRIX_FILES.clear()
        start = time.perf_counter()
        load_config(files["user .npy"])
        first = time.perf_counter() - start
        again = best_of(args.repeat, lambda: load_config(files["user .npy"]))
        print(f"load a {d} x {d} .npy covariance: first {first:.3f} s (read, hash, PSD check), "
              f"repeated {again:.3f} s")

        for name, path in files.items():
            config = load_config(path)
            start = time.perf_counter()
            result = simulate(config)  # the user family's first run includes its O(d^3) eigh
            first_run = time.perf_counter() - start
            seconds = best_of(args.repeat, lambda: simulate(config))
            size = len(result.to_json().encode())
            print(f"simulate, {name:<10}: first run {first_run:.2f} s, then {seconds:.2f} s per run; "
                  f"result.json {size / 1024:.1f} KiB; test error {result.test_error.rate:.4f}")


if __name__ == "__main__":
    main()
