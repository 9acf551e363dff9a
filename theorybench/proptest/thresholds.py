"""Library property: a solved threshold is where its condition switches (docs/theory.md §3–§6).

`bounds.thresholds` solves the encoded conditions of `bounds.symbolic` with sympy. The claims are
checked by evaluating the *condition itself* (``Statement.holds``, float64) on both sides of the
answer, never by re-solving:

- `solve_threshold(name, x, values)`: the condition holds at :math:`x(1 + \\delta)` and fails at
  :math:`x(1 - \\delta)` when it is said to hold above (and the reverse below), for every
  condition of `bounds.symbolic` and each of its non-constant symbols;
- `smallest_dimension(name, values)`: the condition holds at d and fails at d - 1 (isotropic);
- `phase_boundary_signal` / `benign_boundary_signal`: the regime indicator (resp. the exponent)
  evaluated at the returned :math:`\\|\\mu\\|` equals 1 (resp. the level).

:math:`\\delta = 10^{-6}`: the threshold is solved at 30 digits and rounded once (relative
:math:`10^{-16}`), the condition's sides are products of powers (exponents between 1/4 and 4)
evaluated in float64 to a few dozen ulps, so each side moves by at least :math:`\\delta/4`
relative across the threshold, ten orders of magnitude above the rounding.
"""

from __future__ import annotations

import math

from hypothesis import strategies as st

from bounds import symbolic, thresholds
from bounds.rates import CANDIDATE_EXPONENTS
from theorybench import strategies
from theorybench.errors import UserInputError
from theorybench.proptest.model import EPS, Falsified, Property

DELTA = 1e-6
# Relative agreement of a quantity evaluated at its solved level: the root is exact to 30 digits,
# rounded once (its relative error moves a product of powers of degree <= 4 by <= 4 ulps); the
# float64 evaluation of a rational expression of a few dozen operations adds at most 64 ulps.
LEVEL_TOLERANCE = 256 * EPS


def _conditions() -> list[str]:
    return sorted(name for name, s in symbolic.STATEMENTS.items() if s.is_condition)


@st.composite
def _values(draw, names) -> dict[str, float]:
    """Positive values for symbols: integers for counts, (0, 1) for gamma and delta, log-uniform
    over nine orders of magnitude otherwise, constants in [1/4, 4]."""
    values: dict[str, float] = {}
    for name in sorted(names):
        if name in ("n", "m"):
            values[name] = float(draw(st.integers(2, 10_000)))
        elif name in ("gamma", "delta", "flip", "loss_1"):
            values[name] = draw(strategies.log_uniform(1e-6, 0.95))
        elif name.startswith(("C", "c_")):
            values[name] = draw(strategies.log_uniform(0.25, 4.0))
        else:
            values[name] = draw(strategies.log_uniform(1e-3, 1e6))
    if "m_pos" in values:
        values["m_pos"] = float(draw(st.integers(0, int(values.get("m", 2)))))
    return values


@st.composite
def _threshold_cases(draw):
    name = draw(st.sampled_from(_conditions()))
    statement = symbolic.statement(name)
    symbols = [s.name for s in statement.symbols]
    variables = [s for s in symbols if not s.startswith(("C", "c_")) and s != "m_pos"]
    variable = draw(st.sampled_from(variables))
    return name, variable, draw(_values(symbols))


def _holds(statement, values: dict[str, float], variable: str, value: float) -> bool:
    return bool(statement.holds({**values, variable: value}))


def threshold_property() -> Property:
    def check(drawn) -> bool:
        name, variable, values = drawn
        try:
            threshold = thresholds.solve_threshold(name, variable, values)
        except (UserInputError, ValueError):
            return False  # no single positive switching value here (bounded interval, no root)
        value = threshold.value
        if not (math.isfinite(value) and value > 0):
            return False
        statement = symbolic.statement(name)
        above, below = value * (1 + DELTA), value * (1 - DELTA)
        sides = [statement.evaluate({**values, variable: x}) for x in (above, below)]
        if any(math.isnan(part) for side in sides for part in side):
            # A side leaves the statement's real domain (log n < 0 below a threshold n ~ 1, which
            # no count reaches): the condition says nothing there.
            return False
        expected_above = threshold.holds_above
        if _holds(statement, values, variable, above) != expected_above or \
                _holds(statement, values, variable, below) == expected_above:
            raise Falsified(f"{name}: solve_threshold says it holds {'above' if expected_above else 'below'} "
                            f"{variable} = {value!r}, but at {variable} = {above!r} it "
                            f"{'holds' if _holds(statement, values, variable, above) else 'fails'} and "
                            f"at {below!r} it {'holds' if _holds(statement, values, variable, below) else 'fails'}")
        return True

    return Property("library", "threshold_switches", "EXACT", "§3",
                    "a threshold solved by bounds.thresholds is where its condition switches, on "
                    "the side it names", _threshold_cases(), check)


@st.composite
def _dimension_cases(draw):
    names = [n for n in _conditions() if "d" in {s.name for s in symbolic.statement(n).symbols}]
    name = draw(st.sampled_from(names))
    # d and the covariance functionals come from `thresholds.isotropic_values`.
    symbols = {s.name for s in symbolic.statement(name).symbols} | {"mu_norm"}
    values = draw(_values(symbols - {"d", "tr_sigma", "tr_sigma2", "sigma_op", "mu_sigma_mu"}))
    return name, values


def smallest_dimension_property() -> Property:
    def check(drawn) -> bool:
        name, values = drawn
        try:
            threshold = thresholds.smallest_dimension(name, values)
        except (UserInputError, ValueError):
            return False
        d = int(threshold.value)
        statement = symbolic.statement(name)
        holds = statement.holds(thresholds.isotropic_values(values, d))
        if not holds or (d > 1 and statement.holds(thresholds.isotropic_values(values, d - 1))):
            raise Falsified(f"{name}: smallest_dimension = {d}, but the condition "
                            f"{'fails' if not holds else 'already holds at d - 1'}")
        return True

    return Property("library", "smallest_dimension", "EXACT", "§5",
                    "the smallest dimension satisfies the condition and the one below does not",
                    _dimension_cases(), check)


@st.composite
def _boundary_cases(draw):
    exponent = draw(st.sampled_from(sorted(CANDIDATE_EXPONENTS)))
    values = draw(_values({"n", "mu_norm", "tr_sigma", "tr_sigma2", "sigma_op"}))
    # mu' Sigma mu = kappa ||mu||^2 with kappa between the smallest and largest eigenvalue.
    values["mu_sigma_mu"] = draw(strategies.log_uniform(1e-3, 1.0)) * values["sigma_op"] \
        * values["mu_norm"] ** 2
    level = draw(strategies.log_uniform(1e-3, 1e3))
    return exponent, values, level


def boundary_property() -> Property:
    def check(drawn) -> bool:
        exponent, values, level = drawn
        kappa = values["mu_sigma_mu"] / values["mu_norm"] ** 2
        quantity, indicator = CANDIDATE_EXPONENTS[exponent]
        for label, threshold, name, target in (
                ("phase boundary", thresholds.phase_boundary_signal(values, exponent), indicator, 1.0),
                ("benign boundary", thresholds.benign_boundary_signal(values, exponent, level),
                 quantity, level)):
            mu = threshold.value
            at = {**values, "mu_norm": mu, "mu_sigma_mu": kappa * mu * mu}
            reached = float(symbolic.statement(name).evaluate(at))
            if abs(reached - target) > LEVEL_TOLERANCE * target:
                raise Falsified(f"{label} of {exponent}: at ||mu|| = {mu!r}, {name} = {reached!r}, "
                                f"not {target!r}")
        return True

    return Property("library", "signal_boundaries", "EXACT", "§4",
                    "the phase and benign boundaries in ||mu|| are where the indicator is 1 and "
                    "the exponent reaches the level", _boundary_cases(), check)
