"""Resource guard: estimate the memory a configuration or a suite needs, before allocating any of it.

A configuration is refused (`ResourceError`, exit status 2) when its estimate exceeds the memory
budget, with a message that names the keys responsible and the sizes. The estimate counts the
float64 arrays the run holds at once (docs/failure.md lists them):

- always: a few length-d vectors (mu, the covariance spectrum), ``DENSE_VECTORS * d``; for a user
  covariance, Sigma and its eigendecomposition, ``DENSE_MATRICES * d^2``;
- with a sample (``check --sample``, ``simulate``, every unit of ``report``): the training set and
  its noise, ``SAMPLE_COPIES * n d``; the weights, ``WEIGHT_COPIES * m d``; the Gram matrix and the
  per-step pre-activations, ``GRAM_COPIES * (n^2 + n m)``; the checkpoints, ``checkpoints * n m``
  (Gram implementation) or ``checkpoints * m d`` (weight implementation); the test-point chunks,
  ``CHUNK_COPIES * max(CHUNK_ENTRIES, d)``;
- for a suite: the largest unit times the units that run at once (the workers), plus the rows held
  in memory, ``ROW_BYTES`` per row, ``(checkpoints + 1)`` rows per unit.

The budget defaults to half of the machine's physical memory (or of the address-space limit, if
one is set and lower), and ``--max-memory`` changes it. The estimate is an upper bound up to the
constant factors above, which were chosen generously (each counts the copies NumPy temporaries make
in the code path), not a measurement.
"""

from __future__ import annotations

import math
import os
import re
import resource
from dataclasses import dataclass
from typing import TYPE_CHECKING

from theorybench.errors import UserInputError

if TYPE_CHECKING:  # the command line imports this module to build its parser: no numpy there
    from theorybench.config import Config

FLOAT_BYTES = 8
DENSE_VECTORS = 8
DENSE_MATRICES = 4
SAMPLE_COPIES = 4
WEIGHT_COPIES = 4
GRAM_COPIES = 8
CHUNK_ENTRIES = 2**21  # the test-point chunk of theorybench.evaluation and verify.measure
CHUNK_COPIES = 6
# A row as a Python dict of about 80 keys (the final row of verify.measure) takes about 10 KiB in
# memory; 16 KiB leaves room for the analysis' copies.
ROW_BYTES = 16 * 2**10
_UNITS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}


class ResourceError(UserInputError):
    """A configuration or suite would need more memory than the budget."""


@dataclass(frozen=True)
class Estimate:
    """Estimated peak memory in bytes, with its terms as (what, which keys, bytes)."""

    terms: tuple[tuple[str, int], ...]

    @property
    def total(self) -> int:
        return sum(size for _, size in self.terms)


def format_bytes(size: float) -> str:
    """``size`` bytes in binary units, e.g. ``59.6 GiB``."""
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{int(size)} B"


def parse_memory(text: str) -> int:
    """``--max-memory`` text (``4GiB``, ``512M``, ``2g``, ``1000000``) as bytes; `UserInputError`
    for anything else."""
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([kmgtKMGT]?)(?:i?[bB])?\s*", str(text)[:100])
    size = float(match.group(1)) * _UNITS[match.group(2).lower()] if match else math.nan
    if not (math.isfinite(size) and size >= 2**20):
        raise UserInputError(f"--max-memory = {str(text)[:100]!r} is not allowed: give a size of at least "
                             "1 MiB such as 4GiB, 512MiB or 2G.")
    return int(size)


def default_budget() -> int:
    """Half of the physical memory, or of the address-space limit when that is set and lower."""
    physical = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    limit, _ = resource.getrlimit(resource.RLIMIT_AS)
    if limit != resource.RLIM_INFINITY:
        physical = min(physical, limit)
    return physical // 2


def config_estimate(config: Config, *, sample: bool) -> Estimate:
    """Peak memory of one configuration: `check` (``sample=False``) or one run (``sample=True``)."""
    data, network, training = config.data, config.network, config.training
    n, d, m = data.n, data.d, network.m
    terms = [("length-d vectors (data.d)", DENSE_VECTORS * d)]
    if data.covariance.family == "user":
        terms.append(("the user covariance and its eigendecomposition (data.d x data.d)", DENSE_MATRICES * d * d))
    if sample:
        stored = n * m if training.implementation == "gram" else m * d
        terms += [
            ("the training set (data.n x data.d)", SAMPLE_COPIES * n * d),
            ("the weights (network.m x data.d)", WEIGHT_COPIES * m * d),
            ("the Gram matrix and pre-activations (data.n, network.m)", GRAM_COPIES * (n * n + n * m)),
            ("the checkpoints (training.checkpoints x " +
             ("data.n x network.m)" if training.implementation == "gram" else "network.m x data.d)"),
             training.checkpoints * stored),
            ("the test-point chunks (data.d)", CHUNK_COPIES * max(CHUNK_ENTRIES, d)),
        ]
    return Estimate(tuple((what, FLOAT_BYTES * count) for what, count in terms))


def suite_estimate(configs: list[Config], replicates: int, workers: int) -> Estimate:
    """Peak memory of a sweep: the largest unit times the units run at once, plus the rows."""
    units = len(configs) * replicates
    largest = max((config_estimate(c, sample=True) for c in configs), key=lambda e: e.total)
    at_once = max(1, min(workers, units))
    rows = sum(c.training.checkpoints + 1 for c in configs) * replicates
    terms = [(f"{at_once} unit(s) at once, each: {what}", at_once * size) for what, size in largest.terms]
    terms.append((f"{rows} result rows (replicates x settings x (training.checkpoints + 1))", rows * ROW_BYTES))
    return Estimate(tuple(terms))


def require_within(estimate: Estimate, budget: int | None, subject: str) -> None:
    """Refuse (`ResourceError`) when `estimate` exceeds `budget` (None: `default_budget()`)."""
    explicit = budget is not None
    budget = default_budget() if budget is None else budget
    if estimate.total <= budget:
        return
    largest = sorted(estimate.terms, key=lambda term: -term[1])[:3]
    parts = "; ".join(f"{what}: {format_bytes(size)}" for what, size in largest)
    origin = "--max-memory" if explicit else "half of this machine's memory; raise it with --max-memory"
    raise ResourceError(
        f"{subject} needs an estimated {format_bytes(estimate.total)} of memory, over the budget of "
        f"{format_bytes(budget)} ({origin}). The largest parts: {parts}. Reduce the keys named there."
    )
