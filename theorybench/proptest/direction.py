"""The error of a direction: its exact references and the properties that confront bounds with them.

Quantity ``log_error_of_direction`` (docs/theory.md §2.4): :math:`\\log P(y\\langle w, x\\rangle
\\le 0)` for :math:`x = y\\mu + S\\xi`, equal to :math:`\\log P(\\langle b, \\xi\\rangle \\le -t)`
with :math:`t = \\langle w, \\mu\\rangle`, :math:`b = Sw`, :math:`s = \\|b\\|`. The references
(EXACT): ``log_ndtr(-t/s)`` for Gaussian noise, enumeration of the :math:`2^d` sign vectors for
Rademacher noise. The properties: ordering of upper / lower / exact statements against the
reference, and the invariances the quantity has (sign symmetry, rotation of isotropic Gaussian
data, joint scaling :math:`(\\mu, \\Sigma) \\to (c\\mu, c^2\\Sigma)` and :math:`w \\to cw`), which
exact statements must inherit.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from hypothesis import strategies as st
from scipy.special import log_ndtr

from bounds.catalogue import DeclaredBound, DirectionInstance
from theorybench import strategies
from theorybench.proptest.contract import applies, finite_value
from theorybench.proptest.model import EPS, Falsified, Property, aim, householder

# Rademacher enumeration of 2^d sign vectors is exact and cheap up to this dimension.
MAX_ENUMERATION_DIMENSION = 16


def direction_relative_error(instance: DirectionInstance) -> float:
    """A bound on the relative rounding error of :math:`x = t/s` as computed in float64.

    :math:`t = \\langle w, \\mu\\rangle` and :math:`b = Sw` are dot products of length d, each
    accurate to :math:`d\\,\\epsilon` times :math:`\\sum_i |w_i\\mu_i|` (resp. :math:`(|S||w|)_k`),
    i.e. relatively to :math:`d\\epsilon\\kappa` with the condition numbers below; the norm and the
    division add a few ulps. The factor 4(d + 2) covers both and the unit-roundoff convention.
    """
    w, mu = instance.w, instance.mu
    kappa_t = float(np.abs(w) @ np.abs(mu)) / abs(instance.t)
    b = instance.b
    kappa_b = float(np.linalg.norm(np.abs(instance.sqrt_sigma) @ np.abs(w))) / float(np.linalg.norm(b))
    # s may also be formed as sqrt(w' Sigma w) with Sigma = S S rounded: relative error
    # d eps |w|'|S||S||w| / s^2 = d eps kappa_b^2 (for s^2; half of it for s).
    return 4.0 * (instance.d + 2) * EPS * (kappa_t + kappa_b + kappa_b**2 + 1.0)


def direction_slack(instance: DirectionInstance, *log_values: float) -> float:
    """Absolute slack for comparing log-probabilities of a direction instance.

    Functions of :math:`x` here (``log Phi(-x)``, the §2.4 bounds) have
    :math:`|d\\log F/d\\log x| \\le x^2 + |x| + 2(1 + |\\log F|)` (for ``log Phi(-x)``,
    :math:`x\\varphi(x)/\\Phi(-x) \\le x^2 + x`; for the bounds, at most 4 or :math:`2|\\log F|`),
    so a relative error r of x moves them by at most that times r; 16 ulps of the value cover the
    final additions.
    """
    x = abs(instance.t) / instance.s
    magnitude = max([1.0] + [abs(v) for v in log_values if math.isfinite(v)])
    return (x * x + x + 2.0 * (1.0 + magnitude)) * direction_relative_error(instance) + 16 * EPS * magnitude


def rademacher_log_error_interval(instance: DirectionInstance) -> tuple[float, float]:
    """Exact :math:`\\log P(\\langle b, \\xi\\rangle \\le -t)` for Rademacher :math:`\\xi`, as an interval.

    EXACT: the :math:`2^d` sign vectors are equally likely. A sign vector whose sum lies within
    the rounding bound of :math:`-t` (``tie``) could fall either way, so the result is the interval
    between counting none and all of them (log 0 = -inf: the error is exactly 0).
    """
    d = instance.d
    signs = np.array(list(itertools.product((1.0, -1.0), repeat=d)))
    b, t = instance.b, instance.t
    sums = signs @ b
    # Rounding of the sums (length-d dot products) plus that of b and t themselves.
    loading = np.abs(instance.sqrt_sigma) @ np.abs(instance.w)
    tie = 4.0 * (d + 2) * EPS * (float(np.sum(loading)) + float(np.abs(instance.w) @ np.abs(instance.mu)))
    low = int(np.count_nonzero(sums < -t - tie))
    high = int(np.count_nonzero(sums <= -t + tie))
    total = d * math.log(2.0)
    return (math.log(low) - total if low else -math.inf,
            math.log(high) - total if high else -math.inf)


def gaussian_log_error(instance: DirectionInstance) -> float:
    """:math:`\\log\\Phi(-t/s)` with :math:`s = \\|Sw\\|` (EXACT, docs/theory.md §2.4): the
    reference, computed independently of `bounds.error_functionals` (which forms
    :math:`w^\\top\\Sigma w`)."""
    return float(log_ndtr(-instance.t / instance.s))


def exact_log_error_interval(instance: DirectionInstance) -> tuple[float, float] | None:
    """The exact log error of the direction as an interval, or None where none is computable."""
    if instance.noise == "gaussian":
        if instance.s == 0.0:
            return None
        value = gaussian_log_error(instance)
        slack = direction_slack(instance, value)
        return value - slack, value + slack
    if instance.noise == "rademacher" and instance.d <= MAX_ENUMERATION_DIMENSION:
        return rademacher_log_error_interval(instance)
    return None


def direction_strategy() -> st.SearchStrategy[DirectionInstance]:
    """Bulk instances and tail instances (`strategies.tail_direction_instances`), mixed."""
    return st.one_of(strategies.direction_instances(), strategies.tail_direction_instances())


def _target_tails(instance: DirectionInstance, value: float) -> None:
    # Push the search towards the far tail (large x = t/s, log errors beyond float64's exp range)
    # and towards t just above 0, where the §2.4 bounds switch from "not applicable" to finite.
    x = instance.t / instance.s if instance.s > 0 else 0.0
    if x > 0:
        aim(math.log10(x), "log10 x")
        aim(-math.log10(x), "-log10 x")
    aim(-value, "-log value")


def ordering_property(bound: DeclaredBound, make) -> Property:
    """``upper`` statements above the exact error, ``lower`` below, ``exact`` equal to it."""
    def check(instance: DirectionInstance) -> bool:
        if not applies(bound, instance):
            return False
        exact = exact_log_error_interval(instance)
        if exact is None:
            return False
        value = float(finite_value(bound, instance))
        _target_tails(instance, value)
        low, high = exact
        slack = direction_slack(instance, value, low, high)
        if bound.kind in ("upper", "exact") and value < low - slack:
            raise Falsified(f"log bound {value!r} < exact log error {low!r} "
                            f"(rounding slack {slack:.3g}); the bound is below the error")
        if bound.kind in ("lower", "exact") and value > high + slack:
            raise Falsified(f"log bound {value!r} > exact log error {high!r} "
                            f"(rounding slack {slack:.3g}); the bound is above the error")
        return True

    name = {"upper": "upper_bounds_exact", "lower": "lower_bounds_exact",
            "exact": "equals_exact"}[bound.kind]
    return make(bound, name, f"{bound.kind} statement against the exact error "
                "(Gaussian: log_ndtr; Rademacher: 2^d enumeration)", check, direction_strategy())


@st.composite
def _direction_with_transforms(draw):
    instance = draw(direction_strategy())
    # The reflection axis has the largest dimension the strategies draw; a prefix is used.
    axis = draw(strategies.nonzero_vectors(strategies.MAX_DIRECTION_DIMENSION))
    # Joint scales over hundreds of orders of magnitude, capped so that t, s and s^2 stay normal
    # float64 numbers (an instance whose norms are not representable says nothing of the theory).
    scale = draw(strategies.log_uniform(1e-100, 1e100))
    return instance, axis, scale


def _representable(instance: DirectionInstance) -> bool:
    # A scaled instance whose t, s or entries (or their squares: Sigma = S^2 is formed) leave
    # float64's normal range says nothing of the theory (found by the thorough profile: S = 1e-156 I
    # has a subnormal Sigma); a norm may overflow to inf on the way, which is the answer.
    with np.errstate(over="ignore", under="ignore"):
        values = [abs(instance.t), instance.s]
        for array in (instance.w, instance.mu, instance.sqrt_sigma):
            magnitudes = np.abs(array[array != 0])
            if magnitudes.size:
                values += [float(magnitudes.min()), float(magnitudes.max())]
    return all(1e-150 < v < 1e150 for v in values)


def symmetry_property(bound: DeclaredBound, make) -> Property:
    """Invariances of the quantity, inherited by an exact statement (EXACT, docs/theory.md §2.4).

    :math:`(w, \\mu) \\to (-w, -\\mu)` (the noise is symmetric); :math:`(\\mu, S) \\to (c\\mu, cS)`
    and :math:`w \\to cw` for c > 0 (t and s scale together, so x = t/s is unchanged); and, for
    isotropic Gaussian noise, :math:`(w, \\mu) \\to (Qw, Q\\mu)` for an orthogonal Q.
    """
    def check(drawn) -> bool:
        instance, axis, scale = drawn
        flipped = DirectionInstance(-instance.w, -instance.mu, instance.sqrt_sigma, instance.noise)
        candidates = [("(w, mu) -> (-w, -mu)", flipped)]
        data_scaled = DirectionInstance(instance.w, scale * instance.mu, scale * instance.sqrt_sigma,
                                        instance.noise)
        direction_scaled = DirectionInstance(scale * instance.w, instance.mu, instance.sqrt_sigma,
                                             instance.noise)
        for label, other in ((f"(mu, S) -> (c mu, c S), c = {scale!r}", data_scaled),
                             (f"w -> c w, c = {scale!r}", direction_scaled)):
            if _representable(other):
                candidates.append((label, other))
        if instance.noise == "gaussian" and np.array_equal(instance.sqrt_sigma, np.eye(instance.d)):
            Q = householder(axis[: instance.d])
            candidates.append(("rotation (w, mu) -> (Qw, Q mu)",
                               DirectionInstance(Q @ instance.w, Q @ instance.mu, instance.sqrt_sigma,
                                                 instance.noise)))
        if not applies(bound, instance):
            return False
        value = float(finite_value(bound, instance))
        # A rotated <Qw, Q mu> errs by at most 16 (d + 2) eps ||w|| ||mu|| (Cauchy-Schwarz, as in
        # `near_kink`); a t that small may change sign under the rotation by rounding alone, so a
        # statement whose hypothesis is t > 0 may then legitimately stop applying.
        t_undecided = abs(instance.t) <= 16.0 * (instance.d + 2) * EPS \
            * float(np.linalg.norm(instance.w) * np.linalg.norm(instance.mu))
        for label, other in candidates:
            if not applies(bound, other):
                if t_undecided and label.startswith("rotation"):
                    continue
                raise Falsified(f"the statement applies to the instance but not after {label}")
            moved = float(finite_value(bound, other))
            # Both instances carry their own rounding of x = t/s (Q adds d ulps per coordinate;
            # a scaling by c multiplies exactly in the exponent and rounds each entry once).
            slack = direction_slack(instance, value, moved) + direction_slack(other, value, moved)
            if abs(moved - value) > slack:
                raise Falsified(f"value {value!r} changed to {moved!r} under {label}")
        return True

    return make(bound, "symmetric", "invariant under (w, mu) -> (-w, -mu), joint scaling of "
                "(mu, S) and of w, and, for isotropic Gaussian noise, rotations", check,
                _direction_with_transforms())
