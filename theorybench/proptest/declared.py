"""The properties of one declared bound, chosen by its kind and quantity (docs/proptest.md).

Every bound gets ``finite`` (no bare 0, inf or nan where it applies) and, with a ``reference``,
``mpmath`` (the float64 value against the same formula at escalating precision). The rest comes
from the module of its quantity: `theorybench.proptest.direction` (ordering against the exact
error, invariances), `theorybench.proptest.step` (one GD step performed in weight space) and
`theorybench.proptest.rates` (monotonicity, rotation, the same law written differently).
"""

from __future__ import annotations

import mpmath
from hypothesis import strategies as st

from bounds.catalogue import DeclaredBound, DirectionInstance
from theorybench import strategies
from theorybench.proptest import direction, rates, step
from theorybench.proptest.contract import applies, call, finite_value
from theorybench.proptest.model import EPS, REFERENCE_DIGITS, Falsified, Property, converged_reference


def strategy_for(bound: DeclaredBound) -> st.SearchStrategy:
    """The instances of the bound's quantity, bulk and tails."""
    if bound.quantity == "log_error_of_direction":
        return direction.direction_strategy()
    if bound.quantity == "step_one_margins":
        return strategies.step_instances()
    return strategies.any_rate_instances()


def make(bound: DeclaredBound, name: str, description: str, check, strategy=None) -> Property:
    """A property of ``bound`` (on the instances of its quantity unless ``strategy`` is given)."""
    return Property(bound.name, name, bound.provenance, bound.section, description,
                    strategy if strategy is not None else strategy_for(bound), check)


def finite_property(bound: DeclaredBound) -> Property:
    def check(instance) -> bool:
        if not applies(bound, instance):
            return False
        finite_value(bound, instance)
        return True

    return make(bound, "finite", "finite value wherever the statement applies", check)


def _direction_reference_slack(bound: DeclaredBound, instance: DirectionInstance,
                               value: float, truth: float) -> float:
    """How far the bound may legitimately move when x = t/s moves by its float64 rounding.

    The bound's own sensitivity, measured on its reference: mu scaled by 1 ± r (r the relative
    rounding of x, `direction.direction_relative_error`) scales x by exactly that, and the
    reference's change there, doubled, covers the float64 evaluation of x; 16 ulps of the value
    cover the final operations. (The universal slack of the ordering properties, which allows the
    x^2 sensitivity of log Phi(-x), would hide any error below 1e286 at x = 1e150.)
    """
    r = direction.direction_relative_error(instance)
    moved = []
    for factor in (1.0 + r, 1.0 - r):
        other = DirectionInstance(instance.w, instance.mu * factor, instance.sqrt_sigma,
                                  instance.noise)
        with mpmath.workdps(REFERENCE_DIGITS[0]):
            moved.append(float(call(bound, "reference", other, mpmath.mp)))
    sensitivity = max(abs(m - truth) for m in moved)
    return 2.0 * sensitivity + 16 * EPS * max(1.0, abs(value), abs(truth))


def reference_property(bound: DeclaredBound) -> Property:
    def check(instance) -> bool:
        if not applies(bound, instance):
            return False
        value = float(finite_value(bound, instance))
        truth = converged_reference(lambda: call(bound, "reference", instance, mpmath.mp))
        if isinstance(instance, DirectionInstance):
            slack = _direction_reference_slack(bound, instance, value, truth)
        else:
            slack = rates.rate_slack(value, truth)
        if abs(value - truth) > slack:
            raise Falsified(f"float64 value {value!r} vs mpmath {truth!r}: difference "
                            f"{abs(value - truth):.3g} exceeds the rounding slack {slack:.3g}")
        return True

    return make(bound, "mpmath", f"float64 value against its mpmath reference at "
                f"{REFERENCE_DIGITS[0]} and {REFERENCE_DIGITS[1]} digits", check)


def bound_properties(bound: DeclaredBound) -> list[Property]:
    """Every property that applies to ``bound`` (see the module docstring)."""
    properties = [finite_property(bound)]
    if bound.quantity == "log_error_of_direction" and bound.kind in ("upper", "lower", "exact"):
        properties.append(direction.ordering_property(bound, make))
    if bound.quantity == "step_one_margins" and bound.kind == "exact":
        properties.append(step.equals_property(bound, make))
    if bound.quantity == "step_one_margins" and bound.kind == "sufficient":
        properties.append(step.sufficient_property(bound, make))
    if bound.reference is not None:
        properties.append(reference_property(bound))
    for parameter, monotone_direction in bound.monotone.items():
        properties.append(rates.monotone_property(bound, parameter, monotone_direction, make))
    if bound.quantity == "log_error_rate" and "rotation" in bound.symmetries:
        properties.append(rates.rotation_property(bound, make))
    if bound.quantity == "log_error_rate":
        properties.append(rates.restatement_property(bound, make))
    if bound.quantity == "log_error_of_direction" and bound.kind == "exact":
        properties.append(direction.symmetry_property(bound, make))
    if bound.quantity == "step_one_margins" and bound.kind == "exact":
        properties.append(step.invariance_property(bound, make))
    return properties
