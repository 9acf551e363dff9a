"""The margins after one GD step: the reference (one step in weight space) and its properties.

Quantity ``step_one_margins`` (docs/theory.md §2.5, §3): the (n, m) array
:math:`s_j y_k \\langle x_k, w_j(1)\\rangle`; neuron j is correctly activated on sample k after
step one iff its entry is > 0. The reference performs the step in weight space (EXACT). The
properties: an exact statement equals it; a sufficient condition that holds implies every entry
> 0; an exact statement inherits the invariances of GD (permutation of samples, the sign symmetry
:math:`(y, a) \\to (-y, -a)`, joint rescaling and rotation).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from bounds.catalogue import DeclaredBound, StepInstance
from theorybench import strategies
from theorybench.proptest.contract import applies, finite_value
from theorybench.proptest.model import EPS, Falsified, aim, compare_arrays, householder


def one_step_margins(instance: StepInstance) -> tuple[np.ndarray, np.ndarray]:
    """:math:`s_j y_k \\langle x_k, w_j(1)\\rangle` by performing one GD step in weight space.

    EXACT reference (docs/theory.md §2.5): :math:`W(1) = W(0) + (\\eta/n) D^\\top X` with
    :math:`D_{ij} = \\ell_i(0) y_i a_j \\varphi'(H_{ij}(0))`. Returns the margins and an entrywise
    rounding slack: every entry is a sum of dot products of length at most n + d whose absolute
    terms sum to ``scale``, so float64 evaluation (this one or the Gram form) errs by at most
    :math:`(n + d + 4)\\epsilon` times ``scale``, times :math:`1 + \\max|\\log\\ell|` for the
    rounding of the exponentials; the factor 8 covers both evaluations.
    """
    X, y, a, W0 = instance.X, instance.y, instance.a, instance.W0
    H0 = X @ W0.T
    log_losses = instance.initial_log_losses()
    losses = np.exp(log_losses)
    slope = np.where(H0 > 0, 1.0, instance.gamma)
    D = (losses * y)[:, None] * a[None, :] * slope
    W1 = W0 + (instance.eta / instance.n) * (D.T @ X)
    margins = y[:, None] * np.sign(a)[None, :] * (X @ W1.T)
    absX = np.abs(X)
    scale = absX @ np.abs(W0).T + (instance.eta / instance.n) * (absX @ absX.T) @ np.abs(D) \
        + absX @ np.abs(W1).T
    exponent_factor = 1.0 + float(np.max(np.abs(log_losses)))
    slack = 8.0 * (instance.n + X.shape[1] + 4) * EPS * exponent_factor * scale
    return margins, slack


def near_kink(instance: StepInstance) -> bool:
    """Whether some :math:`H_{ij}(0)` lies within the rounding error of a rotated evaluation of 0.

    :math:`\\varphi'` jumps at 0 (1 for u > 0, gamma otherwise), so the step is discontinuous there:
    a transformation that changes H(0) by rounding (rotation, rescaling) may then legitimately
    change the margins by O(1). A rotated or rescaled length-d dot product errs by at most
    :math:`4(d+2)\\epsilon\\,\\|x_k\\|\\|w_j\\|` (Cauchy–Schwarz bounds the sum of absolute terms
    by the product of norms, whatever the rotation); the factor 4 more covers Q's own rounding.
    """
    d = instance.X.shape[1]
    H0 = instance.X @ instance.W0.T
    norms = np.outer(np.linalg.norm(instance.X, axis=1), np.linalg.norm(instance.W0, axis=1))
    return bool(np.any(np.abs(H0) <= 16.0 * (d + 2) * EPS * norms))


def step_variants(instance: StepInstance, permutation: list[int], scale: float, axis: np.ndarray):
    """Instances with the same step-one margins up to the stated relabelling (EXACT, §2.5).

    Permutation and the sign symmetry leave every H(0) entry bit-identical; rescaling and rotation
    change it by rounding, so they are left out when an entry sits at the kink of phi (`near_kink`).
    Returns ``(label, rows, instance)`` triples: ``rows`` maps the original rows to the variant's.
    """
    perm = np.array(permutation)
    d = instance.X.shape[1]
    Q = householder(axis[:d])
    variants = [
        ("permutation of samples", perm, StepInstance(
            instance.X[perm], instance.y[perm], instance.a, instance.W0, instance.gamma, instance.eta)),
        ("sign symmetry (y, a) -> (-y, -a)", slice(None), StepInstance(
            instance.X, -instance.y, -instance.a, instance.W0, instance.gamma, instance.eta)),
    ]
    if near_kink(instance):
        return variants
    return variants + [
        (f"joint rescaling by s = {scale!r} (X s, W0 / s, eta / s^2)", slice(None),
         StepInstance(instance.X * scale, instance.y, instance.a, instance.W0 / scale,
                      instance.gamma, instance.eta / scale**2)),
        ("rotation (X Q, W0 Q)", slice(None), StepInstance(
            instance.X @ Q, instance.y, instance.a, instance.W0 @ Q, instance.gamma, instance.eta)),
    ]


def equals_property(bound: DeclaredBound, make):
    """An exact statement of the margins equals one GD step performed in weight space."""
    def check(instance: StepInstance) -> bool:
        if not applies(bound, instance):
            return False
        margins, slack = one_step_margins(instance)
        # Towards margins just above or below 0, where the activation pattern is decided.
        aim(-float(np.min(np.abs(margins) / (1.0 + slack))), "-min |margin|")
        compare_arrays("step-one margins vs one weight-space GD step",
                       finite_value(bound, instance), margins, slack)
        return True

    return make(bound, "equals_exact", "equals the margins after one GD step performed in weight "
                "space", check, strategies.step_instances())


def sufficient_property(bound: DeclaredBound, make):
    """A sufficient condition that holds implies every neuron correctly activated after the step."""
    def check(instance: StepInstance) -> bool:
        if not applies(bound, instance):
            return False
        value = float(finite_value(bound, instance))
        margins, slack = one_step_margins(instance)
        # Towards the condition at equality: a wrong condition fails first where it barely holds.
        aim(-abs(value), "-|condition margin|")
        # The condition's own value is a sum of the same kind of terms as the margins.
        if not value > float(np.max(slack)):
            # The condition does not hold (or not beyond rounding): the statement says nothing
            # here, so the example is replaced rather than counted as a confirmation.
            return False
        if np.any(margins < -slack):
            k, j = np.unravel_index(int(np.argmin(margins + slack)), margins.shape)
            raise Falsified(
                f"the condition holds (margin {value:.6g} > 0) but neuron {j} is not correctly "
                f"activated on sample {k} after one step: s_j y_k <x_k, w_j(1)> = "
                f"{float(margins[k, j])!r}")
        return True

    return make(bound, "sufficient_implies_activation", "the condition implies every neuron "
                "correctly activated after one GD step", check, strategies.step_instances())


@st.composite
def _step_with_transforms(draw):
    instance = draw(strategies.step_instances())
    permutation = draw(st.permutations(list(range(instance.n))))
    scale = draw(strategies.log_uniform(0.1, 10.0))
    axis = draw(strategies.vectors(instance.X.shape[1], 1.0))
    return instance, permutation, scale, axis


def invariance_property(bound: DeclaredBound, make):
    """An exact statement of the margins inherits the invariances of GD (`step_variants`)."""
    def check(drawn) -> bool:
        instance, permutation, scale, axis = drawn
        if not applies(bound, instance):
            return False
        value = np.asarray(finite_value(bound, instance), dtype=np.float64)
        _, slack = one_step_margins(instance)
        for label, rows, other in step_variants(instance, permutation, scale, axis):
            moved = np.asarray(finite_value(bound, other), dtype=np.float64)
            _, other_slack = one_step_margins(other)
            # Two independent evaluations, each within its own rounding slack of the truth;
            # the rotation adds a length-d product to X and W0 (covered by the factor 2).
            compare_arrays(f"margins under {label}", value[rows], moved,
                           2.0 * (slack[rows] + other_slack))
        return True

    return make(bound, "invariances", "equivariant under permutation of samples; invariant "
                "under (y, a) -> (-y, -a), joint rescaling and rotation", check,
                _step_with_transforms())
