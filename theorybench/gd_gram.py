"""Gradient descent in Gram space: per-step cost independent of d (docs/theory.md §2.5).

Every increment of weight-space gradient descent lies in the row space of ``X``
(:math:`W \\leftarrow W + D^\\top X`), so the iterate is kept as coefficients ``A`` (``n x m``):

.. math::
    W(t) = W(0) + A(t)^\\top X, \\qquad A \\leftarrow A + D, \\qquad
    H = X W^\\top = H(0) + K A, \\qquad K = X X^\\top, \\quad H(0) = X W(0)^\\top .

After forming ``K`` and ``H(0)`` once (:math:`O(n^2 d + n m d)`), a step costs :math:`O(n^2 m)`,
independent of ``d``. Norms need no ``d``-dimensional vector either:

.. math::
    \\|W\\|_F^2 = \\|W(0)\\|_F^2 + 2\\langle A, H(0)\\rangle_F + \\langle A, K A\\rangle_F
               = \\|W(0)\\|_F^2 + \\langle A, H + H(0)\\rangle_F .

EXACT identities (docs/theory.md §2.5): this is the trajectory of `theorybench.gd_weight` up to
rounding. ``H`` is recomputed as :math:`H(0) + K A` at every step rather than accumulated
(:math:`H \\leftarrow H + K D`): the cost is the same and rounding errors in ``H`` do not pile up.
"""

from __future__ import annotations

import numpy as np


class GramSpaceGD:
    """State of Gram-space gradient descent.

    Parameters
    ----------
    X : ndarray, shape (n, d)
        Training inputs (rows are samples).
    W0 : ndarray, shape (m, d)
        Initial first layer (only ``X W0^T`` and ``||W0||_F`` are kept).

    Attributes
    ----------
    gram : ndarray, shape (n, n)
        :math:`K = X X^\\top`.
    initial_preactivations : ndarray, shape (n, m)
        :math:`H(0) = X W(0)^\\top`.
    coefficients : ndarray, shape (n, m)
        ``A`` with :math:`W = W(0) + A^\\top X`.
    preactivations : ndarray, shape (n, m)
        :math:`H = H(0) + K A` of the current iterate.
    """

    implementation = "gram"

    def __init__(self, X: np.ndarray, W0: np.ndarray) -> None:
        # An overflow (entries beyond ~1e154) is recorded as the run's "non_finite" stop reason by
        # the trainer, not printed as a warning.
        with np.errstate(over="ignore", invalid="ignore"):
            self.gram = X @ X.T
            self.initial_preactivations = X @ np.asarray(W0, dtype=np.float64).T
        self._initial_norm_sq = float(np.sum(np.square(W0)))
        self.coefficients = np.zeros_like(self.initial_preactivations)
        self.preactivations = self.initial_preactivations.copy()

    def advance(self, increment: np.ndarray) -> None:
        """One step :math:`A \\leftarrow A + D`, :math:`H = H(0) + K A`; :math:`O(n^2 m)`."""
        self.coefficients += increment
        with np.errstate(over="ignore", invalid="ignore"):  # non-finite: the trainer's stop reason
            self.preactivations = self.initial_preactivations + self.gram @ self.coefficients

    def weight_norm(self) -> float:
        """:math:`\\|W\\|_F` from :math:`\\|W(0)\\|_F^2 + \\langle A, H + H(0)\\rangle_F`, O(n m).

        Rounding can make a tiny true norm come out slightly negative only under catastrophic
        cancellation between the terms; it is clipped at 0 so the square root exists.
        """
        # Overflow here only happens in a run already stopping as non-finite; its inf is the record.
        with np.errstate(over="ignore", invalid="ignore"):
            cross = float(np.sum(self.coefficients * (self.preactivations + self.initial_preactivations)))
        return float(np.sqrt(max(self._initial_norm_sq + cross, 0.0)))

    def is_finite(self) -> bool:
        """Whether every entry of ``A`` and ``H`` is finite."""
        return bool(np.isfinite(self.coefficients).all() and np.isfinite(self.preactivations).all())

    def snapshot(self) -> tuple[np.ndarray, None]:
        """``(coefficients, weights)`` for a checkpoint: a copy of ``A``, no weights."""
        return self.coefficients.copy(), None
