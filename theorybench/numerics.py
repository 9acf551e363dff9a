"""Overflow- and underflow-safe primitives of the empirical loss and its gradient (docs/theory.md §2.6).

Gradient descent on separable data drives the margins ``u_i = y_i f(x_i; W)`` to infinity, so the
loss and its per-sample derivatives leave the range of float64 long before training stops
(``exp(-u)`` underflows for ``u > 745`` and overflows for ``u < -709``; log L reaches about -7000,
docs/theory.md §2.5). Every quantity here is therefore computed from its logarithm:

- the per-sample losses :math:`\\ell(u_i)` through :math:`\\log \\ell(u_i)`;
- the empirical loss through :math:`\\log L = \\operatorname{logsumexp}_i \\log\\ell(u_i) - \\log n`;
- the per-sample loss derivatives :math:`g_i = -\\ell'(u_i) > 0` relative to their maximum,
  :math:`g_i / \\max_k g_k = \\exp(\\log g_i - \\max_k \\log g_k) \\in (0, 1]`, with the scale
  :math:`\\max_k \\log g_k` kept in log.

Losses (docs/theory.md §1 for the exponential loss, PAPER; the logistic and hinge losses are BEYOND, §8):

.. math::
    \\ell_{\\exp}(u) = e^{-u}, \\qquad \\ell_{\\log}(u) = \\log(1 + e^{-u}),
    \\qquad \\ell_{\\mathrm{hinge}}(u) = \\max(0, 1 - u),

    g_{\\exp}(u) = e^{-u}, \\qquad g_{\\log}(u) = \\frac{1}{1 + e^{u}}, \\qquad
    g_{\\mathrm{hinge}}(u) = \\mathbf 1[u < 1].

The hinge loss is not differentiable at :math:`u = 1`; GD uses the subgradient
:math:`g_{\\mathrm{hinge}}(1) = 0` (the right derivative: a point exactly on the margin does not
pull, as ``relu(1 - u)`` differentiates in PyTorch, the convention of Karhadkar et al.'s code). Its
loss is exactly 0 once every margin is at least 1: then :math:`\\log L = -\\infty`, every
:math:`g_i = 0` and GD is at a fixed point (the trainer stops with ``loss_floor``).

Every function is EXACT (textbook identities); only their floating-point evaluation is at stake.
"""

from __future__ import annotations

import math

import numpy as np

from theorybench.config import LOSSES
from theorybench.errors import UserInputError

# Below this argument, log(log(1 + e^t)) equals t to float64 precision: log(1 + e^t) = e^t (1 -
# e^t/2 + ...), so the difference is about e^t / 2 < 1e-17 for t < -40, far under half an ulp of
# |t| >= 40. Above it, log1p(e^t) is a normal number (> 4e-18) and its log loses nothing.
_LOG_SOFTPLUS_ASYMPTOTIC_BELOW = -40.0


def _check_loss(loss: str) -> None:
    if loss not in LOSSES:
        raise UserInputError(f"loss = {loss!r} is not allowed: it must be one of {', '.join(LOSSES)}.")


def log_sum_exp(values: np.ndarray) -> float:
    """:math:`\\log \\sum_k e^{v_k}`, shifted by the maximum so no exponential overflows.

    EXACT identity :math:`\\log\\sum_k e^{v_k} = M + \\log\\sum_k e^{v_k - M}` with
    :math:`M = \\max_k v_k`: every shifted exponential lies in (0, 1] and the sum in [1, K], so
    neither overflows nor underflows and the log is of a number >= 1 (relative error of a few ulps).
    ``-inf`` entries contribute nothing; a ``+inf`` or NaN entry makes ``M`` and the result
    non-finite, which callers treat as a non-finite state (docs/theory.md §2.6). Written out rather than
    ``scipy.special.logsumexp``, which costs ~100 us per call in its general-purpose checks, the
    dominant cost of a Gram-space step at n = 100.
    """
    values = np.asarray(values, dtype=np.float64)
    largest = float(np.max(values))
    if not math.isfinite(largest):
        return largest
    return largest + math.log(float(np.sum(np.exp(values - largest))))


def log_softplus(t: np.ndarray) -> np.ndarray:
    """:math:`\\log \\log(1 + e^{t})`, finite for every finite ``t``.

    For :math:`t < -40`, :math:`\\log(1 + e^t) = e^t (1 + O(e^t))` and the result is ``t`` to
    float64 precision (the direct form would underflow to ``log 0 = -inf`` once
    :math:`t < -745`); otherwise ``np.logaddexp(0, t)`` evaluates :math:`\\log(1 + e^t)` without
    overflow for large ``t`` and to full relative precision for small ``e^t`` (it uses ``log1p``).
    """
    t = np.asarray(t, dtype=np.float64)
    asymptotic = t < _LOG_SOFTPLUS_ASYMPTOTIC_BELOW
    # The masked-out entries never reach the log, so log(0) cannot occur.
    direct = np.log(np.logaddexp(0.0, np.where(asymptotic, 0.0, t)))
    return np.where(asymptotic, t, direct)


def log_per_sample_loss(margins: np.ndarray, loss: str) -> np.ndarray:
    """:math:`\\log \\ell(u_i)` for margins :math:`u_i = y_i f_i`.

    Exponential: :math:`\\log \\ell(u) = -u` (no exponential is ever formed). Logistic:
    :math:`\\log\\log(1 + e^{-u})` through `log_softplus`. Hinge: :math:`\\log(1 - u)` =
    ``log1p(-u)`` for :math:`u < 1` (exact to rounding even as :math:`u \\to 1`, where ``1 - u`` is
    formed exactly by Sterbenz's lemma inside log1p), and :math:`-\\infty` (loss exactly 0) for
    :math:`u \\ge 1`.
    """
    _check_loss(loss)
    margins = np.asarray(margins, dtype=np.float64)
    if loss == "exponential":
        return -margins
    if loss == "hinge":
        inside = margins < 1.0
        # The masked-out entries never reach log1p, so log(0) and its warning cannot occur.
        return np.where(inside, np.log1p(-np.where(inside, margins, 0.0)), -math.inf)
    return log_softplus(-margins)


def log_loss(margins: np.ndarray, loss: str) -> float:
    """The logarithm of the empirical loss, :math:`\\log L = \\log\\frac1n\\sum_i \\ell(u_i)`.

    .. math:: \\log L = \\operatorname{logsumexp}_i\\bigl(\\log \\ell(u_i)\\bigr) - \\log n .

    Exponential loss: :math:`\\log L = \\operatorname{logsumexp}(-u) - \\log n`, finite down to
    :math:`\\log L \\approx -10^{308}` where :math:`L` itself underflowed at -745 (docs/theory.md §2.6).
    """
    log_losses = log_per_sample_loss(margins, loss)
    return log_sum_exp(log_losses) - math.log(log_losses.size)


def log_loss_derivative(margins: np.ndarray, loss: str) -> np.ndarray:
    """:math:`\\log g_i` with :math:`g_i = -\\ell'(u_i) > 0`.

    Exponential: :math:`\\log g = -u`. Logistic: :math:`g = 1/(1 + e^{u})`, so
    :math:`\\log g = -\\log(1 + e^{u})` = ``-np.logaddexp(0, u)``, which neither overflows for
    large :math:`u` nor loses precision for small :math:`e^{u}`. Hinge: :math:`\\log g = 0` for
    :math:`u < 1` and :math:`-\\infty` for :math:`u \\ge 1` (subgradient 0 at the kink, module
    docstring); a NaN margin stays NaN.
    """
    _check_loss(loss)
    margins = np.asarray(margins, dtype=np.float64)
    if loss == "exponential":
        return -margins
    if loss == "hinge":
        return np.where(margins < 1.0, 0.0, np.where(np.isnan(margins), math.nan, -math.inf))
    return -np.logaddexp(0.0, margins)


def relative_loss_derivatives(margins: np.ndarray, loss: str) -> tuple[np.ndarray, float]:
    """Per-sample loss derivatives relative to their maximum, and the log of that maximum.

    .. math::
        r_i = \\frac{g_i}{\\max_k g_k} = \\exp\\bigl(\\log g_i - M\\bigr) \\in (0, 1],
        \\qquad M = \\max_k \\log g_k, \\qquad g_i = r_i e^{M}.

    The relative weights never overflow, and the largest is exactly 1, so the direction of the
    gradient survives even when every :math:`g_i` underflows (docs/theory.md §2.6). ``M`` is returned
    as a float for the caller to combine in log space (normalised GD) or to exponentiate once
    (plain GD). Non-finite margins give a non-finite ``M``. When every :math:`g_i` is exactly 0
    (the hinge loss with every margin >= 1) the weights are all 0 and ``M = -inf``: the gradient
    is exactly zero, not undefined.
    """
    log_g = log_loss_derivative(margins, loss)
    scale = float(np.max(log_g))
    if loss == "hinge" and scale == -math.inf and not np.isnan(log_g).any():
        return np.zeros_like(log_g), scale
    if not math.isfinite(scale):
        return np.full_like(log_g, math.nan), scale
    return np.exp(log_g - scale), scale


def exp_of_log(log_value: float) -> float:
    """``exp(log_value)`` as a float, ``inf`` past float64's range instead of an OverflowError.

    ``math.exp`` raises for arguments above log(max float64) ~ 709.78; a bound whose logarithm is
    that large is vacuous (far above 1), and its logarithm, kept beside it, is exact.
    """
    try:
        return math.exp(log_value)
    except OverflowError:
        return math.inf
