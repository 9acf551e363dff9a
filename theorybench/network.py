"""The two-layer leaky-ReLU network, its activation pattern and its loss gradient (docs/theory.md §1, §2.1, §2.5).

The network (PAPER, docs/theory.md §1) with first layer ``W`` (rows ``w_j``) and fixed second layer ``a``:

.. math::
    f(x; W) = \\sum_{j=1}^m a_j\\, \\phi(\\langle w_j, x\\rangle), \\qquad
    \\phi(u) = \\max(u, \\gamma u), \\qquad \\phi'(u) = \\begin{cases} 1 & u > 0 \\\\
    \\gamma & u \\le 0 \\end{cases}, \\qquad 0 < \\gamma < 1 .

Everything here is a function of the pre-activations ``H = X W^T`` (``n x m``), so the same code
serves the weight-space and the Gram-space implementations of gradient descent (docs/theory.md §2.5),
which then differ only in how they keep ``H`` up to date.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from theorybench import numerics


def leaky_relu(u: np.ndarray, gamma: float) -> np.ndarray:
    """:math:`\\phi(u) = \\max(u, \\gamma u)` elementwise (PAPER, docs/theory.md §1); for
    :math:`0 < \\gamma < 1` this is ``u`` for ``u > 0`` and ``gamma * u`` otherwise."""
    u = np.asarray(u, dtype=np.float64)
    return np.where(u > 0, u, gamma * u)


def leaky_relu_derivative(u: np.ndarray, gamma: float) -> np.ndarray:
    """:math:`\\phi'(u)`: 1 for ``u > 0`` and ``gamma`` otherwise (the convention
    :math:`\\phi'(0) = \\gamma` of docs/theory.md §1)."""
    u = np.asarray(u, dtype=np.float64)
    return np.where(u > 0, 1.0, gamma)


def output_from_preactivations(H: np.ndarray, a: np.ndarray, gamma: float) -> np.ndarray:
    """:math:`f_i = \\sum_j a_j \\phi(H_{ij})` for pre-activations ``H`` of shape ``(k, m)``."""
    return leaky_relu(H, gamma) @ np.asarray(a, dtype=np.float64)


def network_output(X: np.ndarray, W: np.ndarray, a: np.ndarray, gamma: float) -> np.ndarray:
    """:math:`f(x_i; W)` for every row of ``X`` (``(k, d)``), with ``W`` of shape ``(m, d)``."""
    return output_from_preactivations(np.asarray(X, dtype=np.float64) @ np.asarray(W).T, a, gamma)


def correctly_activated(H: np.ndarray, y: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Boolean ``(n, m)`` mask of the pattern of docs/theory.md §2.1 (EXACT definition):
    :math:`s_j y_i \\langle x_i, w_j\\rangle > 0` with :math:`s_j = \\operatorname{sign}(a_j)`."""
    return (np.sign(a)[None, :] * np.asarray(y)[:, None] * H) > 0


@dataclass(frozen=True)
class DescentState:
    """The loss at pre-activations ``H`` and the gradient-descent increment it implies.

    Attributes
    ----------
    margins : ndarray, shape (n,)
        :math:`u_i = y_i f(x_i; W)`.
    log_loss : float
        :math:`\\log L(W)` (never ``L``: it underflows, docs/theory.md §2.6).
    increment : ndarray, shape (n, m)
        ``D`` such that the next iterate is :math:`W + D^\\top X` (step size included).
    """

    margins: np.ndarray
    log_loss: float
    increment: np.ndarray


def descent_state(
    H: np.ndarray,
    y: np.ndarray,
    a: np.ndarray,
    gamma: float,
    *,
    loss: str,
    step_size: float,
    normalized: bool,
) -> DescentState:
    """Margins, log loss and the GD increment at pre-activations ``H`` (docs/theory.md §2.5–2.6).

    The gradient of :math:`L(W) = \\frac1n \\sum_i \\ell(y_i f(x_i; W))` is
    :math:`\\nabla_{w_j} L = -\\frac1n \\sum_i g_i\\, y_i a_j \\phi'(H_{ij})\\, x_i` with
    :math:`g_i = -\\ell'(u_i)`, so a step is :math:`W \\leftarrow W + D^\\top X` with

    .. math::
        D_{ij} = c_i\\, y_i a_j \\phi'(H_{ij}), \\qquad
        c_i = \\begin{cases} \\frac{\\eta}{n} g_i & \\text{plain GD (the paper's algorithm)}\\\\
        \\eta \\frac{g_i}{n L} & \\text{normalised GD, } W \\leftarrow W - \\eta \\nabla L / L
        \\end{cases}

    EXACT (chain rule; :math:`\\phi'(0) = \\gamma` is the subgradient convention of §1). The
    :math:`g_i` are formed as :math:`r_i e^{M}` (`numerics.relative_loss_derivatives`): plain GD
    exponentiates :math:`M` once, where an overflow means the loss itself exceeds
    :math:`e^{709}` (a non-finite state the trainer reports); normalised GD uses
    :math:`g_i / (nL) = r_i \\exp(M - \\operatorname{logsumexp}_k \\log \\ell_k)`, which stays finite
    however small the loss (for the exponential loss it is the softmax of :math:`-u`).
    Normalised GD is a fast oracle for the limit direction, never the paper's algorithm.
    """
    y = np.asarray(y, dtype=np.float64)
    a = np.asarray(a, dtype=np.float64)
    active = H > 0  # shared by phi and phi': one comparison per step instead of two
    margins = y * (np.where(active, H, gamma * H) @ a)
    log_losses = numerics.log_per_sample_loss(margins, loss)
    log_total = numerics.log_sum_exp(log_losses)  # log(n L)
    relative, log_scale = numerics.relative_loss_derivatives(margins, loss)
    if normalized:
        factor = step_size * _exp_or_inf(log_scale - log_total)
    else:
        # Multiplying (eta / n) by e^M, not exponentiating log(eta / n) + M: rescaling eta by a
        # power of two then rescales every increment exactly (the metamorphic test relies on it).
        factor = step_size / margins.size * _exp_or_inf(log_scale)
    # An infinite factor (the loss exceeds e^709) times an underflowed relative weight gives NaN:
    # a non-finite increment is the trainer's "non_finite" stop reason, not a warning to print.
    with np.errstate(invalid="ignore", over="ignore"):
        coefficients = factor * relative * y
        increment = coefficients[:, None] * a[None, :] * np.where(active, 1.0, gamma)
    return DescentState(margins=margins, log_loss=log_total - math.log(margins.size),
                        increment=increment)


def _exp_or_inf(value: float) -> float:
    """``exp(value)`` with overflow (value > 709.78) reported as ``inf`` instead of raising, and
    NaN passed through, so the trainer sees a non-finite increment and stops."""
    if math.isnan(value):
        return math.nan
    try:
        return math.exp(value)
    except OverflowError:
        return math.inf
