"""bounds.symbolic and bounds.thresholds: formulas, fallbacks, critical constants, thresholds."""

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy.special import log_ndtr

from bounds import symbolic, thresholds
from bounds.rates import candidate_exponent, parameter_values, regime_indicator
from theorybench.config import Config, CovarianceConfig, DataConfig
from theorybench.errors import UserInputError

CONSTANTS = {name: 1.0 for name in symbolic.CONSTANT_NAMES}


def default_values(**changes):
    values = {**parameter_values(Config()), **CONSTANTS, "moment_order": 4.0}
    values.update(changes)
    return values


def isotropic(n, d, mu):
    return default_values(n=float(n), d=float(d), tr_sigma=float(d), tr_sigma2=float(d),
                          sigma_op=1.0, mu_norm=float(mu), mu_sigma_mu=float(mu) ** 2)


def test_psi_isotropic_matches_the_hand_formula():
    # docs/theory.md §4 for Sigma = I: psi = psi_alt = n||mu||^4 / (n||mu||^2 + d). Rel 1e-14: a handful
    # of float64 operations on both sides, each exact to 1.1e-16.
    for n, d, mu in [(40, 2000, 3.0), (10, 10**5, 0.5), (200, 50, 8.0)]:
        values = isotropic(n, d, mu)
        expected = n * mu**4 / (n * mu**2 + d)
        assert candidate_exponent("psi", values) == pytest.approx(expected, rel=1e-14)
        assert candidate_exponent("psi_alt", values) == pytest.approx(expected, rel=1e-14)
        assert regime_indicator(values) == pytest.approx(n * mu**2 / d, rel=1e-14)


def test_candidate_exponents_differ_for_anisotropic_covariance():
    data = DataConfig(covariance=CovarianceConfig(family="power_law", alpha=1.0))
    values = parameter_values(Config(data=data))
    psi, alt = candidate_exponent("psi", values), candidate_exponent("psi_alt", values)
    # For a power law ||Sigma|| Tr Sigma >> Tr Sigma^2, so the two readings differ by a large factor.
    assert psi / alt > 2.0
    with pytest.raises(UserInputError, match="exponent"):
        candidate_exponent("nonsense", values)


def test_mpmath_fallback_keeps_underflowing_logs_finite():
    # log(p + exp(-x)) with p = 0 and x = ||mu||^4/d = 10^6: float64 gives log(0) = -inf; the
    # 50-digit fallback returns -x, which is exact in float64 to one rounding (rel 1e-15).
    values = isotropic(40, 100, 100.0)
    value = symbolic.statement("log_chatterji_long").evaluate(values)
    assert value == pytest.approx(-(100.0**4) / 100, rel=1e-15)
    # With label noise p the bound is p + tiny: its log is log p to double precision.
    noisy = dict(values, flip=0.1)
    assert symbolic.statement("log_chatterji_long").evaluate(noisy) == pytest.approx(math.log(0.1), rel=1e-15)


def test_gaussian_prediction_matches_log_ndtr_far_in_the_tail():
    # psi up to ~10^6: Phi(-sqrt psi) ~ exp(-5e5) underflows; the mpmath fallback and scipy's
    # log_ndtr (asymptotic series, rel ~1e-15) must agree; 1e-12 leaves room for both.
    for mu in [3.0, 30.0, 300.0]:
        values = isotropic(40, 2000, mu)
        psi = candidate_exponent("psi", values)
        got = symbolic.statement("log_prediction_5_1").evaluate(values)
        assert math.isfinite(got)
        assert got == pytest.approx(float(log_ndtr(-math.sqrt(psi))), rel=1e-12)


def test_every_statement_has_latex_and_a_known_provenance():
    for s in symbolic.STATEMENTS.values():
        assert s.provenance in symbolic.PROVENANCES
        assert s.section.startswith("§")
        assert len(s.latex()) > 3
    assert r"\operatorname{Tr}\Sigma^2" in symbolic.statement("psi").latex()
    assert r"\ge" in symbolic.statement("assumption_6_1").latex()


@pytest.mark.parametrize("name", [n for n, s in symbolic.STATEMENTS.items() if s.constant is not None])
def test_critical_constant_separates_holding_from_failing(name):
    values = default_values()
    if name == "case2_sample":
        values.update(orth_ratio=13.9)
    critical = symbolic.critical_constant(name, values)
    assert critical > 0
    constant = symbolic.statement(name).constant.name
    # 1% on either side of the critical value: far above the float64 error of either side (~1e-15).
    assert symbolic.statement(name).holds(dict(values, **{constant: 0.99 * critical}))
    assert not symbolic.statement(name).holds(dict(values, **{constant: 1.01 * critical}))


@pytest.mark.parametrize("name,expected", [
    # Hand-computed from the statements with n = 40, ||mu|| = 3, delta = 0.05, constants 1.
    ("assumption_6_1", max(40 * 9, 40**2)),
    ("case2_typical", None),
    ("frei_dimension", math.ceil(max(40 * 9, 40**2 * math.log(40 / 0.05)))),
])
def test_smallest_dimension_is_the_hand_value_and_plugs_back(name, expected):
    values = default_values()
    if expected is None:
        # Case 2 typical (docs/theory.md §3) is a quadratic in t = sqrt(d):
        # gamma t^2 - 2 (gamma + n C) sqrt(log n) t + gamma (mu^2 - b) - n C (mu^2 + b) = 0 with
        # b = 2 sqrt(2) mu sqrt(log n); d is the square of its positive root, rounded up.
        gamma, n, mu, log_n = values["gamma"], values["n"], math.sqrt(values["mu_norm"] ** 2), math.log(40)
        b = 2 * math.sqrt(2) * mu * math.sqrt(log_n)
        p, q = 2 * (gamma + n) * math.sqrt(log_n), gamma * (mu**2 - b) - n * (mu**2 + b)
        expected = math.ceil(((p + math.sqrt(p * p - 4 * gamma * q)) / (2 * gamma)) ** 2)
    found = thresholds.smallest_dimension(name, values)
    assert found.value == expected
    s = symbolic.statement(name)
    assert s.holds(thresholds.isotropic_values(values, found.value))
    assert not s.holds(thresholds.isotropic_values(values, found.value - 1))
    assert "d" in found.latex()


def test_smallest_dimension_plugs_back_for_cao_gu_belkin():
    values = default_values()
    found = thresholds.smallest_dimension("cao_gu_belkin_condition", values)
    s = symbolic.statement("cao_gu_belkin_condition")
    assert s.holds(thresholds.isotropic_values(values, found.value))
    assert not s.holds(thresholds.isotropic_values(values, found.value - 1))


@pytest.mark.parametrize("name,variable", [
    ("case1_typical", "mu_norm"), ("small_init_typical", "omega"), ("step_size_typical", "eta"),
    ("case2_typical", "tr_sigma"), ("frei_signal", "mu_norm"),
])
def test_solved_threshold_plugs_back(name, variable):
    values = default_values()
    found = thresholds.solve_threshold(name, variable, values)
    s = symbolic.statement(name)
    # The root is solved at 30 digits and rounded to float64 (rel 1.1e-16); a relative step of
    # 1e-9 clears that rounding and the float64 error of evaluating both sides.
    above, below = found.value * (1 + 1e-9), found.value * (1 - 1e-9)
    assert s.holds(dict(values, **{variable: above})) == found.holds_above
    assert s.holds(dict(values, **{variable: below})) == (not found.holds_above)


def test_phase_boundary_is_sqrt_d_over_n_for_isotropic_noise():
    values = isotropic(40, 2000, 3.0)
    for exponent in ("psi", "psi_alt", "cao_gu_belkin"):
        found = thresholds.phase_boundary_signal(values, exponent)
        # rel 1e-14: a square root of a ratio, solved at 30 digits then rounded.
        assert found.value == pytest.approx(math.sqrt(2000 / 40), rel=1e-14)


def test_phase_boundary_and_benign_boundary_plug_back_anisotropic():
    data = DataConfig(signal=2.0, mean_direction="ones",
                      covariance=CovarianceConfig(family="power_law", alpha=0.5))
    values = {**parameter_values(Config(data=data)), **CONSTANTS}
    kappa = values["mu_sigma_mu"] / values["mu_norm"] ** 2
    for exponent in ("psi", "psi_alt", "cao_gu_belkin"):
        found = thresholds.phase_boundary_signal(values, exponent)
        moved = dict(values, mu_norm=found.value, mu_sigma_mu=kappa * found.value**2)
        # rel 1e-12: the root is exact to rounding; r is a ratio of float64 sums.
        assert regime_indicator(moved, exponent) == pytest.approx(1.0, rel=1e-12)
        for level in (0.5, 1.0, 20.0):
            benign = thresholds.benign_boundary_signal(values, exponent, level)
            at = dict(values, mu_norm=benign.value, mu_sigma_mu=kappa * benign.value**2)
            assert candidate_exponent(exponent, at) == pytest.approx(level, rel=1e-12)
            below = dict(values, mu_norm=benign.value * 0.999, mu_sigma_mu=kappa * (benign.value * 0.999) ** 2)
            assert candidate_exponent(exponent, below) < level


def test_threshold_bad_input_is_refused():
    values = default_values()
    with pytest.raises(UserInputError, match="variable"):
        thresholds.solve_threshold("case1_typical", "nope", values)
    with pytest.raises(UserInputError, match="does not enter"):
        thresholds.solve_threshold("case1_typical", "eta", values)
    with pytest.raises(UserInputError, match="level"):
        thresholds.benign_boundary_signal(values, "psi", level=-1.0)
    with pytest.raises(UserInputError, match="holds for small d"):
        thresholds.smallest_dimension("case1_typical", dict(values, mu_norm=30.0, mu_sigma_mu=900.0))
    with pytest.raises(UserInputError, match="no closed-form solution"):
        thresholds.solve_threshold("step_size_typical", "d", values,
                                   substitutions=thresholds.ISOTROPIC)


def test_numeric_and_mpmath_variants_agree_where_both_are_finite():
    values = default_values()
    for name in ("psi", "log_upper_5_1", "log_prediction_5_1", "log_frei", "log_upper_6_3"):
        s = symbolic.statement(name)
        (mp_value,) = s.evaluate_mp(values)
        # rel 1e-13: float64 evaluation of a few operations (and erfc near 1) vs 50 digits.
        assert s.evaluate(values) == pytest.approx(float(mp_value), rel=1e-13)
    assert np.isfinite(symbolic.statement("log_upper_6_2").evaluate(values))


@settings(max_examples=15, deadline=None)
@given(n=st.integers(2, 400), mu=st.floats(0.1, 50.0, allow_nan=False, allow_infinity=False),
       constant=st.floats(0.05, 20.0, allow_nan=False, allow_infinity=False),
       name=st.sampled_from(["assumption_6_1", "case2_typical", "frei_dimension"]))
@example(n=2, mu=0.1, constant=0.05, name="case2_typical")
# Typical Case 2 holds at tiny d here (signal >> noise), fails in between and holds for large d.
@example(n=2, mu=8.0, constant=0.125, name="case2_typical")
def test_smallest_dimension_plugs_back_on_random_parameters(n, mu, constant, name):
    values = default_values(n=float(n), mu_norm=mu, mu_sigma_mu=mu**2)
    values[symbolic.statement(name).constant.name] = constant
    found = thresholds.smallest_dimension(name, values)
    s = symbolic.statement(name)
    # It holds there and from there on (checked at a few larger d), and fails just below.
    for factor in (1, 2, 10, 1000):
        assert s.holds(thresholds.isotropic_values(values, factor * found.value))
    if found.value > 1:
        assert not s.holds(thresholds.isotropic_values(values, found.value - 1))


def test_log_gaussian_tail_keeps_full_precision_where_erfc_is_subnormal():
    # erfc(x / sqrt 2) / 2 turns subnormal for x > 37.5 and underflows to 0 past x ~ 38.5, so the
    # literal log(erfc(...)/2) would lose precision before the mpmath fallback takes over. The
    # float64 evaluation must match 50-digit mpmath everywhere; log_ndtr is accurate to a few ulps,
    # so 1e-13 relative is ample.
    import mpmath

    from bounds.symbolic import LogGaussianTail, _NUMPY_FUNCTIONS

    for x in (1.0, 30.0, 37.9, 38.3, 40.0, 1e3):
        with mpmath.workdps(50):
            exact = float(mpmath.log(mpmath.ncdf(-mpmath.mpf(x))))
        value = float(_NUMPY_FUNCTIONS["LogGaussianTail"](x))
        assert math.isfinite(value)
        assert abs(value - exact) <= 1e-13 * abs(exact)
    assert r"\Phi" in symbolic.latex_of(LogGaussianTail(symbolic.n))


def test_division_by_zero_gives_the_ieee_limit_not_an_exception():
    # Valid configurations reach x/0: signal 0 (critical constant of Case 2 typical), Sigma = 0
    # (psi, r). Python floats raise ZeroDivisionError there; the statements return inf / nan.
    zero_signal = default_values(mu_norm=0.0, mu_sigma_mu=0.0)
    # C <= gamma (Tr Sigma - X) / (n X) with X = 2 sqrt(Tr Sigma^2 log n) when mu = 0 (docs/theory.md
    # §3); rel 1e-14: a few float64 operations.
    cross = 2 * math.sqrt(2000 * math.log(40))
    assert symbolic.critical_constant("case2_typical", zero_signal) == pytest.approx(
        0.5 * (2000 - cross) / (40 * cross), rel=1e-14)
    # min(d / (n ||mu||^2), d / n^2) = d / n^2; rel 1e-14 as above.
    assert symbolic.critical_constant("assumption_6_1", zero_signal) == pytest.approx(1.25, rel=1e-14)
    assert not symbolic.statement("case1_typical").holds(zero_signal)
    no_noise = default_values(tr_sigma=0.0, tr_sigma2=0.0, sigma_op=0.0, mu_sigma_mu=0.0)
    assert symbolic.statement("psi").evaluate(no_noise) == math.inf
    assert math.isnan(symbolic.statement("regime_indicator").evaluate(no_noise))
    assert symbolic.statement("log_upper_5_1").evaluate(no_noise) == -math.inf
    # ... and where nothing divides by zero the value is unchanged (the default, by hand).
    assert symbolic.statement("psi").evaluate(default_values()) == 40 * 81 / (40 * 9 + 2000)


@pytest.mark.parametrize("x", [1.5e100, 1e120, 1e150])
def test_mpmath_log_gaussian_tail_asymptotic_branch_matches_erfc(x):
    """Past 1e100 the series replaces mpmath's erfc (which overflows near 1e154): where both run,
    they agree to the working precision (50 digits; the series' error is below 945/x^10)."""
    import mpmath

    from bounds._log_functions import mp_log_gaussian_tail as _mp_log_gaussian_tail

    with mpmath.workdps(50):
        direct = mpmath.log(mpmath.ncdf(-mpmath.mpf(x)))
        assert abs(_mp_log_gaussian_tail(x) - direct) <= mpmath.mpf(10) ** -45 * abs(direct)


def test_mpmath_log_gaussian_tail_is_finite_past_erfc_range():
    import mpmath

    from bounds._log_functions import mp_log_gaussian_tail as _mp_log_gaussian_tail

    with mpmath.workdps(30):
        value = _mp_log_gaussian_tail(1e200)
        leading = -mpmath.mpf(1e200) ** 2 / 2
        assert mpmath.isfinite(value) and abs(value / leading - 1) < mpmath.mpf(10) ** -25


def test_prior_and_sub_gaussian_rates_match_their_hand_formulas():
    # Survivors of the mutation run (docs/proptest.md): no invariance distinguishes the degree of
    # ||mu|| in Frei et al.'s exponent under its isotropic hypothesis, and every shipped
    # sub-Gaussian family has proxy 1, so psi / proxy and psi * proxy agree on every drawn law.
    # The formulas of docs/theory.md §5-§6 by hand; rel 1e-13: a dozen float64 operations and one
    # log of a sum, each exact to a few ulps.
    n, d, mu, flip, C = 50, 400, 2.0, 0.01, 3.0
    frei = symbolic.statement("log_frei").evaluate({"n": n, "d": d, "mu_norm": mu, "flip": flip,
                                                    "C_F": C})
    assert frei == pytest.approx(math.log(flip + math.exp(-n * mu**4 / (C * d))), rel=1e-13)
    values = {"n": n, "mu_norm": mu, "mu_sigma_mu": 1.5 * mu**2, "tr_sigma2": 300.0,
              "proxy": 4.0, "C_sg": 2.0, "c_sg": 0.5}
    psi = n * mu**4 / (n * 1.5 * mu**2 + 300.0)
    upper = symbolic.statement("log_upper_6_2").evaluate(values)
    assert upper == pytest.approx(math.log(2.0) - 0.5 * psi / 4.0, rel=1e-13)


def test_a_statement_outside_its_real_domain_is_nan_not_an_error():
    # The typical Case 1 has sqrt(log n): at n < 1 float64 gives nan and the mpmath fallback a
    # complex number, which raised TypeError (found by the thorough threshold_switches run at the
    # threshold n = 1.0000002 of case1_typical, where the side below it has n < 1).
    values = {"C_1": 1.0, "mu_norm": 1.0, "mu_sigma_mu": 1.0, "n": 0.5, "tr_sigma2": 1e6}
    lhs, rhs = symbolic.statement("case1_typical").evaluate(values)
    assert lhs == 1.0 and math.isnan(rhs)
    assert not symbolic.statement("case1_typical").holds(values)


def test_a_condition_sympy_cannot_solve_is_refused_with_a_reason():
    # The typical Case 2 in n is transcendental (n against sqrt(log n)); sympy's solve fails with
    # a bare TypeError deciding a Relational on the way (found by the thorough threshold_switches
    # run). solve_threshold refuses it as it refuses a NotImplementedError.
    values = {"C_2": 1.0, "gamma": 0.1, "mu_norm": 1.0, "mu_sigma_mu": 1.0, "tr_sigma": 1.0,
              "tr_sigma2": 1.0}
    with pytest.raises(UserInputError, match="no closed-form solution in n"):
        thresholds.solve_threshold("case2_typical", "n", values)
