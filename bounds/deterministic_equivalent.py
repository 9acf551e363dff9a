"""The deterministic-equivalent exponent psi_DE for anisotropic Sigma (docs/theory.md §4).

RECONSTRUCTED (a deterministic-equivalent heuristic for the min-norm interpolator, docs/theory.md §4,
corrected 2026-11-29): with the eigenvalues :math:`\\lambda_k` of Sigma,

.. math::
    \\sum_k \\frac{\\lambda_k}{\\lambda_k + \\kappa} = n,\\qquad
    \\mathrm{df}_2 = \\sum_k \\frac{\\lambda_k^2}{(\\lambda_k + \\kappa)^2},\\qquad
    \\psi_{DE} = \\frac{[\\mu^\\top(\\Sigma+\\kappa I)^{-1}\\mu]^2}
                     {\\mu^\\top(\\Sigma+\\kappa I)^{-1}\\Sigma(\\Sigma+\\kappa I)^{-1}\\mu
                      + \\mathrm{df}_2/(n - \\mathrm{df}_2)}.

It reduces to psi for :math:`\\Sigma = I`, :math:`d \\gg n` (:math:`\\kappa \\approx d/n`,
:math:`\\mathrm{df}_2 \\approx n^2/d`). The regime indicator (RECONSTRUCTED, heuristic) is the ratio
of the two terms of the denominator,

.. math:: r_{DE} = \\frac{n - \\mathrm{df}_2}{\\mathrm{df}_2}\\,
          \\mu^\\top(\\Sigma+\\kappa I)^{-1}\\Sigma(\\Sigma+\\kappa I)^{-1}\\mu,

which is :math:`n\\|\\mu\\|^2/d = r` for :math:`\\Sigma = I`, :math:`d \\gg n`: weak below 1 (the
interpolation noise dominates), strong above.

:math:`\\kappa` exists iff the number of non-zero eigenvalues exceeds n (the left side falls from
rank(Sigma) at :math:`\\kappa \\to 0` to 0); it is found by a bracketing root finder
(`scipy.optimize.brentq`) on :math:`\\log\\kappa`, with the bracket
:math:`(0, \\operatorname{Tr}\\Sigma/n]` (at :math:`\\kappa = \\operatorname{Tr}\\Sigma/n` the left side
is at most n).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

# Relative tolerance of the root: brentq reaches it in a few dozen evaluations, and psi_DE depends
# smoothly on kappa, so 1e-13 relative in log kappa leaves psi_DE exact to ~1e-12.
ROOT_RTOL = 1e-13


@dataclass(frozen=True)
class DeterministicEquivalent:
    """psi_DE with its ingredients (all RECONSTRUCTED, docs/theory.md §4)."""

    psi: float
    kappa: float
    df2: float
    indicator: float


def kappa_root(eigenvalues: np.ndarray, multiplicities: np.ndarray, n: int) -> float | None:
    """The kappa > 0 with sum_k m_k lambda_k / (lambda_k + kappa) = n, or None when rank <= n."""
    lam = np.asarray(eigenvalues, dtype=np.float64)
    mult = np.asarray(multiplicities, dtype=np.float64)
    positive = lam > 0
    if mult[positive].sum() <= n:
        return None
    lam, mult = lam[positive], mult[positive]

    def excess(log_kappa: float) -> float:
        kappa = math.exp(log_kappa)
        return float(np.sum(mult * lam / (lam + kappa))) - n

    high = math.log(float(np.sum(mult * lam)) / n)
    low = high - 1.0
    # Walk down until the left side exceeds n (it tends to rank(Sigma) > n as kappa -> 0).
    while excess(low) <= 0:
        low -= 2 * (high - low)
        if low < -1400:  # kappa below exp(-1400): the spectrum spans more than float64 can hold
            return None
    return math.exp(brentq(excess, low, high, rtol=ROOT_RTOL))


def deterministic_equivalent(eigenvalues: np.ndarray, multiplicities: np.ndarray,
                             mean_weights: np.ndarray, n: int) -> DeterministicEquivalent | None:
    """psi_DE, kappa, df_2 and r_DE from Sigma's spectrum and mu's weight on each eigenspace.

    ``mean_weights[k]`` is :math:`\\|P_k\\mu\\|^2` for the eigenspace of ``eigenvalues[k]`` (see
    `theorybench.covariance.covariance_spectrum`). None when kappa does not exist (rank <= n).
    """
    kappa = kappa_root(eigenvalues, multiplicities, n)
    if kappa is None:
        return None
    lam = np.asarray(eigenvalues, dtype=np.float64)
    mult = np.asarray(multiplicities, dtype=np.float64)
    weights = np.asarray(mean_weights, dtype=np.float64)
    shifted = lam + kappa
    df2 = float(np.sum(mult * lam**2 / shifted**2))
    signal = float(np.sum(weights / shifted))
    noise = float(np.sum(weights * lam / shifted**2))
    interpolation = df2 / (n - df2)
    psi = signal**2 / (noise + interpolation)
    return DeterministicEquivalent(psi=psi, kappa=kappa, df2=df2, indicator=noise / interpolation)
