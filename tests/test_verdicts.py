"""Verdict logic on synthetic rows (verify.verdicts, docs/theory.md §7).

Synthetic errors are built from known constants, so every expected verdict and band follows from
the construction, not from the code under test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import log_ndtr
from scipy.stats import beta

from verify.verdicts import (
    FAIL,
    INCONCLUSIVE,
    NOT_APPLICABLE,
    PASS,
    CheckResult,
    ErrorInterval,
    Hypothesis,
    RateMeasurement,
    band_fit,
    check_at_most,
    check_close,
    check_inside,
    combine,
    constant_band_check,
    exponent_proxy,
    fit_slope,
    hinge_fit,
    implied_constant,
    phase_transition_check,
)

PSI = [5.0, 10.0, 20.0, 40.0, 80.0]


def exact_rows(constants, psis=PSI, hypotheses=()):
    return [RateMeasurement(f"s{i}", psi, ErrorInterval.exact(-c * psi), tuple(hypotheses))
            for i, (c, psi) in enumerate(zip(constants, psis))]


def test_band_that_fits_passes_and_reports_the_band():
    constants = [0.5, 0.8, 1.0, 0.6, 0.9]
    result = constant_band_check("band", "err <= exp(-c psi)", exact_rows(constants))
    assert result.verdict == PASS
    # Exact errors give point intervals: the band is [min c, max c] up to rounding of -log(exp(.))/psi.
    assert result.numbers["band"] == pytest.approx([0.5, 1.0], rel=1e-12)
    assert result.numbers["ratio_needed"] == pytest.approx(2.0, rel=1e-12)
    assert [row["c"] for row in result.numbers["per_setting"]] == pytest.approx(constants, rel=1e-12)
    assert result.provenance == "RECONSTRUCTED" and "§7" in result.section


def test_band_from_monte_carlo_counts_passes():
    # err = exp(-0.1 psi) at psi 5..20: 0.61..0.14, with 10^5 points the 95% intervals are within a
    # few percent, so the implied constants stay within [0.09, 0.11]: far inside a ratio of 10.
    trials = 100_000
    rows = [RateMeasurement(f"s{i}", psi, ErrorInterval.from_counts(round(trials * math.exp(-0.1 * psi)),
                                                                    trials, 0.95))
            for i, psi in enumerate([5.0, 10.0, 20.0])]
    result = constant_band_check("band", "statement", rows)
    assert result.verdict == PASS
    low, high = result.numbers["band"]
    assert 0.09 < low < 0.1 < high < 0.11


def test_wrong_exponent_shape_fails_and_names_the_settings():
    # True error exp(-psi^2/10): judged against psi the implied constant psi/10 runs from 0.5 to 8.
    rows = exact_rows([psi / 10 for psi in PSI])
    result = constant_band_check("band", "statement", rows)
    assert result.verdict == FAIL
    assert result.failing == ("s4", "s0")
    assert result.numbers["ratio_needed"] == pytest.approx(16.0, rel=1e-12)
    assert "shape" in result.explanation


def test_too_few_test_points_is_inconclusive_with_the_resolution():
    # Settings s0, s1 resolved exactly at c = 1; s2 has err = exp(-40) but only 1000 test points.
    rows = exact_rows([1.0, 1.0], psis=[5.0, 10.0])
    rows.append(RateMeasurement("s2", 40.0, ErrorInterval.from_counts(0, 1000, 0.95)))
    result = constant_band_check("band", "statement", rows)
    assert result.verdict == INCONCLUSIVE
    assert result.failing == ("s2",)
    # Clopper-Pearson upper end for 0 errors: 1 - (alpha/2)^(1/n).
    resolution = 1 - 0.025 ** (1 / 1000)
    assert result.numbers["zero_error_resolution"]["s2"] == pytest.approx(resolution, rel=1e-9)
    # predicted error exp(-40): 10 errors need 10 e^40 ~ 2.4e18 points -> 10^19
    assert "10^19 test points at s2" in result.to_conclude


def test_failed_hypothesis_is_not_applicable_with_margin():
    case2 = Hypothesis("Case 2 (near orthogonality)", holds=False, margin=-0.7)
    result = constant_band_check("band", "statement", exact_rows([1.0] * 5, hypotheses=[case2]))
    assert result.verdict == NOT_APPLICABLE
    assert "Case 2 (near orthogonality) fails (worst margin -0.7)" in result.explanation


def test_settings_outside_the_hypotheses_are_left_out():
    rows = exact_rows([0.5, 0.8, 1.0])
    rows.append(RateMeasurement("bad", 10.0, ErrorInterval.exact(-100.0 * 10.0),
                                (Hypothesis("H", holds=False, margin=-1.0),)))
    result = constant_band_check("band", "statement", rows)
    assert result.verdict == PASS and result.numbers["excluded"] == {"bad": ["H"]}
    assert "bad" not in result.settings


def test_one_setting_is_inconclusive():
    result = constant_band_check("band", "statement", exact_rows([1.0], psis=[5.0]))
    assert result.verdict == INCONCLUSIVE and "at least 2" in result.to_conclude


def test_band_fit_edges():
    assert band_fit([1.0, 2.0], [3.0, 5.0], 10).verdict == PASS
    assert band_fit([1.0, 2.0], [3.0, 50.0], 10).verdict == INCONCLUSIVE  # wide but compatible
    assert band_fit([0.1, 20.0], [0.2, 30.0], 10).verdict == FAIL  # 20 / 0.2 = 100 > 10
    assert band_fit([-0.1, 1.0], [0.5, 2.0], 10).verdict == INCONCLUSIVE  # cannot exclude err >= C
    assert band_fit([-1.0, 1.0], [-0.5, 2.0], 10).verdict == FAIL  # err surely above C
    with pytest.raises(ValueError):
        band_fit([1.0], [2.0], 1.0)


def test_implied_constant_uses_the_prefactor():
    measurement = RateMeasurement("s", 4.0, ErrorInterval.exact(-3.0))
    # C = e: c = (log C - log err) / psi = (1 + 3) / 4
    assert implied_constant(measurement, prefactor=math.e) == pytest.approx((1.0, 1.0, 1.0), rel=1e-15)


def test_error_interval_from_counts_is_clopper_pearson_in_logs():
    interval = ErrorInterval.from_counts(7, 1000, 0.9)
    # Independent evaluation of the Beta quantiles of the Clopper-Pearson interval.
    assert interval.log_lower == pytest.approx(math.log(beta.ppf(0.05, 7, 994)), rel=1e-12)
    assert interval.log_upper == pytest.approx(math.log(beta.ppf(0.95, 8, 993)), rel=1e-12)
    assert interval.log_point == pytest.approx(math.log(0.007), rel=1e-15)
    zero = ErrorInterval.from_counts(0, 1000, 0.9)
    assert zero.log_lower == -math.inf and zero.log_point == -math.inf
    assert not zero.is_exact and ErrorInterval.exact(-5.0).resolution() is None


def test_pointwise_checks():
    ok = check_close("k", "identity", "s", 1.0 + 1e-13, 1.0, atol=1e-12, section="§2")
    assert ok.verdict == PASS and ok.provenance == "EXACT"
    assert check_close("k", "identity", "s", 1.1, 1.0, atol=1e-12, section="§2").verdict == FAIL
    assert check_close("k", "identity", "s", math.nan, 1.0, atol=1.0, section="§2").verdict == FAIL
    assert check_inside("k", "e", "s", -5.0, -5.5, -4.9, section="§2.4").verdict == PASS
    assert check_inside("k", "e", "s", -4.0, -5.5, -4.9, section="§2.4").verdict == FAIL
    assert check_at_most("k", "b", "s", -3.0, -2.0, section="§2.4").verdict == PASS
    result = check_at_most("k", "b", "s", -1.0, -2.0, section="§2.4")
    assert result.verdict == FAIL and result.failing == ("s",)
    na = check_close("k", "identity", "s", 1.0, 1.0, atol=0.0, section="§3",
                     hypotheses=[Hypothesis("Case 1", holds=False, margin=-2.5)])
    assert na.verdict == NOT_APPLICABLE and "Case 1 fails (worst margin -2.5)" in na.explanation


def test_combine_puts_fail_first():
    parts = [check_close("k", "i", f"s{i}", v, 0.0, atol=0.5, section="§2") for i, v in enumerate([0.1, 2.0, 0.2])]
    result = combine("k", "i", parts, provenance="EXACT", section="§2")
    assert result.verdict == FAIL and result.failing == ("s1",)
    assert result.explanation.startswith("1 FAIL, 2 PASS.")
    assert combine("k", "i", [], provenance="EXACT", section="§2").verdict == NOT_APPLICABLE


def test_check_result_rejects_unknown_labels():
    with pytest.raises(ValueError):
        CheckResult("k", "s", "GUESSED", "§1", PASS, "e")
    with pytest.raises(ValueError):
        CheckResult("k", "s", "EXACT", "§1", "MAYBE", "e")


def test_fit_slope_recovers_a_line():
    u = np.linspace(0.0, 2.0, 9)
    fit = fit_slope(u, 3.0 * u - 1.0)
    # An exact line: slope and intercept to rounding (a few ulps times the sums' length).
    assert fit.slope == pytest.approx(3.0, rel=1e-12) and fit.intercept == pytest.approx(-1.0, rel=1e-12)
    assert fit.stderr < 1e-12 and fit.points == 9


def test_hinge_fit_locates_a_knee():
    u = np.linspace(-2.0, 2.0, 41)
    v = np.where(u < 0.5, 4.0 * (u - 0.5), 2.0 * (u - 0.5)) + 1.0
    fit = hinge_fit(u, v)
    # The knee grid has spacing 3.8/400 < 0.01; the slopes are exact once the knee is on a grid point.
    assert abs(fit.knee - 0.5) < 0.01
    assert fit.slope_before == pytest.approx(4.0, abs=0.05) and fit.slope_after == pytest.approx(2.0, abs=0.05)
    assert hinge_fit(u[:3], v[:3]) is None


def transition(signal, n=40, d=4000, shape="reconstructed"):
    signal = np.asarray(signal, float)
    psi = n * signal**4 / (n * signal**2 + d) if shape == "reconstructed" else n * signal**4 / d
    return np.sqrt(psi), n * signal**2 / d


def test_phase_transition_passes_on_the_reconstructed_shape():
    signal = np.logspace(0.0, 2.0, 13)  # r = n mu^2 / d from 0.01 to 100
    root_psi, r = transition(signal)
    log_err = log_ndtr(-root_psi)  # err = Phi(-sqrt(psi)), exact in logs
    names = [f"s{i}" for i in range(len(signal))]
    result = phase_transition_check("pt", "transition", names, signal, log_err, r)
    assert result.verdict == PASS
    # log psi = const + 4 log mu - log(1 + r) is symmetric about r = 1 in log r: the knee is there,
    # up to the grid and the sampling of 13 points (one point per 1/3 decade of r).
    assert result.numbers["knee_decades_from_r1"] < 0.2
    # The slope of log psi is 4 - 2 r/(1 + r), which is 4 or 2 only far from r = 1: a hinge fitted to
    # this smooth crossover over r in [0.01, 100] gives about 3.8 and 2.3, so 0.5 is the bias of
    # the two-segment fit with room, not noise (the data are exact).
    assert result.numbers["slope_weak"] == pytest.approx(4.0, abs=0.5)
    assert result.numbers["slope_strong"] == pytest.approx(2.0, abs=0.5)


def test_phase_transition_without_a_knee_fails():
    signal = np.logspace(0.0, 2.0, 13)
    root_psi, r = transition(signal, shape="weak-only")
    result = phase_transition_check("pt", "t", [f"s{i}" for i in range(13)], signal, log_ndtr(-root_psi), r)
    assert result.verdict == FAIL and "strong-side slope" in result.explanation


def test_phase_transition_inconclusive_cases():
    signal = np.logspace(0.0, 0.9, 6)  # r from 0.01 to 0.63: never crosses 1
    root_psi, r = transition(signal)
    names = [f"s{i}" for i in range(6)]
    result = phase_transition_check("pt", "t", names, signal, log_ndtr(-root_psi), r)
    assert result.verdict == INCONCLUSIVE and "both sides of r = 1" in result.to_conclude
    few = phase_transition_check("pt", "t", names[:3], signal[:3], log_ndtr(-root_psi[:3]), r[:3])
    assert few.verdict == INCONCLUSIVE and "four distinct" in few.to_conclude


def test_exponent_proxies():
    # probit: err = Phi(-sqrt(psi)) gives back psi, also far below float64's smallest number.
    # log_ndtr and ndtri_exp are accurate to a few ulps; 1e-9 leaves room for the conditioning of
    # the inverse near psi = 0.5 (d psi / d log err ~ 2 sqrt(psi) / phi-ratio, below 10 here).
    for psi in (0.5, 30.0, 5000.0):
        assert exponent_proxy(float(log_ndtr(-math.sqrt(psi)))) == pytest.approx(psi, rel=1e-9)
    assert exponent_proxy(-7.0, "log") == 7.0
    with pytest.raises(ValueError):
        exponent_proxy(-1.0, "square")


def test_inconclusive_from_two_medium_intervals_names_the_extremes():
    # Implied-constant intervals [1, 3] and [2, 12]: compatible with a band of ratio 10 (e.g. c = 2.5
    # for both) but not contained in one (12 / 1 = 12 > 10). Built as exact ends of an interval.
    rows = [RateMeasurement("a", 1.0, ErrorInterval(-2.0, -3.0, -1.0, 5, 100, 0.95)),
            RateMeasurement("b", 1.0, ErrorInterval(-5.0, -12.0, -2.0, 5, 100, 0.95))]
    result = constant_band_check("band", "statement", rows)
    assert result.verdict == INCONCLUSIVE
    assert result.to_conclude.startswith("needs more test points at b and a")
    assert result.numbers["ratio_needed"] == pytest.approx(12.0, rel=1e-12)
