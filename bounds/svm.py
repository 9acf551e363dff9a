"""Hard-margin support vector machines through the Gram matrix: the dual solver and the linear SVM.

Every hard-margin problem of the toolkit has the form (EXACT, docs/theory.md §2.2): points
:math:`\\tilde x_i` in some Euclidean space, known only through their Gram matrix
:math:`Q_{ik} = \\langle \\tilde x_i, \\tilde x_k\\rangle` (positive semi-definite, possibly
singular), and

.. math::
    \\min_w \\tfrac12 \\|w\\|^2 \\ \\text{s.t.}\\ \\langle w, \\tilde x_i\\rangle \\ge 1
    \\qquad\\Longleftrightarrow\\qquad
    \\min_{\\lambda \\ge 0} \\tfrac12 \\lambda^\\top Q \\lambda - \\mathbf 1^\\top \\lambda,
    \\qquad w = \\sum_i \\lambda_i \\tilde x_i .

`solve_margin_dual` solves the dual for any such ``Q``. The linear hard-margin SVM of the raw data
(no bias), kept for comparison with the network's limit direction (docs/theory.md §2.3), is the case
:math:`\\tilde x_i = y_i x_i`, i.e. :math:`Q = Y K Y`.

Solver (the proofs are in ``docs/limit_direction.md``):

1. *Primal–dual active set* on the support S (start: every point): solve
   :math:`Q_{SS}\\lambda_S = \\mathbf 1` by Cholesky, set :math:`\\lambda_{S^c} = 0`, and take
   :math:`S \\leftarrow \\{i : \\lambda_i - (Q\\lambda - \\mathbf 1)_i > 0\\}` until S repeats. A
   fixed point satisfies every KKT condition exactly. Fast (a few Cholesky solves) and the usual
   outcome when d is large, but it needs :math:`Q_{SS}` well conditioned and may cycle.
2. *Fallback, exact for singular Q*: least-distance programming by non-negative least squares
   (Lawson & Hanson 1974, ch. 23). With any factor :math:`Q = R^\\top R`,

   .. math:: u^\\star = \\arg\\min_{u \\ge 0} \\|R u\\|^2 + (\\mathbf 1^\\top u - 1)^2, \\qquad
             \\lambda = u^\\star / (1 - \\mathbf 1^\\top u^\\star),

   and the points are not separable exactly when the minimum is 0 (then
   :math:`\\mathbf 1^\\top u^\\star = 1`, :math:`R u^\\star = 0`: the origin lies in the convex hull
   of the points). :math:`\\nu = u^\\star / \\mathbf 1^\\top u^\\star` is the min-norm point of the
   convex hull of docs/theory.md §2.2.
3. *Polish*: Newton (iterative-refinement) steps on the support, kept only while they lower the
   relative KKT residual and keep :math:`\\lambda \\ge 0`.

The returned residual is the solver's own view (through Q); callers that know more structure verify
the solution independently (`bounds.limit_direction` evaluates the real network).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve, eigh, lstsq

from theorybench.errors import UserInputError

# Relative KKT residual a solution must reach (the acceptance target of issue 4): margins are
# dimensionless (the constraint right-hand side is 1), and float64 solves of the well-conditioned
# systems met here leave residuals near n * eps * cond ~ 1e-13, four orders below.
DEFAULT_TOLERANCE = 1e-9
# The active-set phase gives up on a support whose Cholesky pivots span more than this ratio
# (squared pivots estimate the condition number from below): beyond ~1e12, a float64 solve keeps
# fewer than 4 correct digits and the exact NNLS fallback is the better tool.
CHOLESKY_PIVOT_RATIO = 1e-12
# An eigenvalue of Q counts as zero below this multiple of n * eps * lambda_max: eigh is backward
# stable, so the computed spectrum of a singular PSD matrix sits within a small multiple of
# n * eps * ||Q|| of 0.
NULL_EIGENVALUE_FACTOR = 10.0
# The NNLS residual 1 - 1^T u equals 1 / (1 + ||w||^2) for the scaled problem (diag Q <= 1); below
# this multiple of n * eps it is indistinguishable from 0, i.e. the origin is in the convex hull.
SEPARABILITY_FACTOR = 64.0
MAX_ACTIVE_SET_ITERATIONS = 50
MAX_POLISH_STEPS = 5


@dataclass(frozen=True)
class DualSolution:
    """A solution of the hard-margin dual
    :math:`\\min_{\\lambda\\ge0} \\frac12\\lambda^\\top Q\\lambda - \\mathbf 1^\\top\\lambda`.

    Attributes
    ----------
    dual : numpy.ndarray
        :math:`\\lambda \\ge 0`, shape ``(n,)``; all NaN when ``separable`` is False.
    separable : bool
        Whether some w has :math:`\\langle w, \\tilde x_i\\rangle > 0` for every i.
    method : str
        ``"active-set"`` or ``"nnls"`` (the phase that found the support).
    iterations : int
        Active-set iterations when that phase found the solution; 0 for the NNLS phase (scipy's
        ``nnls`` does not report its count).
    kkt_residual : float
        Relative KKT residual through Q (`kkt_residual`); NaN when not separable.
    reason : str or None
        Why there is no solution (None when there is one).
    """

    dual: np.ndarray
    separable: bool
    method: str
    iterations: int
    kkt_residual: float
    reason: str | None


def kkt_residual(Q: np.ndarray, lam: np.ndarray) -> float:
    """Relative KKT residual of the hard-margin dual (EXACT optimality conditions).

    .. math::
        \\max\\Big(\\frac{\\max_i(-\\lambda_i)_+}{\\|\\lambda\\|_\\infty},\\
        \\max_i (1 - g_i)_+,\\ \\frac{\\max_i \\lambda_i |g_i - 1|}{\\|\\lambda\\|_\\infty}\\Big),
        \\qquad g = Q\\lambda \\ (\\text{the margins}).

    Dual feasibility, primal feasibility and complementary slackness; together with
    :math:`w = \\sum_i\\lambda_i\\tilde x_i` they are necessary and sufficient for optimality of
    this convex problem. Margins are already relative (the right-hand side is 1); the other two
    terms are divided by :math:`\\|\\lambda\\|_\\infty`.
    """
    scale = float(np.max(np.abs(lam)))
    if not scale > 0:
        return math.inf
    margins = Q @ lam
    return max(float(np.max(np.maximum(-lam, 0.0))) / scale,
               float(np.max(np.maximum(1.0 - margins, 0.0))),
               float(np.max(np.maximum(lam, 0.0) * np.abs(margins - 1.0))) / scale)


def validate_gram(Q: np.ndarray, name: str) -> np.ndarray:
    Q = np.asarray(Q, dtype=np.float64)
    if Q.ndim != 2 or Q.shape[0] != Q.shape[1] or Q.shape[0] < 1:
        raise UserInputError(f"{name} must be a square (n, n) matrix with n >= 1, got shape {Q.shape}.")
    if not np.all(np.isfinite(Q)):
        raise UserInputError(f"{name} has non-finite entries; a Gram matrix must be finite.")
    scale = float(np.max(np.abs(Q)))
    # Symmetry to relative 1e-10: Gram matrices formed in float64 are symmetric to ~n eps.
    if np.max(np.abs(Q - Q.T)) > 1e-10 * scale:
        raise UserInputError(f"{name} is not symmetric; a Gram matrix X X^T must be.")
    return 0.5 * (Q + Q.T)


def _active_set(Q: np.ndarray):
    """Primal–dual active set; returns (lambda, iterations, factor, support) or None."""
    n = Q.shape[0]
    support = np.ones(n, dtype=bool)
    seen: set[bytes] = set()
    for iteration in range(1, MAX_ACTIVE_SET_ITERATIONS + 1):
        key = support.tobytes()
        if key in seen or not support.any():
            return None
        seen.add(key)
        index = np.flatnonzero(support)
        try:
            factor = cho_factor(Q[np.ix_(index, index)], lower=True, check_finite=False)
        except LinAlgError:
            return None
        pivots = np.diag(factor[0]) ** 2
        if pivots.min() < CHOLESKY_PIVOT_RATIO * pivots.max():
            return None
        lam = np.zeros(n)
        lam[index] = cho_solve(factor, np.ones(index.size), check_finite=False)
        gradient = Q @ lam - 1.0
        updated = lam - gradient > 0
        if np.array_equal(updated, support):
            return lam, iteration, factor, index
        support = updated
    return None


def _least_distance(Q: np.ndarray):
    """LDP by NNLS on a factor of Q; returns lambda, or None when the points are not separable."""
    n = Q.shape[0]
    eigenvalues, vectors = eigh(Q, check_finite=False)
    top = max(float(eigenvalues[-1]), 0.0)
    keep = eigenvalues > NULL_EIGENVALUE_FACTOR * n * np.finfo(np.float64).eps * top
    # R^T R = U_+ diag(e_+) U_+^T = Q up to the discarded rounding-level eigenvalues.
    R = np.sqrt(eigenvalues[keep])[:, None] * vectors[:, keep].T
    E = np.vstack([R, np.ones((1, n))])
    target = np.zeros(E.shape[0])
    target[-1] = 1.0
    # Imported on use: scipy.optimize costs ~0.2 s to import, and `theorybench check` loads this
    # module (through bounds) without solving a dual unless --sample is given.
    from scipy.optimize import nnls

    u, _ = nnls(E, target, maxiter=max(50 * n, 1000))
    slack = 1.0 - float(u.sum())
    if slack <= SEPARABILITY_FACTOR * n * np.finfo(np.float64).eps:
        return None
    return u / slack


def _polish(Q: np.ndarray, lam: np.ndarray, solve) -> np.ndarray:
    """Newton steps on the support while they lower the KKT residual and keep lambda >= 0."""
    best = kkt_residual(Q, lam)
    for _ in range(MAX_POLISH_STEPS):
        support = lam > 0
        correction = solve(support, 1.0 - (Q @ lam)[support])
        candidate = lam.copy()
        candidate[support] += correction
        if candidate.min() < 0:
            break
        residual = kkt_residual(Q, candidate)
        if not residual < best:
            break
        lam, best = candidate, residual
    return lam


def solve_margin_dual(Q: np.ndarray, *, name: str = "Q") -> DualSolution:
    """Solve the hard-margin dual for a positive semi-definite Gram matrix Q (EXACT, docs/theory.md §2.2).

    .. math:: \\lambda^\\star = \\arg\\min_{\\lambda \\ge 0}
              \\tfrac12 \\lambda^\\top Q \\lambda - \\mathbf 1^\\top \\lambda

    Parameters
    ----------
    Q : numpy.ndarray
        ``(n, n)`` symmetric positive semi-definite matrix, :math:`Q_{ik} = \\langle\\tilde x_i,
        \\tilde x_k\\rangle`. Singular Q (d < n, duplicated points) is handled exactly.
    name : str
        The name used in error messages.

    Returns
    -------
    DualSolution
        With ``separable = False`` and a reason when no w has all margins positive (some
        :math:`\\tilde x_i = 0`, or the origin in the convex hull of the points).

    Raises
    ------
    UserInputError
        When Q is not a finite symmetric square matrix.
    """
    return solve_validated_dual(validate_gram(Q, name))


def solve_validated_dual(Q: np.ndarray) -> DualSolution:
    """`solve_margin_dual` without the input checks, for a Q that is symmetric and finite by
    construction (built from a validated Gram matrix by this package)."""
    n = Q.shape[0]
    diagonal = np.diag(Q)
    scale = float(diagonal.max())
    zero = diagonal <= NULL_EIGENVALUE_FACTOR * np.finfo(np.float64).eps * max(scale, 0.0)
    if not scale > 0 or zero.any():
        first = int(np.flatnonzero(zero)[0]) if zero.any() else 0
        return DualSolution(np.full(n, np.nan), False, "none", 0, math.nan,
                            f"point {first} has zero norm, so its constraint <w, x_{first}> >= 1 "
                            "cannot hold: the points are not separable.")
    # Scaling Q by its largest diagonal entry makes every tolerance below relative: lambda scales
    # by the inverse factor and the margins Q lambda are unchanged.
    scaled = Q / scale
    found = _active_set(scaled)
    if found is not None:
        lam, iterations, factor, index = found
        full = index.size

        def solve(support, rhs):
            if np.count_nonzero(support) == full and support[index].all():
                return cho_solve(factor, rhs, check_finite=False)
            return lstsq(scaled[np.ix_(support, support)], rhs, check_finite=False)[0]

        method = "active-set"
    else:
        lam, iterations = _least_distance(scaled), 0
        if lam is None:
            return DualSolution(np.full(n, np.nan), False, "nnls", iterations, math.nan,
                                "the origin lies in the convex hull of the points (the NNLS "
                                "least-distance residual is zero), so they are not separable.")

        def solve(support, rhs):
            return lstsq(scaled[np.ix_(support, support)], rhs, check_finite=False)[0]

        method = "nnls"
    lam = _polish(scaled, lam, solve)
    return DualSolution(lam / scale, True, method, iterations, kkt_residual(scaled, lam), None)


@dataclass(frozen=True)
class LinearSVM:
    """The raw-data linear hard-margin SVM without bias (EXACT, docs/theory.md §2.3 comparison).

    Attributes
    ----------
    dual : numpy.ndarray
        :math:`\\alpha \\ge 0`, shape ``(n,)``.
    coefficients : numpy.ndarray
        :math:`\\alpha \\circ y`, so that :math:`w_{\\mathrm{svm}} = X^\\top(\\alpha\\circ y)`.
    direction : numpy.ndarray or None
        :math:`w_{\\mathrm{svm}}` (``(d,)``) when built from X, None when built from a Gram matrix.
    solution : DualSolution
        The solver's record (separability, method, KKT residual, reason).
    """

    dual: np.ndarray
    coefficients: np.ndarray
    direction: np.ndarray | None
    solution: DualSolution


def validate_labels(y: np.ndarray, n: int) -> np.ndarray:
    y = np.asarray(y, dtype=np.float64)
    if y.shape != (n,) or not np.all(np.abs(y) == 1.0):
        raise UserInputError(f"y must have shape ({n},) with entries +1 or -1, got shape {y.shape}"
                             + ("" if y.shape != (n,) else f" and values {np.unique(y)[:5]}") + ".")
    return y


def linear_svm_from_gram(K: np.ndarray, y: np.ndarray) -> LinearSVM:
    """The linear hard-margin SVM of the raw data, without bias.

    .. math:: \\min_w \\tfrac12\\|w\\|^2 \\ \\text{s.t.}\\ y_i\\langle w, x_i\\rangle \\ge 1.

    .. math:: Q = Y K Y, \\qquad w_{\\mathrm{svm}} = \\sum_i \\alpha_i y_i x_i .

    EXACT (textbook convex duality). ``Q`` has rank ``rank(X) = min(n, d)`` for points in
    general position (``docs/limit_direction.md``).
    """
    K = validate_gram(K, "K")
    y = validate_labels(y, K.shape[0])
    solution = solve_validated_dual(y[:, None] * K * y[None, :])
    return LinearSVM(solution.dual, solution.dual * y, None, solution)


def linear_svm(X: np.ndarray, y: np.ndarray) -> LinearSVM:
    """`linear_svm_from_gram` on ``K = X X^T``, with the direction ``w_svm`` formed in R^d."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise UserInputError(f"X must be an (n, d) matrix, got shape {X.shape}.")
    result = linear_svm_from_gram(X @ X.T, y)
    direction = X.T @ result.coefficients if result.solution.separable else None
    return LinearSVM(result.dual, result.coefficients, direction, result.solution)
