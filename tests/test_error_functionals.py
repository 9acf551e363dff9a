"""Tests of bounds.error_functionals (EXACT, docs/theory.md §2.4)."""

from __future__ import annotations

import itertools
import math

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bounds.error_functionals import (
    best_conditional_bound,
    conditional_bounds,
    log_bayes_error,
    log_cantelli_bound,
    log_fourth_moment_bound,
    log_gaussian_error,
    log_gaussian_error_of_direction,
    log_sub_gaussian_bound,
)
from theorybench.config import CovarianceConfig, DataConfig
from theorybench.covariance import covariance_matrix
from theorybench.errors import UserInputError
from theorybench.stats import clopper_pearson


def _rng(label: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(20260411 + label))


def _mp_log_phi(x: float) -> mpmath.mpf:
    with mpmath.workdps(50):
        return mpmath.log(mpmath.ncdf(mpmath.mpf(x)))


# ---------------------------------------------------------------- exact Gaussian error

def test_exact_error_agrees_with_monte_carlo_on_a_million_points():
    # d = 5 with a full (non-diagonal) covariance; points x = y mu + L xi with L L^T = Sigma, a
    # different square root from the formula's, so the test also checks that only w^T Sigma w
    # matters. The error is about 0.25, i.e. ~2.5e5 errors: the interval is narrow (+-~0.6%).
    rng = _rng(1)
    d, points = 5, 10**6
    factor = rng.standard_normal((d, d))
    sigma = factor @ factor.T / d + 0.2 * np.eye(d)
    mu = np.array([0.9, -0.3, 0.2, 0.0, 0.4])
    w = np.array([1.0, -0.5, 0.8, 0.3, -0.2])
    y = np.where(rng.random(points) < 0.5, 1.0, -1.0)
    X = y[:, None] * mu + rng.standard_normal((points, d)) @ np.linalg.cholesky(sigma).T
    errors = int(np.count_nonzero(y * (X @ w) <= 0))
    lower, upper = clopper_pearson(errors, points, 0.999)
    exact = math.exp(log_gaussian_error_of_direction(w, mu, sigma))
    # 99.9% Clopper-Pearson interval: this fails by chance with probability <= 1e-3.
    assert lower <= exact <= upper, (lower, exact, upper)
    assert 0.2 < exact < 0.3  # the regime the comment above assumes


@pytest.mark.parametrize("x", [-1000.0, -700.0, -300.0, -38.0, -37.5, -20.0, -8.0, -1.0, -1e-3,
                               0.0, 0.5, 3.0, 7.0])
def test_log_error_matches_mpmath_at_50_digits(x):
    # err = Phi(x) with x = -t/s; x = -1000 gives err ~ exp(-5e5), far below 1e-300.
    value = log_gaussian_error(-x, 1.0)
    assert math.isfinite(value)
    reference = _mp_log_phi(x)
    # log_ndtr is accurate to a few ulps of its result (asymptotic series below -20, erfc above);
    # 1e-12 relative leaves three orders of margin.
    assert abs(value - float(reference)) <= 1e-12 * abs(float(reference)), (value, reference)


def test_log_error_is_finite_where_the_error_is_below_1e_300():
    values = [log_gaussian_error(t, 1.0) for t in (40.0, 100.0, 1e3)]
    assert all(math.isfinite(v) and v < math.log(1e-300) for v in values)
    assert values == sorted(values, reverse=True)  # monotone in the margin


def test_error_depends_only_on_the_ratio_t_over_s():
    # Joint rescaling of w (metamorphic): err(c w) = err(w) for c > 0; exact scalars chosen so that
    # t/s is the same double in both calls.
    assert log_gaussian_error(3.0, 2.0) == log_gaussian_error(3.0 * 2.0**40, 2.0 * 2.0**40)


def test_noiseless_direction_edge_cases():
    assert log_gaussian_error(1.0, 0.0) == -math.inf  # y g(x) = t > 0 always
    assert log_gaussian_error(0.0, 0.0) == 0.0  # a tie on every point counts as an error
    assert log_gaussian_error(-1.0, 0.0) == 0.0


def test_diagonal_and_dense_covariance_forms_agree():
    rng = _rng(2)
    d = 7
    diagonal = rng.uniform(0.1, 3.0, d)
    w, mu = rng.standard_normal(d), rng.standard_normal(d)
    dense = log_gaussian_error_of_direction(w, mu, np.diag(diagonal))
    # the two quadratic forms differ only in summation order: ~d eps relative in t/s, doubled in log
    assert log_gaussian_error_of_direction(w, mu, diagonal) == pytest.approx(dense, rel=1e-13)


# ---------------------------------------------------------------- Bayes error

def test_bayes_error_is_attained_by_sigma_inverse_mu_and_undercuts_every_direction():
    rng = _rng(3)
    d = 6
    factor = rng.standard_normal((d, d))
    sigma = factor @ factor.T + 0.5 * np.eye(d)
    mu = rng.standard_normal(d)
    bayes = log_bayes_error(mu, sigma)
    best = np.linalg.solve(sigma, mu)
    # Cauchy-Schwarz equality case; agreement to the eigh/solve rounding (~1e-13 relative).
    assert log_gaussian_error_of_direction(best, mu, sigma) == pytest.approx(bayes, rel=1e-10)
    for _ in range(50):
        w = rng.standard_normal(d)
        # strict in exact arithmetic unless w is parallel to Sigma^-1 mu; 1e-12 absolute for rounding
        assert log_gaussian_error_of_direction(w, mu, sigma) >= bayes - 1e-12


def test_bayes_error_of_a_config_uses_the_closed_form_summary():
    data = DataConfig(n=4, d=20, signal=1.5,
                      covariance=CovarianceConfig(family="spiked", spike_strength=3.0))
    from_config = log_bayes_error(data)
    from_matrix = log_bayes_error(data.mean_vector(), covariance_matrix(data))
    # spiked along mu: mu^T Sigma^-1 mu = ||mu||^2 / (1 + theta) = 2.25 / 4 exactly
    assert from_config == pytest.approx(float(_mp_log_phi(-1.5 / 2.0)), rel=1e-13)
    assert from_matrix == pytest.approx(from_config, rel=1e-12)  # eigh rounding only


def test_bayes_error_is_zero_when_mu_leaves_the_range_of_sigma():
    assert log_bayes_error(np.array([1.0, 0.5]), np.diag([1.0, 0.0])) == -math.inf
    # inside the range of a singular Sigma: the pseudo-inverse gives ||mu||^2 / 1
    assert log_bayes_error(np.array([1.0, 0.0]), np.diag([1.0, 0.0])) == \
        pytest.approx(float(_mp_log_phi(-1.0)), rel=1e-14)


def test_bad_input_is_refused_with_the_parameter_named():
    with pytest.raises(UserInputError, match="Sigma"):
        log_gaussian_error_of_direction(np.ones(3), np.ones(3), np.eye(2))
    with pytest.raises(UserInputError, match="s = -1"):
        log_gaussian_error(1.0, -1.0)
    with pytest.raises(UserInputError, match="t = nan"):
        log_gaussian_error(math.nan, 1.0)
    with pytest.raises(UserInputError, match="sigma"):
        log_bayes_error(np.ones(3))
    with pytest.raises(UserInputError, match="kurtosis"):
        log_fourth_moment_bound(1.0, np.ones(3), 0.5)


# ---------------------------------------------------------------- conditional bounds

RATIOS = [0.05, 0.3, 1.0, 2.0, 5.0, 12.0, 40.0, 300.0]


@pytest.mark.parametrize("ratio", RATIOS)
def test_every_valid_bound_lies_above_the_exact_gaussian_error(ratio):
    rng = _rng(4)
    b = rng.standard_normal(9)
    t = ratio * float(np.linalg.norm(b))
    exact = log_gaussian_error(t, float(np.linalg.norm(b)))
    for bound in conditional_bounds(t, b, proxy=1.0, kurtosis=3.0):
        assert bound.provenance == "EXACT" and "2.4" in bound.section
        if bound.status != "invalid":
            # Each inequality is strict with room >= log 2 near the tails (Phi(-r) <= exp(-r^2/2)/2);
            # 1e-12 absolute covers rounding of the two logs.
            assert bound.log_value >= exact - 1e-12, (bound, exact)


def test_bounds_match_their_formulas_at_50_digits():
    t, b = 2.5, np.array([0.5, -1.0, 0.25, 2.0])
    with mpmath.workdps(50):
        s2 = sum(mpmath.mpf(float(v)) ** 2 for v in b)
        s4 = sum(mpmath.mpf(float(v)) ** 4 for v in b)
        expected = {
            "sub_gaussian": -mpmath.mpf(t) ** 2 / (2 * 1.7 * s2),
            "cantelli": mpmath.log(s2 / (s2 + mpmath.mpf(t) ** 2)),
            "fourth_moment": mpmath.log((3 * s2**2 + (mpmath.mpf(9) / 5 - 3) * s4) / mpmath.mpf(t) ** 4),
        }
    for bound in conditional_bounds(t, b, proxy=1.7, kurtosis=9.0 / 5.0):
        # a handful of float64 operations on O(1) numbers: 1e-13 relative
        assert bound.log_value == pytest.approx(float(expected[bound.name]), rel=1e-13), bound


def test_bounds_dominate_the_exact_rademacher_error_by_enumeration():
    # Rademacher noise (proxy 1, E xi^4 = 1): the exact error P(t + <b, xi> <= 0) is a finite sum
    # over the 2^10 sign vectors, an independent check of all three inequalities and of the
    # fourth-moment identity with kappa_4 != 3.
    b = np.array([1.0, 0.9, 0.7, 0.7, 0.5, 0.4, 0.3, 0.3, 0.2, 0.1])
    signs = np.array(list(itertools.product((-1.0, 1.0), repeat=b.size)))
    sums = signs @ b
    assert np.mean(sums**4) == pytest.approx(3 * np.sum(b**2) ** 2 - 2 * np.sum(b**4), rel=1e-13)
    for t in (0.3, 1.0, 2.0, 3.0, 4.0):
        exact = np.mean(t + sums <= 0)
        for bound in conditional_bounds(t, b, proxy=1.0, kurtosis=1.0):
            assert bound.status in ("valid", "vacuous")
            assert bound.value >= exact, (t, bound, exact)  # exact rational vs bound: no rounding room needed


def test_bounds_are_invalid_when_the_direction_misses_the_mean():
    for t in (0.0, -2.0):
        bounds = conditional_bounds(t, np.ones(3), proxy=1.0, kurtosis=3.0)
        assert [bound.status for bound in bounds] == ["invalid"] * 3
        assert all("<= 0" in bound.reason and math.isnan(bound.log_value) for bound in bounds)
        best = best_conditional_bound(t, np.ones(3), proxy=1.0, kurtosis=3.0)
        assert best.name == "trivial" and best.log_value == 0.0 and "no conditional bound" in best.reason


def test_bounds_are_invalid_without_the_moment_they_need():
    assert log_sub_gaussian_bound(1.0, 1.0, None).status == "invalid"
    assert "not sub-Gaussian" in log_sub_gaussian_bound(1.0, 1.0, None).reason
    heavy = log_fourth_moment_bound(1.0, np.ones(3), math.inf)
    assert heavy.status == "invalid" and "not finite" in heavy.reason


def test_fourth_moment_bound_is_vacuous_for_a_small_margin():
    bound = log_fourth_moment_bound(1.0, np.ones(4), 3.0)  # 3 * 4^2 / 1 = 48 >= 1
    assert bound.status == "vacuous" and "vacuous" in bound.reason
    assert bound.log_value == pytest.approx(math.log(48.0), rel=1e-15)
    # Cantelli and Chernoff are strictly below 1 whenever t > 0: never vacuous (proved in §2.4 docs)
    assert log_cantelli_bound(1e-8, 1e8).status == "valid"
    assert log_sub_gaussian_bound(1e-8, 1e8, 1.0).status == "valid"


def test_best_bound_is_the_minimum_of_the_valid_ones():
    b = np.full(5, 0.2)
    t = 3.0
    bounds = conditional_bounds(t, b, proxy=1.0, kurtosis=3.0)
    best = best_conditional_bound(t, b, proxy=1.0, kurtosis=3.0)
    assert best.log_value == min(bound.log_value for bound in bounds if bound.status == "valid")
    assert best.name == "sub_gaussian"  # t/s = 6.7: Chernoff wins by far


def test_extreme_margins_stay_finite_or_exactly_minus_infinity():
    assert math.isfinite(log_cantelli_bound(1e200, 1e-10).log_value)
    assert log_cantelli_bound(1e200, 1e-10).log_value == pytest.approx(-2 * math.log(1e210), rel=1e-14)
    assert log_sub_gaussian_bound(1e200, 1e-200, 1.0).log_value == -math.inf
    assert log_fourth_moment_bound(1e100, np.full(3, 1e100), 3.0).status == "vacuous"  # 27 >= 1


@settings(deadline=None, max_examples=200)
@given(ratio=st.floats(min_value=1e-6, max_value=1e3, allow_nan=False, allow_infinity=False),
       s=st.floats(min_value=1e-100, max_value=1e100, allow_nan=False, allow_infinity=False),
       kurtosis=st.floats(min_value=1.0, max_value=50.0, allow_nan=False, allow_infinity=False))
def test_property_scale_invariance_and_domination_of_the_gaussian_error(ratio, s, kurtosis):
    # Joint rescaling of (t, s) leaves every quantity unchanged (metamorphic); t / s differs from
    # ratio by at most one rounding, i.e. ~2e-16 relative in the argument, hence 1e-12 in the log.
    t = ratio * s
    exact = log_gaussian_error(t, s)
    assert exact == pytest.approx(log_gaussian_error(ratio, 1.0), rel=1e-12)
    for bound in conditional_bounds(t, np.array([s]), proxy=1.0, kurtosis=3.0):
        assert bound.status in ("valid", "vacuous")
        # exact inequalities for Gaussian noise (kappa = 3, proxy 1); 1e-12 relative for rounding
        assert bound.log_value >= exact - 1e-12 * abs(exact)
    # one coordinate: E<b, xi>^4 = kappa s^4 exactly, so the bound is kappa (s/t)^4
    fourth = log_fourth_moment_bound(t, np.array([s]), kurtosis)
    assert fourth.log_value == pytest.approx(math.log(kurtosis) - 4 * math.log(ratio), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("t, b", [
    (1.4142135623730951e114, np.array([1.4142135623730951e114, 0.0])),  # b/t of order 1 (main form)
    (1e-300, np.array([1e10, 3e9])),                                    # b/t overflows: other form
])
def test_fourth_moment_bound_against_mpmath_in_both_forms(t, b):
    # The thorough profile found 1.7e-13 lost at |b| ~ t ~ 1e114 when 4 log max|b| - 4 log t
    # cancelled; the bound is now formed from b/t, with the logs kept only where b/t overflows.
    kurtosis = 3.0
    value = log_fourth_moment_bound(t, b, kurtosis).log_value
    with mpmath.workdps(50):
        bb = [mpmath.mpf(float(v)) for v in b]
        two, four = mpmath.fsum(v**2 for v in bb), mpmath.fsum(v**4 for v in bb)
        truth = float(mpmath.log(3 * two**2 + (kurtosis - 3) * four) - 4 * mpmath.log(mpmath.mpf(t)))
    # A handful of float64 operations on quantities of order 1, plus 4 log t (|log t| < 700):
    # 64 ulps of the largest magnitude involved.
    assert abs(value - truth) <= 64 * np.finfo(float).eps * max(1.0, abs(truth), 4 * abs(math.log(t)))
