"""The limit direction of gradient descent, with a certificate checked through the real network.

EXACT (docs/theory.md §2.1–2.3), given that the activation pattern of §2.1 holds. With
:math:`s_j = \\operatorname{sign} a_j` and :math:`c_{ij} = 1` if :math:`s_j = y_i`, :math:`\\gamma`
otherwise, the network on the training points is linear in :math:`V = (s_j w_j)_j`, and gradient
descent on the exponential loss converges in direction (Soudry et al. 2018, PRIOR for the rate) to
the solution :math:`\\hat W` of

.. math::
    \\min_W \\tfrac12 \\sum_j \\|w_j\\|^2 \\ \\text{s.t.}\\ \\sum_j |a_j| c_{ij}
    \\langle y_i x_i, s_j w_j\\rangle \\ge 1, \\qquad
    Q_{ik} = y_i y_k K_{ik} \\sum_j a_j^2 c_{ij} c_{kj},\\qquad
    \\hat w_j = a_j \\sum_i \\lambda_i c_{ij} y_i x_i .

The program is our reconstruction of the paper's strictly convex program (PAPER, §2.2). The dual
is solved by `bounds.svm.solve_margin_dual` (exact for singular Q), and every call verifies the
solution itself, through the actual leaky ReLU rather than the assumed pattern:

- dual feasibility :math:`\\lambda \\ge 0`;
- margins :math:`y_i f(x_i; \\hat W) = y_i \\sum_j a_j \\phi(\\langle x_i, \\hat w_j\\rangle) \\ge 1`;
- complementary slackness :math:`\\lambda_i (y_i f(x_i;\\hat W) - 1) = 0`;
- strong duality :math:`\\|\\hat W\\|_F^2 = \\sum_i \\lambda_i`;
- pattern consistency :math:`s_j y_i \\langle x_i, \\hat w_j\\rangle > 0` for all i, j.

When the pattern fails, the lifted SVM is not a KKT point of the network's margin problem and the
result carries a refusal instead of passing for the limit of gradient descent. Balanced neurons give
a linear decision boundary :math:`\\operatorname{sign} f(x;\\hat W) = \\operatorname{sign}\\langle
\\bar w, x\\rangle`, :math:`\\bar w = \\sum_i \\lambda_i y_i x_i` (§2.3), compared with the raw-data
linear SVM (`bounds.svm`). The mathematics and the proofs are in ``docs/limit_direction.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bounds.svm import DEFAULT_TOLERANCE, solve_validated_dual, linear_svm_from_gram, validate_gram, \
    validate_labels
from theorybench.errors import UserInputError
from theorybench.network import leaky_relu

PROVENANCE = "EXACT"
SECTION = "docs/theory.md §2.2-2.3"


@dataclass(frozen=True)
class Certificate:
    """The optimality and consistency checks of a limit direction (EXACT, docs/theory.md §2.2).

    All quantities are evaluated through the real network :math:`f(x; \\hat W)` with the leaky
    ReLU, from the Gram matrix, independently of the solver.

    Attributes
    ----------
    dual_infeasibility : float
        :math:`\\max_i(-\\lambda_i)_+ / \\|\\lambda\\|_\\infty`.
    min_margin : float
        :math:`\\min_i y_i f(x_i; \\hat W)`.
    complementary_slackness : float
        :math:`\\max_i \\lambda_i |y_i f(x_i;\\hat W) - 1| / \\|\\lambda\\|_\\infty`.
    duality_gap : float
        :math:`|\\|\\hat W\\|_F^2 - \\sum_i\\lambda_i| / \\sum_i\\lambda_i`.
    pattern_consistent : bool
        :math:`s_j y_i \\langle x_i, \\hat w_j\\rangle > 0` for every pair (i, j).
    pattern_violations : int
        Number of pairs (i, j) where it fails.
    kkt_residual : float
        Max of dual infeasibility, margin violation :math:`(1 - \\min_i y_i f_i)_+` and
        complementary slackness.
    tolerance : float
        The threshold applied to ``kkt_residual`` and ``duality_gap``.
    ok : bool
        Every check passed.
    reason : str
        One line: what passed, or the first check that failed and by how much.
    provenance : str
        ``"EXACT"`` (§2.2).
    """

    dual_infeasibility: float
    min_margin: float
    complementary_slackness: float
    duality_gap: float
    pattern_consistent: bool
    pattern_violations: int
    kkt_residual: float
    tolerance: float
    ok: bool
    reason: str
    provenance: str = PROVENANCE


@dataclass(frozen=True)
class LimitDirection:
    """The lifted hard-margin solution :math:`\\hat W` and its certificate (docs/theory.md §2.2–2.3).

    Check ``refusal`` (None when the direction is certified) before using the arrays.

    Attributes
    ----------
    dual : numpy.ndarray
        :math:`\\lambda`, shape ``(n,)`` (NaN when the lifted points are not separable).
    coefficients : numpy.ndarray
        ``B`` of shape ``(n, m)`` with :math:`\\hat W = B^\\top X`,
        :math:`B_{ij} = a_j \\lambda_i c_{ij} y_i`.
    linear_coefficients : numpy.ndarray
        :math:`\\lambda \\circ y`, so :math:`\\bar w = X^\\top(\\lambda\\circ y)` (§2.3).
    certificate : Certificate
    svm_cosine : float or None
        :math:`\\cos(\\bar w, w_{\\mathrm{svm}})` with the raw-data linear SVM; None when that SVM
        does not exist (raw data not separable) or the lifted problem has no solution.
    refusal : str or None
        Why this is not the limit direction of gradient descent (not separable, solver not
        certified, pattern not self-consistent); None when certified.
    method : str
        The dual solver's phase (``active-set`` or ``nnls``).
    X : numpy.ndarray or None
        The training inputs when built by `limit_direction` (None from a Gram matrix).
    provenance : str
        ``"EXACT"``.
    """

    dual: np.ndarray
    coefficients: np.ndarray
    linear_coefficients: np.ndarray
    certificate: Certificate
    svm_cosine: float | None
    refusal: str | None
    method: str
    X: np.ndarray | None = None
    provenance: str = PROVENANCE

    @property
    def linear_direction(self) -> np.ndarray | None:
        """:math:`\\bar w = \\sum_i \\lambda_i y_i x_i` (``(d,)``; None without X)."""
        return None if self.X is None else self.X.T @ self.linear_coefficients

    def weights(self) -> np.ndarray:
        """:math:`\\hat W = B^\\top X`, shape ``(m, d)``; needs X (raises ValueError otherwise)."""
        if self.X is None:
            raise ValueError("weights() needs X: this limit direction was built from a Gram matrix")
        return self.coefficients.T @ self.X


def _validate_network(a: np.ndarray, gamma: float) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 1 or a.size < 1 or not np.all(np.isfinite(a)) or np.any(a == 0):
        raise UserInputError(f"a = {a!r} is not allowed: it must be a non-empty vector of finite, "
                             "non-zero second-layer weights (normally +-1/sqrt(m)).")
    if isinstance(gamma, bool) or not isinstance(gamma, (int, float, np.floating)) \
            or not 0.0 < float(gamma) < 1.0:
        raise UserInputError(f"gamma = {gamma!r} is not allowed: the leaky-ReLU slope must lie "
                             "strictly between 0 and 1.")
    return a


def activation_factors(y: np.ndarray, a: np.ndarray, gamma: float) -> np.ndarray:
    """:math:`c_{ij}`: 1 when :math:`\\operatorname{sign} a_j = y_i`, :math:`\\gamma` otherwise (§2.1)."""
    return np.where(np.sign(a)[None, :] == y[:, None], 1.0, float(gamma))


def lifted_gram(K: np.ndarray, y: np.ndarray, a: np.ndarray, gamma: float) -> np.ndarray:
    """The dual matrix :math:`Q_{ik} = y_i y_k K_{ik}\\sum_j a_j^2 c_{ij} c_{kj}` (EXACT, §2.2).

    Neurons enter only through :math:`A_\\pm = \\sum_{s_j = \\pm} a_j^2`, since :math:`c_{ij}`
    depends on j only through :math:`s_j`:

    .. math:: Q = (y y^\\top) \\circ K \\circ (A_+ u_+ u_+^\\top + A_- u_- u_-^\\top),
              \\quad (u_\\pm)_i = c(\\pm, y_i).

    Balanced :math:`a_j = \\pm 1/\\sqrt m`: :math:`Q = \\frac{(1+\\gamma)^2}4 YKY +
    \\frac{(1-\\gamma)^2}4 K`.
    """
    weight_pos = float(np.sum(a[a > 0] ** 2))
    weight_neg = float(np.sum(a[a < 0] ** 2))
    u_pos = np.where(y > 0, 1.0, gamma)
    u_neg = np.where(y > 0, gamma, 1.0)
    mixing = weight_pos * np.outer(u_pos, u_pos) + weight_neg * np.outer(u_neg, u_neg)
    return np.outer(y, y) * K * mixing


def limit_coefficients(lam: np.ndarray, y: np.ndarray, a: np.ndarray, gamma: float) -> np.ndarray:
    """``B`` with :math:`\\hat W = B^\\top X`: :math:`B_{ij} = a_j \\lambda_i c_{ij} y_i` (EXACT, §2.2)."""
    return (lam * y)[:, None] * activation_factors(y, a, gamma) * a[None, :]


def certify(K: np.ndarray, y: np.ndarray, a: np.ndarray, gamma: float, lam: np.ndarray,
            *, tolerance: float = DEFAULT_TOLERANCE) -> Certificate:
    """Verify a dual vector through the real network (EXACT, docs/theory.md §2.2).

    Pre-activations :math:`H = K B` (``H_ij = <x_i, w_hat_j>``), margins
    :math:`y_i\\sum_j a_j\\phi(H_{ij})` with the leaky ReLU itself, and
    :math:`\\|\\hat W\\|_F^2 = \\operatorname{Tr}(B^\\top K B)`; see `Certificate`.
    """
    B = limit_coefficients(lam, y, a, gamma)
    H = K @ B
    network = leaky_relu(H, gamma) @ a
    margins = y * network
    scale = float(np.max(np.abs(lam)))
    infeasibility = float(np.max(np.maximum(-lam, 0.0))) / scale
    slackness = float(np.max(np.maximum(lam, 0.0) * np.abs(margins - 1.0))) / scale
    min_margin = float(margins.min())
    residual = max(infeasibility, max(1.0 - min_margin, 0.0), slackness)
    total = float(lam.sum())
    gap = abs(float(np.sum(B * H)) - total) / total
    violations = int(np.count_nonzero(np.sign(a)[None, :] * y[:, None] * H <= 0))
    if violations:
        reason = (f"pattern not self-consistent: s_j y_i <x_i, w_hat_j> <= 0 at {violations} of "
                  f"{H.size} pairs (i, j), so the lifted SVM is not the limit of gradient descent "
                  "(docs/theory.md §2.2)")
    elif residual > tolerance:
        reason = (f"KKT residual {residual:.3g} exceeds the tolerance {tolerance:.3g} (margin "
                  f"{min_margin:.15g}, slackness {slackness:.3g}, infeasibility {infeasibility:.3g})")
    elif gap > tolerance:
        reason = f"duality gap {gap:.3g} exceeds the tolerance {tolerance:.3g}"
    else:
        reason = (f"certified: KKT residual {residual:.3g}, duality gap {gap:.3g}, pattern holds "
                  f"at all {H.size} pairs")
    ok = not violations and residual <= tolerance and gap <= tolerance
    return Certificate(infeasibility, min_margin, slackness, gap, violations == 0, violations,
                       residual, tolerance, ok, reason)


def _svm_cosine(K: np.ndarray, y: np.ndarray, linear_coefficients: np.ndarray,
                tolerance: float) -> float | None:
    svm = linear_svm_from_gram(K, y)
    if not svm.solution.separable or not svm.solution.kkt_residual <= tolerance:
        return None
    u, v = linear_coefficients, svm.coefficients
    # <w_bar, w_svm> / (||w_bar|| ||w_svm||) from K alone; both norms are > 0 for separable data.
    # Each norm is rooted on its own: with a huge signal lambda ~ 1/||x||^2, so each squared norm
    # is ~ 1/||x||^2 and their product can underflow to 0 (found at signal 1e100).
    return float(u @ K @ v) / (math.sqrt(float(u @ K @ u)) * math.sqrt(float(v @ K @ v)))


def limit_direction_from_gram(K: np.ndarray, y: np.ndarray, a: np.ndarray, gamma: float, *,
                              tolerance: float = DEFAULT_TOLERANCE,
                              X: np.ndarray | None = None) -> LimitDirection:
    """The certified limit direction from the Gram matrix :math:`K = XX^\\top` (EXACT, §2.2–2.3).

    Parameters
    ----------
    K : numpy.ndarray
        ``(n, n)`` Gram matrix of the training inputs.
    y : numpy.ndarray
        ``(n,)`` labels in {+1, -1}.
    a : numpy.ndarray
        ``(m,)`` fixed second layer, non-zero entries (any split m+/m-).
    gamma : float
        Leaky-ReLU slope in (0, 1).
    tolerance : float
        Threshold on the relative KKT residual and the duality gap (default 1e-9).
    X : numpy.ndarray, optional
        The inputs themselves, kept for `LimitDirection.weights` and ``linear_direction``.

    Returns
    -------
    LimitDirection
        ``refusal`` is None exactly when the certificate passed.
    """
    K = validate_gram(K, "K")
    n = K.shape[0]
    y = validate_labels(y, n)
    a = _validate_network(a, gamma)
    if not (isinstance(tolerance, (int, float)) and 0 < tolerance < 1):
        raise UserInputError(f"tolerance = {tolerance!r} is not allowed: it must lie in (0, 1).")
    # Q is built here from a validated, symmetrised K, so it is symmetric by construction.
    solution = solve_validated_dual(lifted_gram(K, y, a, float(gamma)))
    if not solution.separable:
        nan = math.nan
        certificate = Certificate(nan, nan, nan, nan, False, 0, nan, tolerance, False,
                                  f"no solution: {solution.reason}")
        return LimitDirection(solution.dual, np.full((n, a.size), np.nan), np.full(n, np.nan),
                              certificate, None,
                              f"the lifted points are not separable: {solution.reason}",
                              solution.method, X)
    lam = solution.dual
    certificate = certify(K, y, a, float(gamma), lam, tolerance=tolerance)
    linear_coefficients = lam * y
    coefficients = limit_coefficients(lam, y, a, float(gamma))
    refusal = None if certificate.ok else certificate.reason
    return LimitDirection(lam, coefficients, linear_coefficients, certificate,
                          _svm_cosine(K, y, linear_coefficients, tolerance), refusal,
                          solution.method, X)


def limit_direction(X: np.ndarray, y: np.ndarray, a: np.ndarray, gamma: float, *,
                    tolerance: float = DEFAULT_TOLERANCE) -> LimitDirection:
    """`limit_direction_from_gram` on :math:`K = XX^\\top`, keeping X for the weights and w̄."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or not np.all(np.isfinite(X)):
        raise UserInputError(f"X must be a finite (n, d) matrix, got shape {X.shape}.")
    return limit_direction_from_gram(X @ X.T, y, a, gamma, tolerance=tolerance, X=X)
