"""Library properties of the numerical primitives: ``log_ndtr`` and the Clopper–Pearson interval.

- ``log_ndtr_vs_mpmath`` (docs/theory.md §2.4): :math:`\\log\\Phi(-x)` from scipy against
  :math:`\\log(\\tfrac12\\operatorname{erfc}(x/\\sqrt2))` in mpmath, for x from -30 to 1e5;
- ``clopper_pearson_coverage`` (§7): the exact coverage (summed over k) is at least nominal;
- ``clopper_pearson_tails`` (§7): each end inverts its one-sided binomial test exactly,
  :math:`P(X \\ge k \\mid \\underline p) = \\alpha/2` and :math:`P(X \\le k \\mid \\overline p) =
  \\alpha/2`, against mpmath's regularised incomplete beta function (the coverage alone does not
  see an interval that is too wide).
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
from hypothesis import strategies as st
from scipy.special import log_ndtr
from scipy.stats import binom

from theorybench import strategies
from theorybench.proptest.model import EPS, Falsified, Property, aim, converged_reference
from theorybench.stats import clopper_pearson


def log_ndtr_property() -> Property:
    def check(x: float) -> bool:
        value = float(log_ndtr(-x))
        truth = converged_reference(
            lambda: mpmath.log(mpmath.erfc(mpmath.mpf(x) / mpmath.sqrt(2)) / 2))
        # scipy's log_ndtr is accurate to a few ulps of its value over the whole line.
        if not math.isfinite(value) or abs(value - truth) > 16 * EPS * max(1.0, abs(truth)):
            raise Falsified(f"log_ndtr(-{x!r}) = {value!r}, mpmath gives {truth!r}")
        return True

    return Property("library", "log_ndtr_vs_mpmath", "EXACT", "§2.4",
                    "log Phi(-x) from scipy.special.log_ndtr against mpmath at escalating precision",
                    strategies.finite_floats(-30.0, 1e5), check)


def clopper_pearson_coverage_property() -> Property:
    strategy = st.tuples(st.integers(1, 300), strategies.finite_floats(1e-6, 1.0 - 1e-6),
                         strategies.finite_floats(0.5, 0.999))

    def check(drawn) -> bool:
        n, p, confidence = drawn
        intervals = [clopper_pearson(k, n, confidence) for k in range(n + 1)]
        ends = np.array(intervals)
        # beta.ppf is accurate to ~1e-12 relative; a p that close to an end point is undecidable.
        if np.any(np.abs(ends - p) <= 1e-10 * p):
            return False
        covered = [k for k, (low, high) in enumerate(intervals) if low <= p <= high]
        coverage = float(binom.pmf(covered, n, p).sum()) if covered else 0.0
        # Summing at most 301 probabilities: (n + 1) eps of rounding; 1e-12 is far above it.
        if coverage < confidence - 1e-12:
            raise Falsified(f"exact coverage {coverage!r} < nominal {confidence!r} at n = {n}, p = {p!r}")
        return True

    return Property("library", "clopper_pearson_coverage", "EXACT", "§7",
                    "exact coverage (by summation over k) of the Clopper-Pearson interval >= nominal",
                    strategy, check)


def _tail_and_condition(k: int, n: int, p: float, upper_tail: bool) -> tuple[float, float]:
    """:math:`P(X \\ge k)` (``upper_tail``) or :math:`P(X \\le k)` for X ~ Bin(n, p), in mpmath,
    and its condition number :math:`|d\\log P/d\\log p|` (p times the Beta density over P)."""
    def tail():
        q = mpmath.mpf(p)
        if upper_tail:  # P(X >= k) = I_p(k, n - k + 1)
            return mpmath.betainc(k, n - k + 1, 0, q, regularized=True)
        return mpmath.betainc(k + 1, n - k, q, 1, regularized=True)  # P(X <= k) = 1 - I_p(k+1, n-k)

    value = converged_reference(tail)
    with mpmath.workdps(30):
        q = mpmath.mpf(p)
        a, b = (k, n - k + 1) if upper_tail else (k + 1, n - k)
        density = q ** (a - 1) * (1 - q) ** (b - 1) / mpmath.beta(a, b)
        condition = float(q * density / mpmath.mpf(value)) if value > 0 else math.inf
    return value, condition


def clopper_pearson_tails_property() -> Property:
    strategy = st.tuples(st.integers(1, 2000), st.data(), strategies.finite_floats(0.5, 0.999999))

    def check(drawn) -> bool:
        n, data, confidence = drawn
        k = data.draw(st.integers(0, n))
        low, high = clopper_pearson(k, n, confidence)
        alpha = 1.0 - confidence
        aim(-math.log10(alpha), "-log10 alpha")
        if not 0.0 <= low < high <= 1.0:
            raise Falsified(f"interval ({low!r}, {high!r}) for k = {k}, n = {n} is not inside [0, 1]")
        if (k == 0) != (low == 0.0) or (k == n) != (high == 1.0):
            raise Falsified(f"edges: k = {k}, n = {n} gave ({low!r}, {high!r}); the lower end is 0 "
                            "exactly when k = 0 and the upper end 1 exactly when k = n")
        for end, upper_tail, label in ((low, True, "P(X >= k | lower)"),
                                       (high, False, "P(X <= k | upper)")):
            if end in (0.0, 1.0):
                continue
            tail, condition = _tail_and_condition(k, n, end, upper_tail)
            # beta.ppf (Boost's ibeta_inv) returns the quantile to within a few hundred ulps of
            # p relative; the tail moves by `condition` times that relative change, and alpha
            # itself carries one rounding (1 - confidence): 1e3 eps (1 + condition) covers both.
            tolerance = 1e3 * EPS * (1.0 + condition) * (alpha / 2.0) + 4 * EPS
            if abs(tail - alpha / 2.0) > tolerance:
                raise Falsified(f"{label} = {tail!r} at k = {k}, n = {n}, confidence "
                                f"{confidence!r}; the exact interval has alpha/2 = {alpha / 2.0!r} "
                                f"(allowed {tolerance:.3g})")
        return True

    return Property("library", "clopper_pearson_tails", "EXACT", "§7",
                    "each end of the Clopper-Pearson interval inverts its one-sided binomial test "
                    "exactly (mpmath incomplete beta)", strategy, check)
