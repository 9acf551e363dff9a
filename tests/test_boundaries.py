"""bounds.boundaries: float64 signal boundaries from the generated closed forms (docs/theory.md §4)."""

import math

import numpy as np
import pytest
import sympy as sp

from bounds import _generated, boundaries, generate, symbolic
from bounds.rates import CANDIDATE_EXPONENTS, candidate_exponent, regime_indicator
from theorybench.errors import UserInputError


def random_values(rng: np.random.Generator) -> dict[str, float]:
    """Covariance functionals and signal over several decades, consistent with Tr Sigma^2 <=
    ||Sigma|| Tr Sigma and mu'Sigma mu <= ||Sigma|| ||mu||^2."""
    sigma_op = 10 ** rng.uniform(-2, 2)
    tr_sigma = sigma_op * 10 ** rng.uniform(0, 4)
    mu_norm = 10 ** rng.uniform(-1, 2)
    return {"n": float(rng.integers(2, 10**4)), "mu_norm": mu_norm, "sigma_op": sigma_op,
            "tr_sigma": tr_sigma, "tr_sigma2": sigma_op * tr_sigma * rng.uniform(0.01, 1),
            "mu_sigma_mu": sigma_op * mu_norm**2 * rng.uniform(0.01, 1)}


def reference_root(quantity: str, level: float, values: dict[str, float]) -> float:
    """The positive root of sympy.solve at the given values, evaluated at 30 digits."""
    definitions = symbolic._definitions()
    known = {**values, "kappa": values["mu_sigma_mu"] / values["mu_norm"] ** 2}
    target = "1" if quantity.startswith("regime") else "level"
    found = []
    for root in generate.signal_roots(quantity, target):
        root = root.subs(definitions["level"], sp.Float(level, 30))
        number = complex(root.subs({s: sp.Float(known[s.name], 30) for s in root.free_symbols}).evalf(30))
        if abs(number.imag) <= 1e-25 * abs(number.real) and number.real > 0:
            found.append(number.real)
    assert len(found) == 1
    return found[0]


@pytest.mark.parametrize("exponent", sorted(CANDIDATE_EXPONENTS))
def test_float64_boundaries_match_the_30_digit_roots(exponent):
    # rel 1e-14: the closed forms take a dozen float64 operations on positive numbers (the + branch:
    # no cancellation), each exact to 1.1e-16; the reference is exact to 1e-30.
    rng = np.random.default_rng(sum(map(ord, exponent)))
    quantity, indicator = CANDIDATE_EXPONENTS[exponent]
    for _ in range(20):
        values = random_values(rng)
        level = float(10 ** rng.uniform(-1, 2))
        phase = boundaries.phase_boundary(values, exponent)
        assert phase.value == pytest.approx(reference_root(indicator, 1.0, values), rel=1e-14)
        benign = boundaries.benign_boundary(values, exponent, level)
        assert benign.value == pytest.approx(reference_root(quantity, level, values), rel=1e-14)
        assert benign.provenance == symbolic.statement(quantity).provenance
        assert phase.provenance == symbolic.statement(indicator).provenance


# Each (kappa, n, level) below makes the minus branch round to a positive number (about 3e-9 to
# 2e-8), found by evaluating bounds._generated.psi__level__root0 on a grid.
@pytest.mark.parametrize("kappa,n,level", [(0.37, 2.0, 0.3), (0.37, 5.0, 1.5), (0.37, 10.0, 10.0),
                                           (0.37, 3.0, 0.7)])
def test_spurious_root_of_the_minus_branch_is_rejected(kappa, n, level):
    # Tr Sigma^2 = 0: psi = ||mu||^2/kappa, so psi = level at ||mu|| = sqrt(level kappa) exactly. The
    # minus branch kappa sqrt(n) - sqrt(kappa^2 n) is 0 exactly but rounds to a tiny positive number
    # for about a quarter of (kappa, n, level); the plug-back test must reject it (otherwise "two
    # roots").
    values = {"n": n, "mu_norm": 2.0, "mu_sigma_mu": 4.0 * kappa, "tr_sigma2": 0.0}
    with np.errstate(all="ignore"):
        spurious = _generated.psi__level__root0(*map(np.float64, (kappa, level, n, 0.0)))
    assert spurious > 0
    found = boundaries.benign_boundary(values, "psi", level)
    # rel 1e-14: sqrt(level kappa) by a dozen float64 operations, each exact to 1.1e-16.
    assert found.value == pytest.approx(math.sqrt(level * kappa), rel=1e-14)


def test_boundaries_plug_back_and_thresholds_wrap_them():
    values = {"n": 40.0, "mu_norm": 3.0, "mu_sigma_mu": 9.0, "tr_sigma": 2000.0,
              "tr_sigma2": 2000.0, "sigma_op": 1.0}
    phase = boundaries.phase_boundary(values)
    # rel 1e-14: sqrt(d/n) for Sigma = I, a square root of a ratio.
    assert phase.value == pytest.approx(math.sqrt(2000 / 40), rel=1e-14)
    assert phase.formula == "sqrt(tr_sigma2)/(sqrt(kappa)*sqrt(n))"
    moved = dict(values, mu_norm=phase.value, mu_sigma_mu=phase.value**2)
    # rel 1e-12: the root is exact to rounding; r is a ratio of float64 numbers.
    assert regime_indicator(moved) == pytest.approx(1.0, rel=1e-12)
    from bounds import thresholds

    wrapped = thresholds.benign_boundary_signal(values, "psi", 0.5)
    assert wrapped.value == boundaries.benign_boundary(values, "psi", 0.5).value
    # The sympy expression of the wrapper is the generated root at level 1/2: 30 digits, rel 1e-14.
    known = {**values, "kappa": 1.0}
    number = float(wrapped.expression.subs({s: known[s.name] for s in wrapped.expression.free_symbols}).evalf(30))
    assert number == pytest.approx(wrapped.value, rel=1e-14)
    assert candidate_exponent("psi", dict(values, mu_norm=wrapped.value,
                                          mu_sigma_mu=wrapped.value**2)) == pytest.approx(0.5, rel=1e-12)


def test_bad_exponent_and_level_are_refused():
    values = {"n": 40.0, "mu_norm": 3.0, "mu_sigma_mu": 9.0, "tr_sigma2": 2000.0}
    with pytest.raises(UserInputError, match="exponent"):
        boundaries.phase_boundary(values, "nonsense")
    for level in (0.0, -1.0, math.inf, math.nan):
        with pytest.raises(UserInputError, match="level"):
            boundaries.benign_boundary(values, "psi", level)


def test_every_boundary_of_the_candidates_is_generated():
    keys = {(indicator, "1") for _, indicator in CANDIDATE_EXPONENTS.values()}
    keys |= {(quantity, "level") for quantity, _ in CANDIDATE_EXPONENTS.values()}
    assert set(_generated.SIGNAL_ROOTS) == keys
