"""Clopper–Pearson intervals (theorybench.stats): defining equations, edges, exact coverage."""

import numpy as np
import pytest
from scipy.stats import binom

from theorybench.errors import UserInputError
from theorybench.stats import BinomialEstimate, clopper_pearson

# beta.ppf inverts the regularised incomplete beta function to ~1e-14 relative accuracy; the
# binomial tail evaluated at the returned bound therefore matches alpha/2 to far better than 1e-8.
TAIL_RTOL = 1e-8


@pytest.mark.parametrize("n", [1, 2, 7, 50, 1000])
@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.999])
def test_edges_match_closed_forms(n, confidence):
    alpha = 1 - confidence
    lower, upper = clopper_pearson(0, n, confidence)
    assert lower == 0.0
    # k = 0: P(Bin(n, p) = 0) = (1 - p)^n = alpha/2 solves to p = 1 - (alpha/2)^(1/n).
    assert upper == pytest.approx(1 - (alpha / 2) ** (1 / n), rel=TAIL_RTOL)
    lower, upper = clopper_pearson(n, n, confidence)
    assert upper == 1.0
    assert lower == pytest.approx((alpha / 2) ** (1 / n), rel=TAIL_RTOL)


@pytest.mark.parametrize("k,n", [(1, 10), (3, 10), (17, 40), (500, 1000), (2, 100000)])
def test_bounds_solve_the_defining_tail_equations(k, n):
    confidence = 0.95
    alpha = 1 - confidence
    lower, upper = clopper_pearson(k, n, confidence)
    assert 0 < lower < k / n < upper < 1
    # Lower bound: P(Bin(n, lower) >= k) = alpha/2; upper bound: P(Bin(n, upper) <= k) = alpha/2.
    assert binom.sf(k - 1, n, lower) == pytest.approx(alpha / 2, rel=TAIL_RTOL)
    assert binom.cdf(k, n, upper) == pytest.approx(alpha / 2, rel=TAIL_RTOL)


@pytest.mark.parametrize("n", [1, 5, 20, 60, 200])
@pytest.mark.parametrize("confidence", [0.8, 0.95])
def test_exact_coverage_is_at_least_nominal(n, confidence):
    intervals = np.array([clopper_pearson(k, n, confidence) for k in range(n + 1)])
    ks = np.arange(n + 1)
    # An irrational-offset grid avoids landing exactly on an interval end, where the coverage
    # function jumps; points near 0 and 1 are included, where coverage is hardest.
    grid = np.concatenate([np.linspace(1e-4, 1 - 1e-4, 997) + 1e-7 * np.sqrt(2), [1e-6, 1 - 1e-6]])
    for p in grid:
        covered = (intervals[:, 0] <= p) & (p <= intervals[:, 1])
        coverage = binom.pmf(ks[covered], n, p).sum()
        # Summing at most 201 pmf values loses < 1e-13; the interval ends are accurate to ~1e-14.
        assert coverage >= confidence - 1e-12, (n, p, coverage)


def test_intervals_are_nested_in_the_level():
    narrow = clopper_pearson(30, 100, 0.8)
    wide = clopper_pearson(30, 100, 0.99)
    assert wide[0] < narrow[0] < 0.3 < narrow[1] < wide[1]


def test_binomial_estimate_from_counts():
    estimate = BinomialEstimate.from_counts(3, 40, 0.95)
    assert (estimate.errors, estimate.trials, estimate.confidence) == (3, 40, 0.95)
    assert estimate.rate == 3 / 40
    assert (estimate.lower, estimate.upper) == clopper_pearson(3, 40, 0.95)
    assert set(estimate.to_dict()) == {"errors", "trials", "rate", "lower", "upper", "confidence"}


@pytest.mark.parametrize("k,n,confidence,name", [
    (5, 4, 0.95, "errors"), (-1, 4, 0.95, "errors"), (0, 0, 0.95, "trials"),
    (1, 4, 1.0, "confidence"), (1, 4, 0.0, "confidence"), (1.5, 4, 0.95, "errors"),
])
def test_bad_arguments_are_refused(k, n, confidence, name):
    with pytest.raises(UserInputError, match=name):
        clopper_pearson(k, n, confidence)
