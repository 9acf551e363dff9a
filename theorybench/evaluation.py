"""Test error of a trained network or a linear direction: Monte Carlo with exact intervals, and
the exact Gaussian error of a linear direction.

Test error of a classifier g (docs/theory.md §1): :math:`P(y\\, g(x) \\le 0)` for a fresh clean pair
(a tie g(x) = 0 counts as an error, and so does a NaN output, which only arises when the output
overflows). The Monte Carlo estimate counts errors on fresh points and
reports the exact Clopper–Pearson interval (`theorybench.stats`).

For Gaussian noise the network's m pre-activations are sampled directly (EXACT in law):

.. math:: W x = y\\, W\\mu + W z, \\qquad W z \\sim N(0,\\ W \\Sigma W^\\top) = R^\\top e,\\quad
          e \\sim N(0, I),

where :math:`R` is the triangular factor of :math:`(W\\Sigma^{1/2})^\\top = QR`, so that
:math:`R^\\top R = W \\Sigma W^\\top` without forming or factorising a possibly singular m x m
covariance; the cost per test point is O(m^2), independent of d. Other noise families sample
d-dimensional points in chunks of bounded memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from theorybench.progress import progress as progress_meter

from theorybench.config import DataConfig, EvaluationConfig
from theorybench.covariance import covariance_sqrt_apply
from theorybench.network import network_output, output_from_preactivations
from theorybench.sampling import checkpoint_test_stream, sample_labels, sample_test_set
from theorybench.stats import BinomialEstimate

# Each chunk holds at most this many float64 entries per array (16 MiB), whatever d or m is.
CHUNK_ENTRIES = 2**21
# A progress bar appears only once the evaluation has run this long, so short runs stay quiet.
PROGRESS_DELAY_S = 1.0

Scores = Callable[[np.ndarray], np.ndarray]


def resolve_network(model: Any, a: np.ndarray | None = None,
                    gamma: float | None = None) -> tuple[np.ndarray, np.ndarray, float]:
    """``(W, a, gamma)`` of a trained network given as such a tuple or as a `TrainingRun`.

    A `TrainingRun` supplies ``W`` through ``final_weights()``; ``a`` and ``gamma`` come from its
    attributes of those names when it has them, otherwise from the keyword arguments.
    """
    if isinstance(model, tuple):
        W, a, gamma = model
    else:
        W = model.final_weights()
        a = getattr(model, "a", a)
        gamma = getattr(model, "gamma", gamma)
        if a is None or gamma is None:
            raise TypeError("a TrainingRun without attributes a and gamma needs a= and gamma=")
    return np.asarray(W, dtype=np.float64), np.asarray(a, dtype=np.float64), float(gamma)


def chunk_sizes(points: int, width: int) -> Iterator[int]:
    """Sizes of the chunks in which `points` test points of `width` floats each are drawn: at most
    `CHUNK_ENTRIES` floats per chunk (at least one point), summing to `points`."""
    # A generator, not a list: the number of chunks grows with `points` (10^7 chunks of 104 rows
    # for 10^9 points at d = 20000), and memory must not.
    rows = max(1, CHUNK_ENTRIES // max(1, width))
    for start in range(0, points, rows):
        yield min(rows, points - start)


def count_errors(margins: np.ndarray) -> int:
    """Number of margins y g(x) that are not > 0: ties (0) and NaN (an output that overflowed to
    inf - inf) are errors; ``margin <= 0`` would count a NaN as a correct classification."""
    return int(np.count_nonzero(~(margins > 0.0)))


def monte_carlo_error(scores: Scores, data: DataConfig, rng: np.random.Generator, points: int,
                      confidence: float, *, progress: bool = False) -> BinomialEstimate:
    """Monte Carlo error of the classifier ``sign scores(X)`` on fresh d-dimensional points.

    Points are drawn in chunks of at most `CHUNK_ENTRIES` floats (``sample_test_set``), so memory
    is bounded for any ``points`` and d. Returns the count with its Clopper–Pearson interval.
    """
    errors = 0
    with progress_meter(points, enabled=progress, desc="test error", unit="point",
                        delay=PROGRESS_DELAY_S) as bar:
        for rows in chunk_sizes(points, data.d):
            X, y = sample_test_set(data, rng, rows)
            errors += count_errors(y * scores(X))
            bar.update(rows)
    return BinomialEstimate.from_counts(errors, points, confidence)


def gaussian_projection_factor(data: DataConfig, M: np.ndarray) -> np.ndarray:
    """The triangular factor :math:`R` of :math:`(M\\Sigma^{1/2})^\\top = QR` (module docstring):
    :math:`R^\\top R = M \\Sigma M^\\top` exactly, even when that covariance is singular, so
    :math:`M z` for :math:`z \\sim N(0, \\Sigma)` is sampled in law as :math:`e R`,
    :math:`e \\sim N(0, I_k)` (EXACT, docs/theory.md §1).

    The QR runs on a C-ordered copy of the (d, k) matrix: LAPACK's result is the same, bit for
    bit, but the transposed view costs numpy about four times as long at d = 10^4, k = 41
    (docs/benchmarks.md).
    """
    return np.linalg.qr(np.ascontiguousarray(covariance_sqrt_apply(data, M).T), mode="r")


def _gaussian_network_error(W: np.ndarray, a: np.ndarray, gamma: float, data: DataConfig,
                            rng: np.random.Generator, points: int, confidence: float,
                            progress: bool) -> BinomialEstimate:
    mean_preactivation = W @ data.mean_vector()
    R = gaussian_projection_factor(data, W)
    errors = 0
    with progress_meter(points, enabled=progress, desc="test error", unit="point",
                        delay=PROGRESS_DELAY_S) as bar:
        for rows in chunk_sizes(points, W.shape[0]):
            y = sample_labels(data.class_balance, rng, rows)
            H = np.outer(y, mean_preactivation) + rng.standard_normal((rows, R.shape[0])) @ R
            errors += count_errors(y * output_from_preactivations(H, a, gamma))
            bar.update(rows)
    return BinomialEstimate.from_counts(errors, points, confidence)


def monte_carlo_test_error(model: Any, data: DataConfig, rng: np.random.Generator, points: int,
                           confidence: float, *, a: np.ndarray | None = None,
                           gamma: float | None = None, progress: bool = False) -> BinomialEstimate:
    """Monte Carlo test error of a trained network with its exact (Clopper–Pearson) interval.

    Parameters
    ----------
    model : TrainingRun or tuple
        The network, as ``(W, a, gamma)`` or as a `TrainingRun` (see `resolve_network`).
    data : DataConfig
        The data model of the fresh points (clean labels).
    rng : numpy.random.Generator
        Source of the test points (the ``test`` stream of `theorybench.sampling.streams`).
    points : int
        Number of fresh pairs.
    confidence : float
        Level of the two-sided interval.

    Returns
    -------
    BinomialEstimate
        Errors :math:`\\#\\{y f(x; W) \\le 0\\}` out of ``points``; EXACT interval.

    Notes
    -----
    Gaussian noise: pre-activations sampled in law (module docstring), O(m^2) per point. Other
    families: d-dimensional points in bounded chunks, O(m d) per point.
    """
    W, a, gamma = resolve_network(model, a, gamma)
    if data.noise.family == "gaussian":
        return _gaussian_network_error(W, a, gamma, data, rng, points, confidence, progress)
    return monte_carlo_error(lambda X: network_output(X, W, a, gamma), data, rng, points,
                             confidence, progress=progress)


def error_sampling_method(data: DataConfig) -> str:
    """How `monte_carlo_test_error` draws its points for this data model: ``gaussian_preactivations``
    (the m pre-activations, exactly in law) or ``d_dimensional_points``."""
    return "gaussian_preactivations" if data.noise.family == "gaussian" else "d_dimensional_points"


def checkpoint_test_errors(run: Any, data: DataConfig, evaluation: EvaluationConfig,
                           seed: int) -> list[BinomialEstimate | None]:
    """Test error of :math:`W(t)` at every checkpoint of a `TrainingRun`, with exact intervals.

    Each checkpoint is tested by `monte_carlo_test_error` on
    ``evaluation.test_points_at_checkpoints`` fresh clean pairs drawn from a generator restarted
    at every checkpoint (`theorybench.sampling.checkpoint_test_stream`): common random numbers, so
    that the change of the error along training is not blurred by fresh sampling noise. With
    d-dimensional points these are the same points at every checkpoint; with Gaussian noise the
    same labels and standard normal draws, mapped through each checkpoint's pre-activation law
    (exact in law, O(m^2) per point). A checkpoint with non-finite weights gets None.

    Returns an empty list when ``test_points_at_checkpoints`` is 0 (off).
    """
    points = evaluation.test_points_at_checkpoints
    if points == 0:
        return []
    out: list[BinomialEstimate | None] = []
    for checkpoint in run.checkpoints:
        W = run.weights_at(checkpoint.step)
        if not np.all(np.isfinite(W)):
            out.append(None)
            continue
        out.append(monte_carlo_test_error((W, run.a, run.gamma), data, checkpoint_test_stream(seed),
                                          points, evaluation.confidence))
    return out


def log_exact_gaussian_error(w: np.ndarray, data: DataConfig) -> float:
    """Natural log of the exact Gaussian test error of the linear classifier sign <w, x>.

    .. math:: \\log \\mathrm{err}(w) = \\log\\Phi\\!\\left(-\\frac{\\langle w,\\mu\\rangle}
              {\\|\\Sigma^{1/2} w\\|}\\right)

    EXACT (docs/theory.md §2.4) for Gaussian noise and any class balance (y z has the law of z by
    symmetry). :math:`\\|\\Sigma^{1/2} w\\|` comes from the structured `covariance_sqrt_apply`
    (O(d) for the isotropic, power-law and spiked families, no d x d matrix); the logarithm is
    `bounds.error_functionals.log_gaussian_error` (``scipy.special.log_ndtr``, finite far below
    1e-300).

    Raises
    ------
    ValueError
        When the noise family of ``data`` is not Gaussian (the formula would not be exact).
    """
    if data.noise.family != "gaussian":
        raise ValueError(f"the exact error needs Gaussian noise, not {data.noise.family!r}")
    # Imported on use: importing `bounds` loads the whole theory layer, which the simulator
    # needs only for this one exact functional.
    from bounds.error_functionals import log_gaussian_error

    w = np.asarray(w, dtype=np.float64)
    spread = float(np.linalg.norm(covariance_sqrt_apply(data, w[None, :])))
    return log_gaussian_error(float(w @ data.mean_vector()), spread)
