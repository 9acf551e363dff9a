"""Gradient descent in weight space: the plain reference implementation (docs/theory.md §1, §2.5).

The iterate is the ``(m, d)`` matrix ``W`` itself. A step with increment ``D`` (`network.descent_state`)
is

.. math:: W \\leftarrow W + D^\\top X, \\qquad H = X W^\\top ,

two products of cost :math:`O(n m d)` each. This is the textbook algorithm of the paper (PAPER,
docs/theory.md §1) and the reference the Gram-space implementation (`theorybench.gd_gram`) is tested
against: both follow the same trajectory up to rounding (EXACT identity of docs/theory.md §2.5).
"""

from __future__ import annotations

import numpy as np


class WeightSpaceGD:
    """State of weight-space gradient descent.

    Parameters
    ----------
    X : ndarray, shape (n, d)
        Training inputs (rows are samples).
    W0 : ndarray, shape (m, d)
        Initial first layer; copied, never modified.

    Attributes
    ----------
    preactivations : ndarray, shape (n, m)
        :math:`H = X W^\\top` of the current iterate.
    """

    implementation = "weight"

    def __init__(self, X: np.ndarray, W0: np.ndarray) -> None:
        self._X = X
        self._W = np.array(W0, dtype=np.float64, copy=True)
        self.preactivations = X @ self._W.T

    def advance(self, increment: np.ndarray) -> None:
        """One step :math:`W \\leftarrow W + D^\\top X` and the new :math:`H = X W^\\top`."""
        with np.errstate(over="ignore", invalid="ignore"):  # non-finite: the trainer's stop reason
            self._W += increment.T @ self._X
            self.preactivations = self._X @ self._W.T

    def weight_norm(self) -> float:
        """:math:`\\|W\\|_F` of the current iterate."""
        # Overflow here only happens in a run already stopping as non-finite; its inf is the record.
        with np.errstate(over="ignore", invalid="ignore"):
            return float(np.linalg.norm(self._W))

    def is_finite(self) -> bool:
        """Whether every entry of ``W`` and ``H`` is finite."""
        return bool(np.isfinite(self._W).all() and np.isfinite(self.preactivations).all())

    def snapshot(self) -> tuple[None, np.ndarray]:
        """``(coefficients, weights)`` for a checkpoint: no coefficients, a copy of ``W``."""
        return None, self._W.copy()
