"""Library property: the limit-direction certificate accepts a dual vector exactly when it is right.

`bounds.limit_direction.certify` decides whether a dual vector :math:`\\lambda` gives the limit
direction (docs/theory.md §2.2): dual feasibility, margins :math:`y_i f(x_i;\\hat W) \\ge 1`,
complementary slackness, strong duality and the self-consistent activation pattern. Testing it
only on the solver's own answers is self-referential (a certificate that accepts everything
passes). Here it is handed the solver's :math:`\\lambda`, perturbed ones (scaled, one
coordinate moved, one support vector dropped) and duals built to break one KKT condition only
(the solution without one point: only that point's margin is wrong; the support plus one point
forced onto the margin: only dual feasibility is wrong; `_one_condition_wrong`), and its verdict
is compared with the same checks written independently in weight space,
:math:`\\hat w_j = a_j\\sum_i\\lambda_i c_{ij} y_i x_i` through the real leaky ReLU. Where the
independent residual is clearly below the tolerance (by a factor 10) the certificate must accept;
clearly above (by a factor 10), refuse; in between the verdict is not decided by the statement
and only the refusal's reason is required.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from bounds.limit_direction import certify, lifted_gram, limit_direction
from theorybench import strategies
from theorybench.proptest.model import EPS, Falsified, Property

# A verdict is decided only when the independent residual is this factor away from the tolerance.
MARGIN_FACTOR = 10.0


def weight_space_residual(X, y, a, gamma, lam) -> tuple[float, bool]:
    """The KKT residual and duality gap of ``lam`` (the larger), and whether the pattern holds,
    recomputed in weight space from the definitions of docs/theory.md §2.2."""
    sign = np.sign(a)
    c = np.where(sign[None, :] == y[:, None], 1.0, gamma)
    W = ((lam * y)[:, None] * c * a[None, :]).T @ X          # w_j = a_j sum_i lam_i c_ij y_i x_i
    H = X @ W.T
    margins = y * (np.where(H > 0, H, gamma * H) @ a)
    scale = float(np.max(np.abs(lam)))
    infeasible = float(np.max(np.maximum(-lam, 0.0))) / scale
    violation = max(1.0 - float(margins.min()), 0.0)
    slackness = float(np.max(np.maximum(lam, 0.0) * np.abs(margins - 1.0))) / scale
    total = float(lam.sum())
    gap = abs(float(np.sum(W * W)) - total) / abs(total) if total != 0 else np.inf
    pattern = bool(np.all(sign[None, :] * y[:, None] * H > 0))
    return max(infeasible, violation, slackness, gap), pattern


@st.composite
def _perturbed_duals(draw, kinds):
    instance = draw(strategies.step_instances())
    kind = draw(st.sampled_from(kinds))
    size = draw(strategies.log_uniform(1e-12, 0.5)) * draw(st.sampled_from((1.0, -1.0)))
    index = draw(st.integers(0, instance.n - 1))
    return instance, kind, size, index


def _one_condition_wrong(instance, lam, kind, index):
    """Duals built to break one KKT condition and keep the others (None when none can be built).

    ``without``: the solution of the problem without a support point (set to 0 there); margins,
    complementary slackness, strong duality and, typically, the pattern hold, and only the margin
    of the left-out point may be below 1. ``forced``: the support of the solution plus point
    off the margin put on it, :math:`Q_{SS}\\lambda_S = 1`; every point of S then has margin
    exactly 1 (slackness and strong duality hold), and the forced point typically needs a
    negative :math:`\\lambda`, so only dual feasibility fails (or also a margin elsewhere).
    """
    X, y, a, gamma = instance.X, instance.y, instance.a, instance.gamma
    support = lam > 1e-9 * float(np.max(lam))
    # ``index`` picks among the points where the construction changes something: a support
    # point to leave out, a point off the margin to force onto it.
    candidates = np.flatnonzero(support if kind == "without" else ~support)
    if candidates.size == 0:
        return None
    chosen = int(candidates[index % candidates.size])
    out = np.zeros_like(lam)
    if kind == "without":
        keep = np.arange(instance.n) != chosen
        reduced = limit_direction(X[keep], y[keep], a, gamma)
        if not np.all(np.isfinite(reduced.dual)):
            return None
        out[keep] = reduced.dual
        return out
    support[chosen] = True
    Q = lifted_gram(X @ X.T, y, a, gamma)[np.ix_(support, support)]
    eigenvalues = np.linalg.eigvalsh(Q)
    if not eigenvalues[0] > 1e-8 * eigenvalues[-1]:
        return None  # singular: the forced system has no unique solution
    out[support] = np.linalg.solve(Q, np.ones(int(support.sum())))
    return out


def _check(drawn) -> bool:
    instance, kind, size, index = drawn
    result = limit_direction(instance.X, instance.y, instance.a, instance.gamma)
    lam = np.array(result.dual, dtype=np.float64)
    if not np.all(np.isfinite(lam)) or not np.any(lam > 0):
        return False  # not separable: no dual to perturb
    if kind == "scaled":
        lam = lam * (1.0 + size)
    elif kind == "moved":
        lam[index] += size * float(np.max(lam))
    elif kind == "dropped":
        lam[int(np.argmax(lam))] = 0.0
    elif kind in ("without", "forced"):
        lam = _one_condition_wrong(instance, lam, kind, index)
        if lam is None:
            return False
    if not np.any(lam != 0):
        return False
    X, y, a, gamma = instance.X, instance.y, instance.a, instance.gamma
    certificate = certify(X @ X.T, y, a, gamma, lam)
    residual, pattern = weight_space_residual(X, y, a, gamma, lam)
    # Rounding of the Gram form against the weight form: length-(n + d) sums of terms of size
    # |X||W|, relative (n + d + 8) eps times the condition of the margins; 1e3 (n + d) eps
    # is far below the tolerance 1e-9 (d <= 60 here).
    rounding = 1e3 * (X.shape[0] + X.shape[1]) * EPS
    tolerance = certificate.tolerance
    clearly_right = pattern and residual + rounding < tolerance / MARGIN_FACTOR
    clearly_wrong = residual - rounding > tolerance * MARGIN_FACTOR
    if certificate.ok and (clearly_wrong or not pattern):
        raise Falsified(f"certify accepted a {kind} dual (size {size!r}) whose weight-space "
                        f"residual is {residual:.3g} (tolerance {tolerance:.3g}), pattern "
                        f"{'holds' if pattern else 'fails'}")
    if not certificate.ok and clearly_right:
        raise Falsified(f"certify refused a {kind} dual whose weight-space residual is "
                        f"{residual:.3g} < tolerance {tolerance:.3g}/{MARGIN_FACTOR:g} with the "
                        f"pattern holding: {certificate.reason}")
    if not certificate.ok and not certificate.reason:
        raise Falsified("a refused certificate must say why")
    return True


def certificate_properties() -> list[Property]:
    """``certificate_decides`` (the solver's dual and perturbed ones) and ``certificate_one_condition``
    (duals wrong in one KKT condition only, `_one_condition_wrong`)."""
    return [
        Property("library", "certificate_decides", "EXACT", "§2.2",
                 "the limit-direction certificate accepts the solver's and perturbed duals "
                 "exactly when the weight-space KKT checks pass (clear cases)",
                 _perturbed_duals(("solver", "scaled", "moved", "dropped")), _check),
        Property("library", "certificate_one_condition", "EXACT", "§2.2",
                 "the certificate refuses duals wrong in one KKT condition only (a left-out support "
                 "point's margin, a negative coordinate) exactly when the weight-space checks do",
                 _perturbed_duals(("without", "forced")), _check),
    ]
