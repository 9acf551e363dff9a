"""Test error of a linear direction: exact Gaussian error, Bayes error and conditional bounds.

EXACT (docs/theory.md §2.4): for the classifier :math:`g(x) = \\langle w, x\\rangle` on a fresh pair
:math:`x = y\\mu + \\Sigma^{1/2}\\xi`, write

.. math:: t = \\langle w, \\mu\\rangle, \\qquad b = \\Sigma^{1/2} w, \\qquad s = \\|b\\|_2,

so that :math:`y\\,g(x) = t + y\\langle b, \\xi\\rangle` and the error is
:math:`P(y g(x) \\le 0) = P(y\\langle b,\\xi\\rangle \\le -t)` (a tie counts as an error). These are
errors *conditional on the training set* (w fixed); there are no unknown constants.

- Gaussian :math:`\\xi`: :math:`\\mathrm{err}(w) = \\Phi(-t/s)` exactly, for any class balance
  (:math:`y\\xi \\sim \\xi`). Returned as its natural logarithm through `scipy.special.log_ndtr`,
  which stays finite and accurate far below the float64 range (``t/s = 1e3`` gives
  :math:`\\log\\mathrm{err} \\approx -5\\cdot10^5`).
- Bayes error (balanced classes): :math:`\\Phi(-\\|\\Sigma^{-1/2}\\mu\\|)` with the pseudo-inverse;
  when :math:`\\mu \\notin \\operatorname{range}\\Sigma` the classes are separated by a direction
  without noise, the error is 0 and its log is :math:`-\\infty`. By Cauchy–Schwarz,
  :math:`t \\le s\\,\\|\\Sigma^{-1/2}\\mu\\|`, so every direction's exact error is at least this.
- Conditional bounds, valid only when :math:`t > 0`: sub-Gaussian (Chernoff),
  Cantelli (one-sided Chebyshev), fourth moment (Markov on :math:`\\langle b,\\xi\\rangle^4`).

Every function returns a natural logarithm; a bound carries its status (``valid``: below 1;
``vacuous``: at least 1, says nothing; ``invalid``: its hypothesis fails) and the reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import log_ndtr

from theorybench.config import DataConfig
from theorybench.covariance import (
    NULL_EIGENVALUE_FACTOR,
    OUTSIDE_RANGE_RELATIVE_TOLERANCE,
    covariance_summary,
)
from theorybench.errors import UserInputError

PROVENANCE = "EXACT"
SECTION = "docs/theory.md §2.4"
# (t/s)^2 overflows float64 for t/s > ~1.3e154; beyond this ratio the logs are formed from
# log(t/s) instead, which is exact to rounding for every finite ratio.
LARGE_RATIO = 1e150


def _real(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(float(value)):
        raise UserInputError(f"{name} = {value!r} is not allowed: it must be a finite real number.")
    return float(value)


def _scale(name: str, value: float) -> float:
    value = _real(name, value)
    if value < 0:
        raise UserInputError(f"{name} = {value!r} is not allowed: it must be >= 0 (a norm).")
    return value


def log_gaussian_error(t: float, s: float) -> float:
    """:math:`\\log \\Phi(-t/s)`, the log of the exact Gaussian error (EXACT, docs/theory.md §2.4).

    Parameters
    ----------
    t : float
        :math:`\\langle w, \\mu\\rangle`.
    s : float
        :math:`\\|\\Sigma^{1/2} w\\| \\ge 0`.

    Returns
    -------
    float
        Finite whenever ``s > 0``. With ``s = 0`` the classifier sees no noise:
        :math:`-\\infty` (error 0) when ``t > 0``, and 0 (error 1) when ``t <= 0``, since
        :math:`y\\,g(x) = t \\le 0` on every point and a tie counts as an error.
    """
    t, s = _real("t", t), _scale("s", s)
    if s == 0.0:
        return -math.inf if t > 0 else 0.0
    return float(log_ndtr(-t / s))


def _covariance_quadratic(sigma: np.ndarray, w: np.ndarray) -> float:
    if sigma.ndim == 1:
        return float(np.sum(sigma * w * w))
    # A PSD quadratic form can come out slightly negative by rounding when w is near the null
    # space; it is a squared norm, so it is clipped at 0.
    return max(float(w @ sigma @ w), 0.0)


def _check_covariance(sigma: np.ndarray, d: int) -> np.ndarray:
    sigma = np.asarray(sigma, dtype=np.float64)
    if sigma.shape not in ((d,), (d, d)) or not np.all(np.isfinite(sigma)):
        raise UserInputError(f"Sigma must be a finite ({d}, {d}) matrix or the ({d},) diagonal of "
                             f"one, matching mu, got shape {sigma.shape}.")
    return sigma


def log_gaussian_error_of_direction(w: np.ndarray, mu: np.ndarray, sigma: np.ndarray) -> float:
    """:math:`\\log\\Phi(-\\langle w,\\mu\\rangle/\\|\\Sigma^{1/2}w\\|)` (EXACT, docs/theory.md §2.4).

    Parameters
    ----------
    w, mu : numpy.ndarray
        ``(d,)`` direction and class mean.
    sigma : numpy.ndarray
        The covariance: a ``(d, d)`` positive semi-definite matrix, or the ``(d,)`` diagonal of a
        diagonal one. :math:`\\|\\Sigma^{1/2}w\\|^2 = w^\\top\\Sigma w` needs no square root.
    """
    w = np.asarray(w, dtype=np.float64)
    mu = np.asarray(mu, dtype=np.float64)
    if w.ndim != 1 or mu.shape != w.shape:
        raise UserInputError(f"w and mu must be vectors of one length, got {w.shape} and {mu.shape}.")
    sigma = _check_covariance(sigma, w.size)
    return log_gaussian_error(float(w @ mu), math.sqrt(_covariance_quadratic(sigma, w)))


def log_bayes_error_from_mahalanobis(mahalanobis_sq: float) -> float:
    """:math:`\\log\\Phi(-\\sqrt{\\mu^\\top\\Sigma^+\\mu})`; ``inf`` (mu outside range Sigma) gives -inf."""
    if isinstance(mahalanobis_sq, (int, float)) and mahalanobis_sq == math.inf:
        return -math.inf
    return float(log_ndtr(-math.sqrt(_scale("mahalanobis_sq", mahalanobis_sq))))


def log_bayes_error(mu: np.ndarray | DataConfig, sigma: np.ndarray | None = None) -> float:
    """Log of the Bayes error :math:`\\Phi(-\\|\\Sigma^{-1/2}\\mu\\|)`, balanced classes (EXACT, §2.4).

    Parameters
    ----------
    mu : numpy.ndarray or DataConfig
        The class mean (then ``sigma`` is required), or a data configuration, whose
        :math:`\\mu^\\top\\Sigma^+\\mu` comes from `theorybench.covariance.covariance_summary`
        (closed form for the structured families).
    sigma : numpy.ndarray, optional
        ``(d, d)`` PSD covariance or its ``(d,)`` diagonal. The pseudo-inverse is used; when mu has
        a component outside the range of Sigma (beyond a relative 1e-6, the criterion of
        `theorybench.covariance`), the error is 0 and the result is :math:`-\\infty`.

    Notes
    -----
    For unbalanced classes the Bayes rule has an offset and a smaller error; the value here is then
    the smallest error of a homogeneous linear classifier (Cauchy–Schwarz, module docstring).
    """
    if isinstance(mu, DataConfig):
        return log_bayes_error_from_mahalanobis(covariance_summary(mu).mahalanobis_sq)
    mu = np.asarray(mu, dtype=np.float64)
    if mu.ndim != 1 or not np.all(np.isfinite(mu)):
        raise UserInputError(f"mu must be a finite vector, got shape {mu.shape}.")
    if sigma is None:
        raise UserInputError("log_bayes_error needs sigma when mu is given as a vector.")
    sigma = _check_covariance(sigma, mu.size)
    if sigma.ndim == 1:
        eigenvalues, coordinates = sigma, mu
    else:
        eigenvalues, vectors = np.linalg.eigh(0.5 * (sigma + sigma.T))
        coordinates = vectors.T @ mu
    top = float(np.max(np.abs(eigenvalues))) if eigenvalues.size else 0.0
    null = eigenvalues <= NULL_EIGENVALUE_FACTOR * mu.size * np.finfo(np.float64).eps * top
    outside = float(np.linalg.norm(coordinates[null]))
    if outside > OUTSIDE_RANGE_RELATIVE_TOLERANCE * float(np.linalg.norm(mu)):
        return -math.inf
    return log_bayes_error_from_mahalanobis(float(np.sum(coordinates[~null] ** 2 / eigenvalues[~null])))


@dataclass(frozen=True)
class ConditionalBound:
    """An upper bound on the conditional error of a linear direction (EXACT, docs/theory.md §2.4).

    Attributes
    ----------
    name : str
        ``sub_gaussian``, ``cantelli``, ``fourth_moment`` or ``trivial``.
    log_value : float
        Natural log of the bound; NaN when ``status == "invalid"``.
    status : str
        ``valid`` (bound < 1), ``vacuous`` (bound >= 1: true but says nothing) or ``invalid``
        (the hypothesis fails: :math:`\\langle w,\\mu\\rangle \\le 0`, or the noise lacks the moment).
    reason : str
        One line.
    provenance, section : str
        ``"EXACT"`` and ``"docs/theory.md §2.4"``.
    """

    name: str
    log_value: float
    status: str
    reason: str
    provenance: str = PROVENANCE
    section: str = SECTION

    @property
    def value(self) -> float:
        """``exp(log_value)``: may underflow to 0; print from ``log_value``."""
        return math.exp(self.log_value) if not math.isnan(self.log_value) else math.nan


def _invalid_margin(name: str, t: float) -> ConditionalBound:
    return ConditionalBound(name, math.nan, "invalid",
                            f"t = <w, mu> = {t:.6g} <= 0: the direction does not point towards the "
                            "mean, and the bound needs t > 0")


def _finish(name: str, log_value: float, formula: str) -> ConditionalBound:
    if log_value >= 0:
        return ConditionalBound(name, log_value, "vacuous",
                                f"{formula} = exp({log_value:.6g}) >= 1: vacuous")
    return ConditionalBound(name, log_value, "valid", f"{formula} = exp({log_value:.6g})")


def log_sub_gaussian_bound(t: float, s: float, proxy: float | None) -> ConditionalBound:
    """Chernoff: :math:`\\mathrm{err} \\le \\exp(-t^2 / (2\\sigma_\\psi^2 s^2))` for t > 0 (EXACT, §2.4).

    Needs i.i.d. coordinates of :math:`\\xi` with :math:`E e^{\\theta\\xi_k} \\le
    e^{\\sigma_\\psi^2\\theta^2/2}`, so that :math:`\\langle b,\\xi\\rangle` has proxy
    :math:`\\sigma_\\psi^2 s^2`. Never vacuous when valid (the exponent is negative).
    ``proxy = None`` (not sub-Gaussian) makes it invalid.
    """
    name = "sub_gaussian"
    t, s = _real("t", t), _scale("s", s)
    if proxy is None:
        return ConditionalBound(name, math.nan, "invalid",
                                "the noise is not sub-Gaussian (no variance proxy)")
    proxy = _scale("proxy", proxy)
    if proxy == 0:
        raise UserInputError("proxy = 0 is not allowed: the sub-Gaussian variance proxy must be > 0.")
    if t <= 0:
        return _invalid_margin(name, t)
    # (t/s)^2 overflowing to inf is the right limit: the bound is then exp(-inf) = 0.
    ratio = t / s if s > 0 else math.inf
    exponent = -(ratio * ratio) / (2.0 * proxy)
    return _finish(name, exponent, "exp(-t^2 / (2 proxy s^2))")


def log_cantelli_bound(t: float, s: float) -> ConditionalBound:
    """Cantelli: :math:`\\mathrm{err} \\le s^2/(s^2 + t^2)` for t > 0 (EXACT, §2.4; finite variance).

    .. math:: \\log\\frac{s^2}{s^2+t^2} = -\\log(1 + (t/s)^2),

    never vacuous when valid.
    """
    name = "cantelli"
    t, s = _real("t", t), _scale("s", s)
    if t <= 0:
        return _invalid_margin(name, t)
    if s == 0:
        return _finish(name, -math.inf, "s^2 / (s^2 + t^2)")
    ratio = t / s
    if ratio > LARGE_RATIO:
        log_value = -2.0 * math.log(ratio) - math.log1p(ratio ** -2.0)
    else:
        log_value = -math.log1p(ratio * ratio)
    return _finish(name, log_value, "s^2 / (s^2 + t^2)")


def log_fourth_moment(b: np.ndarray, kurtosis: float) -> float:
    """:math:`\\log E\\langle b,\\xi\\rangle^4` with :math:`E\\langle b,\\xi\\rangle^4 =
    3\\|b\\|_2^4 + (\\kappa_4 - 3)\\|b\\|_4^4` (EXACT for i.i.d. zero-mean unit-variance
    coordinates with :math:`E\\xi_k^4 = \\kappa_4`; the cross terms :math:`b_k^2 b_l^2` have
    coefficient 3). Formed from ``b / max|b|`` so that no fourth power overflows."""
    top = float(np.max(np.abs(b))) if b.size else 0.0
    if top == 0.0:
        return -math.inf
    scaled = b / top
    two = float(scaled @ scaled)
    four = float(np.sum(scaled**4))
    # kappa >= 1 keeps this >= kappa ||b||_2^4 > 0, because ||b||_4^4 <= ||b||_2^4.
    return math.log(3.0 * two * two + (kurtosis - 3.0) * four) + 4.0 * math.log(top)


def log_fourth_moment_bound(t: float, b: np.ndarray, kurtosis: float | None) -> ConditionalBound:
    """Markov on the fourth moment (EXACT, §2.4):
    :math:`\\mathrm{err} \\le E\\langle b,\\xi\\rangle^4 / t^4` for t > 0.

    Parameters
    ----------
    t : float
        :math:`\\langle w,\\mu\\rangle`.
    b : numpy.ndarray
        :math:`\\Sigma^{1/2} w` in the coordinates of :math:`\\xi` (the symmetric square root used
        by `theorybench.covariance.covariance_sqrt_apply`); :math:`\\|b\\|_4` depends on that basis.
    kurtosis : float or None
        :math:`\\kappa_4 = E\\xi_k^4 \\ge 1`; ``inf`` or None make the bound invalid.
    """
    name = "fourth_moment"
    t = _real("t", t)
    b = np.asarray(b, dtype=np.float64)
    if b.ndim != 1 or not np.all(np.isfinite(b)):
        raise UserInputError(f"b must be a finite vector, got shape {b.shape}.")
    if kurtosis is None or (isinstance(kurtosis, (int, float)) and kurtosis == math.inf):
        return ConditionalBound(name, math.nan, "invalid",
                                f"the fourth moment E xi^4 = {kurtosis} is not finite")
    kurtosis = _real("kurtosis", kurtosis)
    if kurtosis < 1:
        raise UserInputError(f"kurtosis = {kurtosis!r} is not allowed: E xi^4 >= (E xi^2)^2 = 1.")
    if t <= 0:
        return _invalid_margin(name, t)
    # E<b, xi>^4 / t^4 = E<b/t, xi>^4: formed from b/t (entries of order 1/x), so that no large
    # logarithms of the scale cancel (4 log max|b| - 4 log t lost 1e-13 at |b| ~ t ~ 1e114).
    with np.errstate(over="ignore", under="ignore"):
        scaled = b / t
    if np.all(np.isfinite(scaled)) and np.any(scaled != 0.0):
        return _finish(name, log_fourth_moment(scaled, kurtosis), "E<b, xi>^4 / t^4")
    log_moment = log_fourth_moment(b, kurtosis)
    return _finish(name, log_moment - 4.0 * math.log(t), "E<b, xi>^4 / t^4")


def conditional_bounds(t: float, b: np.ndarray, *, proxy: float | None = None,
                       kurtosis: float | None = None) -> list[ConditionalBound]:
    """The three conditional bounds of docs/theory.md §2.4 for ``t = <w, mu>`` and ``b = Sigma^{1/2} w``."""
    b = np.asarray(b, dtype=np.float64)
    s = float(np.linalg.norm(b))
    return [log_sub_gaussian_bound(t, s, proxy), log_cantelli_bound(t, s),
            log_fourth_moment_bound(t, b, kurtosis)]


def best_conditional_bound(t: float, b: np.ndarray, *, proxy: float | None = None,
                           kurtosis: float | None = None) -> ConditionalBound:
    """The smallest valid bound of `conditional_bounds`; the trivial bound 1 when none is valid."""
    bounds = conditional_bounds(t, b, proxy=proxy, kurtosis=kurtosis)
    valid = [bound for bound in bounds if bound.status == "valid"]
    if valid:
        return min(valid, key=lambda bound: bound.log_value)
    reasons = "; ".join(f"{bound.name}: {bound.reason}" for bound in bounds)
    return ConditionalBound("trivial", 0.0, "vacuous", f"no conditional bound is below 1 ({reasons})")


def log_best_conditional_bound(t: float, b: np.ndarray, *, proxy: float | None = None,
                               kurtosis: float | None = None) -> float:
    """``best_conditional_bound(...).log_value``: a float, 0.0 when only the trivial bound holds."""
    return best_conditional_bound(t, b, proxy=proxy, kurtosis=kurtosis).log_value
