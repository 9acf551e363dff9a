"""Exact binomial confidence intervals for Monte Carlo error rates.

The Clopper–Pearson interval (EXACT: it inverts two one-sided binomial tests, so its coverage is
at least the nominal level for every true rate) at level :math:`1-\\alpha` for k errors in n trials:

.. math:: \\underline p = B^{-1}\\!\\left(\\tfrac\\alpha2;\\ k,\\ n-k+1\\right), \\qquad
          \\overline p = B^{-1}\\!\\left(1-\\tfrac\\alpha2;\\ k+1,\\ n-k\\right),

with :math:`\\underline p = 0` when k = 0 and :math:`\\overline p = 1` when k = n, where
:math:`B^{-1}(q; a, b)` is the q-quantile of the Beta(a, b) law. Used for every statistical claim
(docs/theory.md §7).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from theorybench.errors import UserInputError


def _validate(k: int, n: int, confidence: float) -> None:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise UserInputError(f"trials = {n!r} is not allowed: it must be an integer >= 1.")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k <= n:
        raise UserInputError(f"errors = {k!r} is not allowed: it must be an integer in [0, {n}].")
    if not 0.0 < float(confidence) < 1.0:
        raise UserInputError(
            f"confidence = {confidence!r} is not allowed: it must be strictly between 0 and 1."
        )


def clopper_pearson(k: int, n: int, confidence: float) -> tuple[float, float]:
    """Exact two-sided Clopper–Pearson interval ``(lower, upper)`` for k successes in n trials.

    Parameters
    ----------
    k : int
        Number of errors, 0 <= k <= n.
    n : int
        Number of trials, n >= 1.
    confidence : float
        Level 1 - alpha, strictly between 0 and 1.

    Returns
    -------
    (float, float)
        The interval; ``lower = 0`` when k = 0 and ``upper = 1`` when k = n (EXACT edges).
    """
    # The Beta quantile is scipy.special.betaincinv, which scipy.stats.beta.ppf calls: the same
    # float64 values (checked equal on 20000 random (k, n, q)), without importing scipy.stats
    # (about 1 s of the command line's start-up). Imported on use for the same reason.
    from scipy.special import betaincinv

    _validate(k, n, confidence)
    alpha = 1.0 - float(confidence)
    lower = 0.0 if k == 0 else float(betaincinv(k, n - k + 1, alpha / 2.0))
    upper = 1.0 if k == n else float(betaincinv(k + 1, n - k, 1.0 - alpha / 2.0))
    return lower, upper


@dataclass(frozen=True)
class BinomialEstimate:
    """An error rate estimated from ``errors`` failures in ``trials`` with its exact interval.

    Attributes
    ----------
    errors, trials : int
        k and n.
    rate : float
        k / n.
    lower, upper : float
        Clopper–Pearson bounds at ``confidence`` (EXACT coverage >= confidence).
    confidence : float
        The two-sided level.
    """

    errors: int
    trials: int
    rate: float
    lower: float
    upper: float
    confidence: float

    @classmethod
    def from_counts(cls, errors: int, trials: int, confidence: float) -> BinomialEstimate:
        lower, upper = clopper_pearson(errors, trials, confidence)
        return cls(
            errors=int(errors),
            trials=int(trials),
            rate=int(errors) / int(trials),
            lower=lower,
            upper=upper,
            confidence=float(confidence),
        )

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


def format_log_probability(log_p: float, digits: int = 3) -> str:
    """``p = exp(log_p)`` in scientific notation computed from the logarithm, so that probabilities
    below float64's smallest number print correctly (``exp(-5000)`` is ``2.9e-2172``).

    ``log_p = -inf`` is an exact zero (a Bayes error with mu outside the range of Sigma, an exact
    error of a direction that sees no noise), never an unobserved rate (Monte Carlo counts print as
    k/n), and prints as ``"0 exactly (log = -inf)"``.
    """
    if math.isnan(log_p):
        return "NaN"
    if log_p == -math.inf:
        return "0 exactly (log = -inf)"
    log10 = log_p / math.log(10)
    exponent = math.floor(log10)
    mantissa = 10 ** (log10 - exponent)
    if round(mantissa, digits - 1) >= 10:  # 9.996e-5 rounds to 10.0e-5: carry into the exponent
        mantissa, exponent = mantissa / 10, exponent + 1
    return f"{mantissa:.{digits - 1}f}e{exponent:+d}"
