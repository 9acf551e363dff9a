"""Log-space loss primitives against mpmath at extreme margins (theorybench.numerics, docs/theory.md §2.6)."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from theorybench import numerics
from theorybench.errors import UserInputError


@pytest.fixture(autouse=True)
def fifty_digits():
    """mpmath at 50 significant digits is the reference (restored afterwards: mpmath's precision
    is global); results are compared after one rounding to float64."""
    with mpmath.workdps(50):
        yield

# A handful of float64 operations (shift, exp, sum, log1p, log) each contribute <= 1 ulp of
# relative error: 32 ulps (~7e-15) is a generous ceiling that still fails on any lost digit.
ULPS = 32 * np.finfo(np.float64).eps


def mp_log_loss(margins, loss):
    if loss == "exponential":
        terms = [mpmath.exp(-mpmath.mpf(u)) for u in margins]
    else:
        terms = [mpmath.log1p(mpmath.exp(-mpmath.mpf(u))) for u in margins]
    return float(mpmath.log(mpmath.fsum(terms) / len(margins)))


EXTREME_MARGINS = [
    [800.0, 900.0, 1000.0],          # every exp(-u) underflows float64
    [-700.0, -705.0, 3.0],           # exp(-u) near the overflow threshold
    [1e5, 1e5 + 1.0, 2e5],           # log L ~ -1e5, far below log(smallest subnormal) = -745
    [-0.5, 0.0, 0.25, 2.0],          # ordinary values
]


@pytest.mark.parametrize("margins", EXTREME_MARGINS)
@pytest.mark.parametrize("loss", ["exponential", "logistic"])
def test_log_loss_matches_mpmath_where_the_loss_under_or_overflows(margins, loss):
    computed = numerics.log_loss(np.array(margins), loss)
    expected = mp_log_loss(margins, loss)
    assert math.isfinite(computed)
    assert computed == pytest.approx(expected, rel=ULPS, abs=ULPS)


def test_log_loss_is_below_the_underflow_threshold_of_the_loss():
    # L = e^{-1000}/1 is 0.0 in float64; log L = -1000 must survive.
    assert math.exp(-1000.0) == 0.0
    assert numerics.log_loss(np.array([1000.0]), "exponential") == -1000.0


@pytest.mark.parametrize("t", [-1e4, -746.0, -700.0, -40.5, -39.5, -5.0, 0.0, 5.0, 30.0, 710.0, 1e4])
def test_log_softplus_matches_mpmath_on_both_sides_of_the_switch(t):
    expected = float(mpmath.log(mpmath.log1p(mpmath.exp(mpmath.mpf(t)))))
    assert float(numerics.log_softplus(np.array([t]))[0]) == pytest.approx(expected, rel=ULPS)


@pytest.mark.parametrize("u", [-1e4, -710.0, -30.0, 0.0, 30.0, 710.0, 1e4])
def test_logistic_log_derivative_matches_mpmath(u):
    expected = float(-mpmath.log1p(mpmath.exp(mpmath.mpf(u))))
    assert float(numerics.log_loss_derivative(np.array([u]), "logistic")[0]) == \
        pytest.approx(expected, rel=ULPS)


@pytest.mark.parametrize("loss", ["exponential", "logistic"])
def test_relative_derivatives_keep_the_direction_when_every_derivative_underflows(loss):
    margins = np.array([1000.0, 1001.0, 1003.0])
    relative, log_scale = numerics.relative_loss_derivatives(margins, loss)
    assert np.all(np.exp(-margins) == 0.0)  # the naive g_i would all be 0
    assert relative.max() == 1.0 and np.all(relative > 0)
    # For both losses log g(u) = -u + O(e^{-u}) here, so the ratios are e^{-(u_i - u_min)}.
    np.testing.assert_allclose(relative, np.exp(-(margins - 1000.0)), rtol=ULPS)
    assert log_scale == pytest.approx(-1000.0, rel=ULPS)


def test_relative_derivatives_of_non_finite_margins_are_non_finite():
    relative, log_scale = numerics.relative_loss_derivatives(np.array([1.0, -np.inf]), "exponential")
    assert log_scale == math.inf and np.isnan(relative).all()
    assert not math.isfinite(numerics.log_loss(np.array([np.nan, 1.0]), "exponential"))


def test_log_sum_exp_against_mpmath_far_outside_the_exponential_range():
    values = np.array([-2000.0, -2000.5, -3000.0])
    expected = float(mpmath.log(mpmath.fsum(mpmath.exp(mpmath.mpf(v)) for v in values)))
    assert numerics.log_sum_exp(values) == pytest.approx(expected, rel=ULPS)


def test_log_sum_exp_of_infinite_or_nan_entries():
    assert numerics.log_sum_exp(np.array([-np.inf, -np.inf])) == -math.inf  # every term is 0
    assert numerics.log_sum_exp(np.array([-np.inf, 0.0])) == 0.0
    assert numerics.log_sum_exp(np.array([np.inf, 0.0])) == math.inf
    assert math.isnan(numerics.log_sum_exp(np.array([np.nan, 0.0])))


def test_unknown_loss_is_refused_with_the_allowed_values():
    with pytest.raises(UserInputError, match="exponential, logistic, hinge"):
        numerics.log_loss(np.array([1.0]), "squared")


@settings(deadline=None, max_examples=60)
@given(st.lists(st.floats(-30.0, 30.0, allow_nan=False, allow_infinity=False), min_size=1, max_size=20),
       st.sampled_from(["exponential", "logistic"]))
@example([0.0], "logistic")
def test_log_loss_equals_the_naive_formula_where_it_is_safe(margins, loss):
    u = np.array(margins)
    per_sample = np.exp(-u) if loss == "exponential" else np.log1p(np.exp(-u))
    naive = math.log(per_sample.mean())
    # |u| <= 30 keeps every term in [e^-30, e^30]: the naive form loses at most a few ulps of the
    # terms; a relative 1e-13 plus an absolute 1e-13 (log L can be ~0) bounds both forms' error.
    assert numerics.log_loss(u, loss) == pytest.approx(naive, rel=1e-13, abs=1e-13)


@pytest.mark.parametrize("margins", [[-1e6, -3.0, 0.0, 0.5], [1.0 - 2.0**-40, 0.999, 0.25],
                                     [-0.5, 1.0, 2.0, 1e300]])
def test_hinge_log_loss_matches_mpmath_including_margins_at_the_kink(margins):
    terms = [max(mpmath.mpf(0), 1 - mpmath.mpf(u)) for u in margins]
    expected = float(mpmath.log(mpmath.fsum(terms) / len(margins)))
    assert numerics.log_loss(np.array(margins), "hinge") == pytest.approx(expected, rel=ULPS)


def test_hinge_per_sample_log_loss_keeps_digits_next_to_the_kink():
    # 1 - u = 2^-40 exactly: log1p(-u) gives -40 log 2 to one rounding, where log(1 - u) would too
    # only because 1 - u is exact here; the point is that no loss is formed as exp of anything.
    u = np.array([1.0 - 2.0**-40, 1.0, 3.0])
    logs = numerics.log_per_sample_loss(u, "hinge")
    assert logs[0] == pytest.approx(-40 * math.log(2.0), rel=ULPS)
    assert logs[1] == logs[2] == -math.inf


def test_hinge_derivative_is_one_inside_the_margin_and_zero_from_the_kink_on():
    relative, scale = numerics.relative_loss_derivatives(np.array([0.5, 1.0, 7.0]), "hinge")
    np.testing.assert_array_equal(relative, [1.0, 0.0, 0.0])
    assert scale == 0.0
    # Every margin at least 1: the gradient is exactly zero (M = -inf), not undefined.
    relative, scale = numerics.relative_loss_derivatives(np.array([1.0, 2.0]), "hinge")
    np.testing.assert_array_equal(relative, [0.0, 0.0])
    assert scale == -math.inf
    assert np.isnan(numerics.log_loss_derivative(np.array([math.nan]), "hinge")[0])
