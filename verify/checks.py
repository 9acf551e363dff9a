"""The verifier's checks: every encoded statement confronted with the measured rows (docs/theory.md §7).

Each check reads the tidy rows of `verify.measure` (one ``final`` row and several ``checkpoint``
rows per (setting, replicate)) and returns one `CheckResult`: a verdict, the statement it judges
with its provenance label and docs/theory.md section, the settings it used and those at fault, and the
numbers behind the verdict.

- EXACT / DERIVED statements are checked pointwise: one violation beyond floating-point error or
  beyond its (simultaneous, Bonferroni-corrected, Clopper–Pearson) interval is a FAIL.
- RECONSTRUCTED rates ``err ~ exp(-c psi)`` are checked by constant bands: the implied constant
  ``c_hat = -log(err) / psi`` of every setting must fit one band ``[c_lo, c_hi]`` with
  ``c_hi / c_lo <= B``. FAIL when no band can meet every interval (the exponent's shape is wrong),
  PASS when one band contains every interval, INCONCLUSIVE in between (intervals too wide: more
  test points would decide), NOT APPLICABLE when no setting satisfies the hypotheses.
- BEYOND settings (docs/theory.md §8) never enter a check of the paper's statements (PAPER,
  RECONSTRUCTED); they get "no encoded theorem applies". EXACT identities that hold for every run
  (the step-one criterion, pattern persistence under Case 1, the linear boundary of the limit
  network, exact errors and conditional bounds) are checked on them too.

Verdicts are the strings of `VERDICTS`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from bounds import symbolic
from bounds.rates import parameter_values
from bounds.theorem_5_1 import DATA_CONDITION_CONSTANTS
from theorybench.stats import clopper_pearson
from verify.suite import Setting, Suite, SuiteOptions
from verify.verdicts import (
    FAIL,
    INCONCLUSIVE,
    NOT_APPLICABLE,
    PASS,
    CheckResult,
    ErrorInterval,
    Hypothesis,
    RateMeasurement,
    constant_band_check,
    not_applicable,
    phase_transition_check,
)

Row = dict[str, Any]

# A step-one activation value s_j y_k <x_k, w_j(1)> whose magnitude is below this multiple of the
# magnitude of its two summands is within rounding of 0: the criterion and GD may then disagree
# on its sign without either being wrong. Each summand is a sum of at most n + d float64 products,
# so its rounding error is below (n + d) * eps ~ 1e-12 relative for n + d <= 10^4; 1e-9 keeps a
# thousandfold margin.
BORDERLINE_RELATIVE = 1e-9

# A run is evidence of directional convergence when 1 - cos at its last checkpoint is at most this
# factor times its value at the middle checkpoint. The rate 1 - cos ~ a / log^2 t (docs/theory.md §2.5)
# predicts a factor 1/4 between t = sqrt(T) and T (log-spaced checkpoints); 0.9 asks for a clear
# decrease while accepting runs far slower than that rate.
PROGRESS_FACTOR = 0.9
# 1 - cos is computed from a cosine; below ~1e-15 it is cancellation, so a value under 1e-12 (a
# thousandfold margin) means the direction has converged to what float64 can show.
ROUNDING_FLOOR = 1e-12
# ||W|| that changes by less than this relative amount over the second half of a run has stopped
# moving: every GD increment is below the float64 resolution of the weights (2.2e-16 relative per
# step, at most ~1e4 steps between checkpoints).
FROZEN_RELATIVE = 1e-12

# Keys of the encoded theorems (`bounds.THEOREMS`) and of the checks other modules refer to.
THEOREM_4_8 = "4.8"
THEOREM_5_1 = "5.1"
THEOREM_6_2 = "6.2"
THEOREM_6_3 = "6.3"
CASE_ONE = f"hyp/{THEOREM_4_8}/case1/holds"
CANDIDATES = ("psi", "psi_alt", "cao_gu_belkin", "psi_de")
# psi and psi_alt are RECONSTRUCTED (docs/theory.md §4); the Cao–Gu–Belkin exponent is PRIOR (§6)
CANDIDATE_PROVENANCE = {"cao_gu_belkin": "PRIOR"}
BAND_LIMIT = "reconstructed.band[5.1, limit direction]"
BAND_NETWORK = "reconstructed.band[5.1, trained network]"
_NO_SETTING = "The suite has no setting of the kind this statement speaks about; nothing was checked."


# ---------------------------------------------------------------------------------------------
# Row access

def final_rows(rows: Sequence[Row]) -> list[Row]:
    """The whole-run rows (``kind == "final"``), in the given order."""
    return [row for row in rows if row.get("kind") == "final"]


def checkpoints_by_unit(rows: Sequence[Row]) -> dict[tuple[str, int], list[Row]]:
    """The checkpoint rows of every unit, keyed by ``(setting, replicate)``, by increasing step
    (one pass over the rows: a sweep of 1350 units has 16 200 of them)."""
    units: dict[tuple[str, int], list[Row]] = {}
    for row in rows:
        if row.get("kind") == "checkpoint":
            units.setdefault((row["setting"], row["replicate"]), []).append(row)
    return {unit: sorted(selected, key=lambda row: row["step"]) for unit, selected in units.items()}


def _in_theory(suite: Suite, rows: Sequence[Row]) -> list[Row]:
    """Final rows of the settings that are not BEYOND."""
    beyond = {s.name for s in suite.settings if s.beyond}
    return [row for row in final_rows(rows) if row["setting"] not in beyond]


def _config(suite: Suite, row: Row):
    """The configuration of the setting a row belongs to."""
    return suite.setting(row["setting"]).config


def _unit(row: Row) -> str:
    return f"{row['setting']} (replicate {row['replicate']})"


def _settings_of(rows: Sequence[Row]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(row["setting"] for row in rows))


def _family_level(options: SuiteOptions, count: int) -> float:
    """Per-interval confidence so that `count` intervals hold together at the family level."""
    return 1.0 - (1.0 - options.family_confidence) / max(count, 1)


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _format(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _format_range(values: Sequence[float] | None) -> str:
    return "—" if values is None else f"[{values[0]:.2f}, {values[1]:.2f}]"


# ---------------------------------------------------------------------------------------------
# EXACT / DERIVED pointwise checks (docs/theory.md §2, §3)

def check_step_one_criterion(suite: Suite, rows: Sequence[Row]) -> CheckResult:
    """EXACT (docs/theory.md §3): the step-one activation criterion predicts what GD did at step 1.

    .. math::
        s_j y_k \\langle x_k, w_j(1)\\rangle = s_j y_k H_{kj}(0)
        + \\frac{\\eta}{n\\sqrt m}\\sum_i \\ell_i(0)\\,\\varphi'(H_{ij}(0))\\, y_i y_k K_{ki} > 0

    Every (sample, neuron) pair whose criterion value is not within rounding of 0 must be
    correctly activated after step 1 exactly when the criterion is positive. Applies to every
    setting, BEYOND included (the identity holds for any loss written through its derivative).
    """
    finals = [row for row in final_rows(rows) if row.get("step1_pairs") is not None]
    base = dict(key="exact.step_one_criterion", provenance="EXACT", section="§3",
                statement="The exact step-one criterion predicts which (sample, neuron) pairs are "
                          "correctly activated after the first gradient step.")
    if not finals:
        return CheckResult(verdict=NOT_APPLICABLE, explanation="No run reached step 1.", **base)
    bad = [row for row in finals if row["step1_disagreements"] > 0]
    pairs = sum(row["step1_pairs"] for row in finals)
    borderline = sum(row["step1_borderline"] for row in finals)
    numbers = {"pairs": pairs, "borderline_pairs": borderline,
               "disagreements": sum(row["step1_disagreements"] for row in finals)}
    if bad:
        return CheckResult(
            verdict=FAIL, settings=_settings_of(finals), failing=_settings_of(bad), numbers=numbers,
            explanation=f"The criterion and gradient descent disagree on {numbers['disagreements']} "
                        f"pairs, in {', '.join(_unit(r) for r in bad)}.", **base)
    return CheckResult(
        verdict=PASS, settings=_settings_of(finals), numbers=numbers,
        explanation=f"All {pairs - borderline} decidable pairs agree ({borderline} within rounding of "
                    "0 were not judged).", **base)


def _theorem_4_8_conclusions(row: Row) -> list[str]:
    """The conclusions of Theorem 4.8 that failed on one run (empty when all held): the pattern
    after step 1, its persistence, the limit direction's certificate, the linear boundary."""
    failed = []
    if row.get("step1_pairs") is not None and row.get("step1_actual_correct") != row["step1_pairs"]:
        failed.append(f"{row['step1_pairs'] - row['step1_actual_correct']} of {row['step1_pairs']} "
                      "pairs not correctly activated after step 1")
    if row.get("first_pattern_break") is not None:
        failed.append(f"pattern broke at step {row['first_pattern_break']}")
    if not row.get("ld_ok"):
        failed.append(f"no certified limit direction ({row.get('ld_refusal') or row.get('ld_reason')})")
    if row.get("limit_disagreements"):
        failed.append(f"limit boundary not linear on {row['limit_disagreements']} points")
    return failed


def _counterexample(row: Row, failed: Sequence[str]) -> str:
    return f"{_unit(row)}, seed {row.get('seed')}: " + "; ".join(failed)


def check_theorem_4_8_conclusions(suite: Suite, rows: Sequence[Row], theorem: str) -> CheckResult:
    """PAPER (docs/theory.md §3, Theorem 4.8): where the theorem applies on a run (every hypothesis,
    the limit direction's certificate included), its conclusions hold on that run: every neuron is
    correctly activated after step 1, the pattern persists at every later step, the limit
    direction is certified and its boundary linear. A run where they do not is listed as a
    counterexample with its seed."""
    base = dict(key="paper.theorem_4_8_conclusions", provenance="PAPER", section="§3",
                statement="Theorem 4.8: where it applies, the pattern holds after step 1 and "
                          "thereafter, and the limit direction is certified with a linear boundary.")
    applicable = [row for row in _in_theory(suite, rows) if row.get(f"applies/{theorem}")]
    if not applicable:
        return _not_applicable(suite, rows, theorem, base)
    bad = [(row, _theorem_4_8_conclusions(row)) for row in applicable]
    bad = [(row, failed) for row, failed in bad if failed]
    settings = _settings_of(applicable)
    numbers = {"runs": len(applicable), "counterexamples": [_counterexample(r, f) for r, f in bad]}
    if bad:
        return CheckResult(
            verdict=FAIL, settings=settings, failing=_settings_of([r for r, _ in bad]), numbers=numbers,
            explanation="Hypotheses held but a conclusion failed (counterexamples): "
                        + " | ".join(numbers["counterexamples"]) + ".", **base)
    return CheckResult(verdict=PASS, settings=settings, numbers=numbers, **base,
                       explanation=f"Every conclusion held on all {len(applicable)} runs where the "
                                   "theorem applies.")


def check_pattern_persistence(suite: Suite, rows: Sequence[Row], case_one: str) -> CheckResult:
    """EXACT (docs/theory.md §3): under Case 1 (all ``<y_i x_i, y_k x_k> >= 0``, observed labels) a
    pattern that holds after step 1 persists at every later step: every increment
    :math:`\\frac{\\eta}{n}|a_j|\\sum_i \\ell_i \\varphi'(H_{ij}) y_i y_k K_{ki}` of
    ``s_j y_k <x_k, w_j>`` is >= 0 whatever the positive loss derivative, step size or second
    layer, so BEYOND runs are checked too."""
    base = dict(key="exact.pattern_persistence", provenance="EXACT", section="§3",
                statement="Case 1: once every neuron is correctly activated, the pattern persists.")
    applicable = [row for row in final_rows(rows)
                  if row.get(case_one) and row.get("step1_actual_correct") == row.get("step1_pairs")]
    if not applicable:
        return CheckResult(verdict=NOT_APPLICABLE, **base,
                           explanation="No run had Case 1 on its sample with the pattern complete after "
                                       "step 1.")
    bad = [row for row in applicable if row.get("first_pattern_break") is not None]
    if bad:
        return CheckResult(
            verdict=FAIL, settings=_settings_of(applicable), failing=_settings_of(bad), **base,
            explanation="The pattern broke although Case 1 held: " + ", ".join(
                f"{_unit(r)} at step {r['first_pattern_break']}" for r in bad) + ".")
    return CheckResult(verdict=PASS, settings=_settings_of(applicable), **base,
                       explanation=f"The pattern persisted to the end in all {len(applicable)} Case 1 runs.")


def convergence_exponent(steps: Sequence[int], gaps: Sequence[float]) -> tuple[float, float] | None:
    """Least-squares fit of ``1 - cos = a (log t)^(-b)`` on checkpoints with ``t >= 3``.

    DERIVED (docs/theory.md §2.2): Soudry et al.'s ``O(1/log t)`` rate for the normalised iterate gives
    ``1 - cos = O(1/log^2 t)``, i.e. ``b >= 2`` asymptotically (``b ~ 2`` is what §2.5 measures).
    Returns ``(b, log a)`` or None with fewer than three usable points.
    """
    points = [(math.log(math.log(t)), math.log(g)) for t, g in zip(steps, gaps)
              if t >= 3 and _finite(g) and g > 0]
    if len(points) < 3:
        return None
    u, v = np.array(points).T
    slope, intercept = np.polyfit(u, v, 1)
    return float(-slope), float(intercept)


def convergence_evidence(row: Row, checkpoints: Sequence[Row]) -> tuple[bool, str]:
    """Whether one run is evidence of directional convergence, and why (docs/theory.md §2.5).

    Evidence: ``1 - cos`` at the last checkpoint is at most `PROGRESS_FACTOR` times its value at
    the middle checkpoint (the second half of the log-spaced checkpoints), or below
    `ROUNDING_FLOOR` (converged to what float64 can show). Otherwise the run is no evidence, with
    the reason: it stopped at the loss floor, its iterate stopped moving (the loss underflows: the
    gradient is below float64 resolution), ``1 - cos`` grew, or it decreased by less than the factor.
    """
    points = [(c["step"], c["one_minus_cos"], c["log_loss"], c["weight_norm"]) for c in checkpoints
              if c["step"] >= 1 and _finite(c.get("one_minus_cos"))]
    if len(points) < 2:
        return False, "fewer than two checkpoints with 1 - cos"
    middle, last = points[(len(points) - 1) // 2], points[-1]
    if last[1] <= ROUNDING_FLOOR:
        return True, f"1 - cos = {last[1]:.2g}, at the rounding floor"
    if last[1] <= PROGRESS_FACTOR * middle[1]:
        return True, f"1 - cos fell from {middle[1]:.3g} (step {middle[0]}) to {last[1]:.3g}"
    if row.get("stop_reason") == "loss_floor":
        return False, f"stopped at the loss floor (log L = {last[2]:.4g}) at step {last[0]}"
    if abs(last[3] - middle[3]) <= FROZEN_RELATIVE * middle[3]:
        return False, (f"the iterate stopped moving between steps {middle[0]} and {last[0]} "
                       f"(||W|| unchanged, log L = {last[2]:.4g}: the gradient underflows)")
    if last[1] > middle[1]:
        return False, f"1 - cos grew from {middle[1]:.3g} to {last[1]:.3g} over the second half"
    return False, (f"1 - cos fell only from {middle[1]:.4g} to {last[1]:.4g} over the second half "
                   f"(less than the factor {PROGRESS_FACTOR:g})")


def check_directional_convergence(suite: Suite, rows: Sequence[Row]) -> CheckResult:
    """EXACT (docs/theory.md §2.2, Soudry et al. 2018): while the pattern holds, ``W(t)/||W(t)||``
    converges to ``W_hat/||W_hat||``.

    Judged on runs whose pattern held at every step and whose limit direction has a valid
    certificate. A run counts as evidence only if it made progress (`convergence_evidence`):
    stalled runs (loss floor, frozen iterate, no decrease) are listed as "no evidence" with their
    reason, never counted for the statement. PASS when at least one run gives evidence and no
    moving run has ``1 - cos`` growing over its second half; INCONCLUSIVE otherwise (longer runs
    would decide: a finite run cannot falsify a limit). The fitted exponent ``b`` of
    ``a (log t)^(-b)`` and the number of evidence runs ending below the suite's
    ``direction_tolerance`` are reported.
    """
    tolerance = suite.options.direction_tolerance
    base = dict(key="exact.directional_convergence", provenance="EXACT", section="§2.2",
                statement="1 - cos(W(t), W_hat) decreases to 0 while the pattern holds (judged on "
                          "runs that made progress).")
    applicable = [row for row in _in_theory(suite, rows)
                  if row.get("first_pattern_break") is None and row.get("ld_ok")
                  and row.get("step1_actual_correct") == row.get("step1_pairs")]
    if not applicable:
        return CheckResult(verdict=NOT_APPLICABLE, **base,
                           explanation="No run kept its pattern with a certified limit direction.")
    evidence, stalled, growing, exponents = [], [], [], []
    by_unit = checkpoints_by_unit(rows)
    for row in applicable:
        checkpoints = by_unit.get((row["setting"], row["replicate"]), [])
        ok, why = convergence_evidence(row, checkpoints)
        (evidence if ok else stalled).append((row, why))
        if not ok and why.startswith("1 - cos grew"):
            growing.append(row)
        points = [(c["step"], c["one_minus_cos"]) for c in checkpoints
                  if c["step"] >= 1 and _finite(c.get("one_minus_cos"))]
        fit = convergence_exponent([t for t, _ in points[len(points) // 2:]],
                                   [g for _, g in points[len(points) // 2:]])
        if ok and fit is not None:
            exponents.append(fit[0])
    finals = [row["final_one_minus_cos"] for row, _ in evidence]
    numbers = {"runs": len(applicable), "evidence": len(evidence), "no_evidence": len(stalled),
               "no_evidence_reasons": {_unit(row): why for row, why in stalled},
               "evidence_below_tolerance": sum(g <= tolerance for g in finals),
               "largest_final_gap": max(finals) if finals else None,
               "fitted_exponent_median": float(np.median(exponents)) if exponents else None,
               "fitted_exponent_range": [min(exponents), max(exponents)] if exponents else None}
    tally = (f"{len(evidence)} of {len(applicable)} runs gave evidence, {len(stalled)} did not"
             + (" (" + "; ".join(f"{_unit(row)}: {why}" for row, why in stalled) + ")" if stalled else ""))
    if growing or not evidence:
        return CheckResult(
            verdict=INCONCLUSIVE, settings=_settings_of(applicable),
            failing=_settings_of(growing or applicable), numbers=numbers, **base,
            to_conclude="longer runs (training.max_steps) or a step size that keeps the loss above "
                        "float64 underflow",
            explanation=tally + ".")
    return CheckResult(verdict=PASS, settings=_settings_of(applicable), numbers=numbers, **base,
                       explanation=f"{tally}. In every evidence run 1 - cos decreased by at least "
                                   f"the factor {PROGRESS_FACTOR:g} over the second half; "
                                   f"{numbers['evidence_below_tolerance']} of them end below "
                                   f"{tolerance:g}; fitted (log t)^-b exponent b: median "
                                   f"{_format(numbers['fitted_exponent_median'])}, range "
                                   f"{_format_range(numbers['fitted_exponent_range'])}.")


def check_linear_boundary_limit(suite: Suite, rows: Sequence[Row]) -> CheckResult:
    """EXACT (docs/theory.md §2.3): with balanced neurons ``sign f(x; W_hat) = sign <w_bar, x>`` for
    every x; checked on every test point of every run with a certified limit direction (points
    within rounding of the boundary excluded)."""
    base = dict(key="exact.linear_boundary_limit", provenance="EXACT", section="§2.3",
                statement="The limit network's decision boundary is the hyperplane <w_bar, x> = 0.")
    applicable = [row for row in final_rows(rows) if row.get("ld_ok") and _config(suite, row).network.balanced
                  and row.get("limit_disagreements") is not None]
    if not applicable:
        return CheckResult(verdict=NOT_APPLICABLE, **base,
                           explanation="No run with balanced neurons has a certified limit direction.")
    bad = [row for row in applicable if row["limit_disagreements"] > 0]
    if bad:
        return CheckResult(verdict=FAIL, settings=_settings_of(applicable), failing=_settings_of(bad), **base,
                           explanation="Signs differ on " + ", ".join(
                               f"{r['limit_disagreements']} points of {_unit(r)}" for r in bad) + ".")
    points = sum(row["test_points"] for row in applicable)
    return CheckResult(verdict=PASS, settings=_settings_of(applicable), numbers={"points": points}, **base,
                       explanation=f"Signs agree on all {points} test points of {len(applicable)} runs.")


def check_linear_boundary_trained(suite: Suite, rows: Sequence[Row]) -> CheckResult:
    """PAPER (docs/theory.md §3): the trained network's boundary is (approximately, as W(T) -> W_hat)
    the hyperplane ``<w_bar, x> = 0``: on runs where Theorem 4.8 applies and ``1 - cos(W(T), W_hat)``
    is within the suite's ``direction_tolerance``, the disagreement rate of ``sign f(x; W(T))`` and
    ``sign <w_bar, x>`` on fresh points is at most the suite's ``agreement_tolerance``, judged by
    simultaneous Clopper–Pearson intervals."""
    tolerance = suite.options.agreement_tolerance
    close = suite.options.direction_tolerance
    base = dict(key="paper.linear_boundary_trained", provenance="PAPER", section="§3",
                statement=f"Where Theorem 4.8 applies and 1 - cos(W(T), W_hat) <= {close:g}: sign f(x; W(T)) "
                          f"= sign <w_bar, x> on all but a fraction {tolerance:g} of points.")
    # The boundary of W(T) approaches that of W_hat only as the direction does: a run still far from
    # W_hat (or one the theorem does not speak about) is no test of the statement.
    applicable = [row for row in _in_theory(suite, rows) if row.get("ld_ok") and row.get(f"applies/{THEOREM_4_8}")
                  and row.get("first_pattern_break") is None and row.get("disagreements") is not None
                  and _finite(row.get("final_one_minus_cos")) and row["final_one_minus_cos"] <= close]
    if not applicable:
        return CheckResult(verdict=NOT_APPLICABLE, **base,
                           explanation="No run where Theorem 4.8 applies kept its pattern and came within "
                                       f"1 - cos <= {close:g} of its certified limit direction.")
    level = _family_level(suite.options, len(applicable))
    bad, open_ = [], []
    for row in applicable:
        lower, upper = clopper_pearson(row["disagreements"], row["test_points"], level)
        if lower > tolerance:
            bad.append(row)
        elif upper > tolerance:
            open_.append(row)
    rates = [row["disagreements"] / row["test_points"] for row in applicable]
    numbers = {"largest_rate": max(rates), "interval_level": level}
    if bad:
        return CheckResult(verdict=FAIL, settings=_settings_of(applicable), failing=_settings_of(bad),
                           numbers=numbers, **base,
                           explanation="Disagreement above tolerance in " + ", ".join(
                               f"{_unit(r)} ({r['disagreements']}/{r['test_points']})" for r in bad) + ".")
    if open_:
        return CheckResult(verdict=INCONCLUSIVE, settings=_settings_of(applicable), failing=_settings_of(open_),
                           numbers=numbers, **base,
                           explanation="The interval of the disagreement rate straddles the tolerance in "
                                       + ", ".join(_unit(r) for r in open_) + "; more test points would decide.")
    return CheckResult(verdict=PASS, settings=_settings_of(applicable), numbers=numbers, **base,
                       explanation=f"Largest disagreement rate {max(rates):.3g}, every upper bound "
                                   f"(level {level:.4f}) below {tolerance:g}.")


def check_exact_error_vs_monte_carlo(suite: Suite, rows: Sequence[Row]) -> CheckResult:
    """EXACT (docs/theory.md §2.4): for Gaussian noise
    :math:`\\mathrm{err}(\\bar w) = \\Phi(-\\langle \\bar w, \\mu\\rangle / \\|\\Sigma^{1/2}\\bar w\\|)`;
    the Monte Carlo error of ``sign <w_bar, x>`` must contain it in its simultaneous interval."""
    base = dict(key="exact.gaussian_error", provenance="EXACT", section="§2.4",
                statement="The exact Gaussian error of the limit direction lies in the Monte Carlo interval.")
    applicable = [row for row in final_rows(rows) if row.get("log_limit_error") is not None
                  and row.get("linear_errors") is not None]
    if not applicable:
        return CheckResult(verdict=NOT_APPLICABLE, **base,
                           explanation="No Gaussian run with a certified limit direction.")
    level = _family_level(suite.options, len(applicable))
    bad = []
    for row in applicable:
        lower, upper = clopper_pearson(row["linear_errors"], row["test_points"], level)
        exact = math.exp(row["log_limit_error"])
        if not lower <= exact <= upper:
            bad.append((row, exact, lower, upper))
    numbers = {"runs": len(applicable), "interval_level": level}
    if bad:
        return CheckResult(verdict=FAIL, settings=_settings_of(applicable),
                           failing=_settings_of([b[0] for b in bad]), numbers=numbers, **base,
                           explanation="Exact error outside the interval in " + ", ".join(
                               f"{_unit(r)}: exact {e:.4g}, interval [{lo:.4g}, {hi:.4g}]"
                               for r, e, lo, hi in bad) + ".")
    return CheckResult(verdict=PASS, settings=_settings_of(applicable), numbers=numbers, **base,
                       explanation=f"All {len(applicable)} exact errors inside their intervals "
                                   f"(simultaneous level {suite.options.family_confidence:g}).")


def check_conditional_bounds(suite: Suite, rows: Sequence[Row]) -> CheckResult:
    """EXACT (docs/theory.md §2.4): the conditional bounds (sub-Gaussian, Cantelli, fourth moment) on
    the error of ``sign <w_bar, x>`` are not below its Monte Carlo interval."""
    base = dict(key="exact.conditional_bounds", provenance="EXACT", section="§2.4",
                statement="The best conditional bound on the limit direction's error is not below its "
                          "Monte Carlo interval.")
    applicable = [row for row in final_rows(rows) if _finite(row.get("log_bound_best"))
                  and row.get("linear_errors") is not None]
    if not applicable:
        return CheckResult(verdict=NOT_APPLICABLE, **base,
                           explanation="No run has a valid conditional bound (it needs <w_bar, mu> > 0).")
    level = _family_level(suite.options, len(applicable))
    bad = []
    for row in applicable:
        lower, _ = clopper_pearson(row["linear_errors"], row["test_points"], level)
        if lower > math.exp(row["log_bound_best"]):
            bad.append(row)
    slack = [row["log_bound_best"] - math.log(max(row["linear_errors"], 1) / row["test_points"])
             for row in applicable]
    numbers = {"runs": len(applicable), "interval_level": level, "smallest_log_slack": min(slack)}
    if bad:
        return CheckResult(verdict=FAIL, settings=_settings_of(applicable), failing=_settings_of(bad),
                           numbers=numbers, **base,
                           explanation="Bound below the Monte Carlo interval in " + ", ".join(
                               f"{_unit(r)} (bound exp({r['log_bound_best']:.4g}), "
                               f"{r['linear_errors']}/{r['test_points']} errors)" for r in bad) + ".")
    return CheckResult(verdict=PASS, settings=_settings_of(applicable), numbers=numbers, **base,
                       explanation=f"All {len(applicable)} bounds are above their intervals' lower ends.")


def check_constant_consistency(suite: Suite, rows: Sequence[Row]) -> CheckResult:
    """RECONSTRUCTED constants judged by an EXACT comparison (docs/theory.md §4, §7): no printed bound of
    a theorem that applies to a run may
    contradict an exact quantity of that run — an upper bound below the Bayes error (Gaussian
    noise), or a lower bound above the exact error of the limit direction. Such a bound is an
    inconsistency of the encoded constants (`bounds.theorem_5_1.consistency_conclusions`)."""
    # The comparison is exact; what it judges is the RECONSTRUCTED (or PRIOR) constants.
    base = dict(key="consistency.encoded_constants", provenance="RECONSTRUCTED", section="§4, §7",
                statement="No printed bound of an applicable theorem contradicts the Bayes error or "
                          "the exact error of the limit direction.")
    finals = _in_theory(suite, rows)
    flagged = [(row, column[len("inconsistent/"):], text) for row in finals
               for column, text in row.items() if column.startswith("inconsistent/") and text]
    binding = [(row, theorem, text) for row, theorem, text in flagged if row.get(f"applies/{theorem}")]
    listed = [f"{_unit(row)}, Theorem {theorem}: {text}" for row, theorem, text in binding]
    numbers = {"inconsistent_applicable": listed,
               "inconsistent_not_applicable": len(flagged) - len(binding)}
    if binding:
        return CheckResult(verdict=FAIL, settings=_settings_of(finals),
                           failing=_settings_of([row for row, _, _ in binding]), numbers=numbers,
                           explanation="Inconsistent constants: " + " | ".join(listed) + ".", **base)
    if not finals:
        return CheckResult(verdict=NOT_APPLICABLE, explanation=_NO_SETTING, **base)
    return CheckResult(verdict=PASS, settings=_settings_of(finals), numbers=numbers, **base,
                       explanation=f"No applicable theorem printed a bound contradicting an exact "
                                   f"quantity on {len(finals)} runs ({numbers['inconsistent_not_applicable']} "
                                   "such bounds of theorems that did not apply).")


# ---------------------------------------------------------------------------------------------
# Calibration of the universal constants (docs/theory.md §7)

# (theorem, requirement key calibrated, constant, column with its per-run critical value,
# columns of alternatives that make the key's group hold whatever the constant).
CALIBRATED = (
    (THEOREM_4_8, "case2", "C_2", f"hyp/{THEOREM_4_8}/case2/critical", (CASE_ONE,)),
    (THEOREM_5_1, "limit", "C_2", f"hyp/{THEOREM_4_8}/case2/critical", (CASE_ONE,)),
    (THEOREM_5_1, "psi_domain", "C_r", f"hyp/{THEOREM_5_1}/psi_domain/critical", ()),
    (THEOREM_6_2, "assumption_6_1", "C_61", f"hyp/{THEOREM_6_2}/assumption_6_1/critical", ()),
    (THEOREM_6_3, "assumption_6_1", "C_61", f"hyp/{THEOREM_6_3}/assumption_6_1/critical", ()),
)


def _conclusions_held(theorem: str, row: Row, level: float) -> bool:
    """Whether the theorem's conclusions held on a run: Theorem 4.8's (`_theorem_4_8_conclusions`),
    and for the error theorems also their upper bound (5.1: the exact Gaussian error of w_bar;
    6.2, 6.3: the lower end of the Monte Carlo interval of sign <w_bar, x>)."""
    if _theorem_4_8_conclusions(row):
        return False
    upper = row.get(f"concl/{theorem}/upper bound")
    if theorem == THEOREM_4_8 or not _finite(upper):
        return True
    if theorem == THEOREM_5_1 and _finite(row.get("log_limit_error")):
        return row["log_limit_error"] <= upper
    if row.get("linear_errors") is None:
        return True
    lower, _ = clopper_pearson(row["linear_errors"], row["test_points"], level)
    return lower <= math.exp(upper)


def constant_calibration(suite: Suite, rows: Sequence[Row]) -> list[dict[str, Any]]:
    """The critical value of each universal constant of a hypothesis, from the runs (docs/theory.md §7).

    A hypothesis "... >= C ..." holds on run i exactly for C up to its critical value c_i. Over the
    runs where every *other* requirement of the theorem holds (the limit direction's certificate
    excepted: it is the toolkit's guard, not the paper's hypothesis) and no alternative of the key
    holds (Case 1 for Case 2), "hypotheses hold => conclusions held" is true for every C above
    C* = max{c_i : the conclusions failed on run i} (0 when they never failed). Reported: C*, the
    runs each choice admits (C just above C*, and the default C), and whether the default is sound.
    """
    from bounds import THEOREMS

    requirements = {t.key: t.requirements for t in THEOREMS}
    defaults = {t.key: t.constants for t in THEOREMS}
    finals = _in_theory(suite, rows)
    level = _family_level(suite.options, max(len(finals), 1))
    out = []
    for theorem, key, constant, column, alternatives in CALIBRATED:
        others = [group for group in requirements[theorem] if key not in group
                  and group != ("certificate",)]
        considered = []
        for row in finals:
            if not _finite(row.get(column)) or any(row.get(a) is True for a in alternatives):
                continue
            if all(any(row.get(f"hyp/{theorem}/{k}/holds") is True for k in group) for group in others):
                considered.append((row[column], _conclusions_held(theorem, row, level), row))
        if not considered:
            continue
        failures = [c for c, held, _ in considered if not held]
        critical = max(failures) if failures else 0.0
        default = defaults[theorem][constant]
        out.append({
            "theorem": theorem, "hypothesis": key, "constant": constant, "runs": len(considered),
            "critical_constant": critical, "default": default, "default_sound": default > critical,
            "admitted_above_critical": sum(c > critical for c, _, _ in considered),
            "admitted_at_default": sum(c >= default for c, _, _ in considered),
            "conclusions_failed": len(failures),
            "counterexamples": [f"{_unit(r)}, seed {r.get('seed')}, critical {c:.3g}"
                                for c, held, r in considered if not held],
        })
    return out


# ---------------------------------------------------------------------------------------------
# RECONSTRUCTED rates by constant bands (docs/theory.md §4, §5, §7)

def _hypotheses(row: Row, theorem: str, ignore: tuple[str, ...] = ()) -> tuple[Hypothesis, ...]:
    """The failed hypotheses of `theorem` on one run, as `verify.verdicts.Hypothesis` (empty when
    the theorem applies, or when only the keys in ``ignore`` fail; Theorem 4.8's alternatives make
    "applies" the deciding column)."""
    if row.get(f"applies/{theorem}"):
        return ()
    prefix = f"hyp/{theorem}/"
    failed = tuple(
        Hypothesis(name=column[len(prefix):-len("/holds")], holds=False,
                   margin=_margin(row.get(column[:-len("/holds")] + "/margin")))
        for column, value in row.items()
        if column.startswith(prefix) and column.endswith("/holds") and value is not True)
    if ignore and failed and all(h.name in ignore for h in failed):
        return ()
    return failed or (Hypothesis(name=f"{theorem} (applicability)", holds=False,
                                 reason=str(row.get(f"applies/{theorem}/reason", ""))),)


def _margin(value: Any) -> float:
    return float(value) if _finite(value) else math.nan


def _error_interval(row: Row, source: str, level: float) -> ErrorInterval | None:
    """The error of one run: exact for ``limit`` (Gaussian w_bar), Monte Carlo counts otherwise."""
    if source == "limit":
        value = row.get("log_limit_error")
        return None if value is None else ErrorInterval.exact(value)
    errors = row.get(f"{source}_errors")
    return None if errors is None else ErrorInterval.from_counts(errors, row["test_points"], level)


def check_rate_band(suite: Suite, rows: Sequence[Row], *, key: str, statement: str, section: str,
                    theorem: str, psi_field: str, source: str, select: Callable[[Setting], bool],
                    provenance: str = "RECONSTRUCTED", ignore: tuple[str, ...] = ()) -> CheckResult:
    """RECONSTRUCTED (docs/theory.md §4/§5/§7): one constant band for ``c_hat = -log err / psi``.

    `source` is ``"limit"`` (the exact Gaussian error of w_bar, a point), ``"network"`` (Monte
    Carlo error of the trained network) or ``"linear"`` (Monte Carlo error of ``sign <w_bar, x>``),
    with simultaneous (Bonferroni) Clopper–Pearson intervals. `select` picks the settings; runs
    where `theorem` does not apply are left out and listed. Decided by
    `verify.verdicts.constant_band_check` with the suite's band ratio ``B``.
    """
    chosen = {s.name for s in suite.settings if select(s) and not s.beyond}
    candidates = [row for row in final_rows(rows) if row["setting"] in chosen
                  and _finite(row.get(psi_field)) and row[psi_field] > 0]
    level = _family_level(suite.options, len(candidates))
    measurements = []
    for row in candidates:
        error = _error_interval(row, source, level)
        if error is not None:
            measurements.append(RateMeasurement(setting=_unit(row), psi=float(row[psi_field]), error=error,
                                                hypotheses=_hypotheses(row, theorem, ignore)))
    if not measurements:
        return CheckResult(key=key, statement=statement, provenance=provenance, section=section,
                           verdict=NOT_APPLICABLE,
                           explanation=_NO_SETTING if not chosen else
                           "No selected run has the needed error and exponent "
                           f"({source} error, {psi_field}).")
    result = constant_band_check(key, statement, measurements, band_ratio=suite.options.band_ratio,
                                 provenance=provenance, section=section)
    result.numbers.update(psi=psi_field, error=source,
                          interval_level=None if source == "limit" else level)
    return result


def check_one_sided_rate(suite: Suite, rows: Sequence[Row], *, key: str, statement: str, section: str,
                         theorem: str, psi_field: str, select: Callable[[Setting], bool],
                         polynomial_order_field: str | None = None) -> CheckResult:
    """RECONSTRUCTED upper bounds of docs/theory.md §5 with one free constant, fitted from the Monte
    Carlo error of ``sign <w_bar, x>`` (no exact error exists beyond Gaussian noise):

    - exponential (Theorem 6.2): ``err <= exp(-c psi)``; the largest constant that fits every run is
      ``c = min_i -log(upper_i) / psi_i``; PASS when ``c > 0``.
    - polynomial (Theorem 6.3): ``err <= C_K psi^{-r/2}``; the smallest fitting constant is
      ``C_K = max_i upper_i psi_i^{r/2}``; always PASS, reported for comparison across suites.

    FAIL only when a run's error interval lies entirely above 1/2 (no decay at all).
    """
    base = dict(key=key, provenance="RECONSTRUCTED", section=section, statement=statement)
    chosen = {s.name for s in suite.settings if select(s) and not s.beyond}
    candidates = [row for row in final_rows(rows) if row["setting"] in chosen]
    usable = [row for row in candidates if row.get(f"applies/{theorem}") and _finite(row.get(psi_field))
              and row[psi_field] > 0 and row.get("linear_errors") is not None]
    if not candidates:
        return CheckResult(verdict=NOT_APPLICABLE, **base, explanation=_NO_SETTING)
    if not usable:
        return _not_applicable(suite, candidates, theorem, base)
    level = _family_level(suite.options, len(usable))
    uppers, lowers = [], []
    for row in usable:
        lower, upper = clopper_pearson(row["linear_errors"], row["test_points"], level)
        lowers.append(lower)
        uppers.append(upper)
    bad = [row for row, lower in zip(usable, lowers) if lower > 0.5]
    numbers: dict[str, Any] = {"runs": len(usable), "interval_level": level}
    if polynomial_order_field is None:
        constant = min(-math.log(u) / row[psi_field] for row, u in zip(usable, uppers))
        numbers["c"] = constant
        fitted = f"largest fitting c = {constant:.3g}"
    else:
        constant = max(u * row[psi_field] ** (row[polynomial_order_field] / 2) for row, u in zip(usable, uppers))
        numbers["C_K"] = constant
        fitted = f"smallest fitting C_K = {constant:.3g}"
    if bad:
        return CheckResult(verdict=FAIL, settings=_settings_of(usable), failing=_settings_of(bad), numbers=numbers,
                           explanation="The error is above 1/2 in " + ", ".join(map(_unit, bad)) + ".", **base)
    return CheckResult(verdict=PASS, settings=_settings_of(usable), numbers=numbers, **base,
                       explanation=f"Over {len(usable)} runs, {fitted} (from upper interval ends at level "
                                   f"{level:.4f}).")


def _not_applicable(suite: Suite, candidates: Sequence[Row], theorem: str, base: dict[str, Any]) -> CheckResult:
    """NOT APPLICABLE (`verify.verdicts.not_applicable`), naming the failed hypotheses of
    `theorem` on the candidate runs and their worst margins."""
    finals = final_rows(candidates)
    worst: dict[str, float] = {}
    for row in finals:
        for hypothesis in _hypotheses(row, theorem):
            previous = worst.get(hypothesis.name, math.inf)
            worst[hypothesis.name] = hypothesis.margin if not hypothesis.margin >= previous else previous
    return not_applicable(base["key"], base["statement"], provenance=base["provenance"],
                          section=base["section"], failed=worst, settings=_settings_of(finals))


# ---------------------------------------------------------------------------------------------
# Phase transition (docs/theory.md §4, §7)

def check_phase_transition(suite: Suite, rows: Sequence[Row]) -> list[CheckResult]:
    """RECONSTRUCTED (docs/theory.md §4, §7): per group containing ``transition`` settings (a sweep of
    ||mu|| at fixed n and Sigma), the knee of the exponent of the exact error of w_bar against
    ``log ||mu||`` (slope 4 weak, 2 strong for Sigma = I) and its ``r`` against 1, decided by
    `verify.verdicts.phase_transition_check` (probit proxy ``(Phi^{-1}(err))^2``, which is psi
    itself when ``err = Phi(-sqrt psi)``).
    """
    results = []
    for group, settings in suite.groups().items():
        if not any(s.regime == "transition" for s in settings):
            continue
        names = {s.name: s for s in settings if not s.beyond}
        usable = [row for row in final_rows(rows) if row["setting"] in names
                  and row.get("log_limit_error") is not None and _finite(row.get("r"))]
        results.append(phase_transition_check(
            f"reconstructed.phase_transition[{group}]",
            f"Group {group}: the exponent of err(w_bar) changes from ||mu||^4 to ||mu||^2 at "
            "r = n mu^T Sigma mu / Tr Sigma^2 ~ 1.",
            [_unit(row) for row in usable],
            [names[row["setting"]].config.data.signal for row in usable],
            [row["log_limit_error"] for row in usable],
            [row["r"] for row in usable],
            knee_factor=suite.options.band_ratio))
    return results


# ---------------------------------------------------------------------------------------------
# Candidate exponents on anisotropic suites (docs/theory.md §4)

def covariance_family(setting: Setting) -> str:
    """The Sigma family of a setting, spikes told apart by direction (``spiked[e1]``...)."""
    covariance = setting.config.data.covariance
    if covariance.family == "spiked":
        return f"spiked[{covariance.spike_direction}]"
    return covariance.family


def in_psi_domain(setting: Setting) -> bool:
    """psi's validity domain (docs/theory.md §4, corrected 2026-11-29): the statement ``psi_domain``,
    Tr Sigma / ||Sigma|| >= C_r n at the error theorems' default C_r; below it the interpolator absorbs Sigma's
    top directions."""
    constant = DATA_CONDITION_CONSTANTS["C_r"]
    return symbolic.statement("psi_domain").holds({**parameter_values(setting.config), "C_r": constant})


def check_candidate_exponents(suite: Suite, rows: Sequence[Row], theorem: str,
                              candidates: Sequence[str]) -> list[CheckResult]:
    """RECONSTRUCTED (docs/theory.md §4): on the anisotropic Gaussian settings, which candidate
    exponents ``psi_k`` admit one constant band for ``-log err(w_bar) / psi_k``, over all the
    anisotropic settings and on each Sigma family separately (`covariance_family`). psi is judged
    only inside its validity domain (`in_psi_domain`). A FAIL here is a finding about the theory
    (that candidate has the wrong shape), not a bug."""
    def anisotropic(setting: Setting) -> bool:
        return setting.regime == "anisotropic" and setting.config.data.noise.family == "gaussian"

    families = sorted({covariance_family(s) for s in suite.settings if anisotropic(s)})
    out = []
    for name in candidates:
        domain = in_psi_domain if name == "psi" else (lambda setting: True)
        scopes = [("all", lambda setting: True)] if len(families) > 1 else []
        scopes += [(family, lambda setting, family=family: covariance_family(setting) == family)
                   for family in families]
        for scope, chosen in scopes:
            where = "" if scope == "all" else f" on {scope}"
            restriction = " (effective rank >= n)" if name == "psi" else ""
            result = check_rate_band(
                suite, rows, key=f"reconstructed.candidate[{name}, {scope}]", section="§4",
                theorem=theorem,
                statement=f"Anisotropic Sigma{where}: err(w_bar) = exp(-Theta({name})){restriction}.",
                psi_field=f"psi/{name}", source="limit",
                select=lambda setting, chosen=chosen, domain=domain: anisotropic(setting)
                and chosen(setting) and domain(setting),
                provenance=CANDIDATE_PROVENANCE.get(name, "RECONSTRUCTED"),
                # Theorem 5.1's psi_domain row is psi's restriction; the other candidates are
                # judged outside it too (that is the question they are asked).
                ignore=() if name == "psi" else ("psi_domain",))
            out.append(result)
    return out


def beyond_result(suite: Suite) -> CheckResult:
    """BEYOND (docs/theory.md §8): the settings outside every hypothesis, simulated and never judged."""
    names = tuple(s.name for s in suite.settings if s.beyond)
    return CheckResult(key="beyond", provenance="BEYOND", section="§8", verdict=NOT_APPLICABLE,
                       statement="Settings beyond the paper (label noise, d < n, large initialisation, "
                                 "large step, unbalanced second layer, logistic loss).",
                       explanation="No encoded theorem applies; the report shows what happened." if names
                       else "The suite has no BEYOND setting.", settings=names)


# ---------------------------------------------------------------------------------------------
# Every check of a suite

def _isotropic_gaussian(setting: Setting) -> bool:
    data = setting.config.data
    return setting.regime in ("weak", "strong") and data.noise.family == "gaussian" \
        and data.covariance.family == "isotropic"


def run_all(suite: Suite, rows: Sequence[Row]) -> list[CheckResult]:
    """Every check of this module on a suite's rows, EXACT checks first, BEYOND last."""
    results = [
        check_step_one_criterion(suite, rows),
        check_pattern_persistence(suite, rows, CASE_ONE),
        check_directional_convergence(suite, rows),
        check_linear_boundary_limit(suite, rows),
        check_exact_error_vs_monte_carlo(suite, rows),
        check_conditional_bounds(suite, rows),
        check_theorem_4_8_conclusions(suite, rows, THEOREM_4_8),
        check_constant_consistency(suite, rows),
        check_linear_boundary_trained(suite, rows),
        check_rate_band(suite, rows, key=BAND_LIMIT, section="§4, §7",
                        theorem=THEOREM_5_1, psi_field="psi", source="limit", select=_isotropic_gaussian,
                        statement="Theorem 5.1: err(w_bar) = exp(-Theta(psi)) (exact Gaussian error, "
                                  "isotropic weak and strong settings)."),
        check_rate_band(suite, rows, key=BAND_NETWORK, section="§4, §7",
                        theorem=THEOREM_5_1, psi_field="psi", source="network", select=_isotropic_gaussian,
                        statement="Theorem 5.1 for the trained network: Monte Carlo err(W(T)) = "
                                  "exp(-Theta(psi))."),
        check_one_sided_rate(suite, rows, key="reconstructed.upper[6.2]", section="§5", theorem=THEOREM_6_2,
                             psi_field="psi", select=lambda s: s.regime == "sub_gaussian",
                             statement="Theorem 6.2 (sub-Gaussian noise): err(w_bar) <= exp(-c psi)."),
        check_one_sided_rate(suite, rows, key="reconstructed.upper[6.3]", section="§5", theorem=THEOREM_6_3,
                             psi_field="psi", select=lambda s: s.regime == "polynomial",
                             polynomial_order_field="moment_order",
                             statement="Theorem 6.3 (polynomial tails): err(w_bar) <= C_K psi^(-q/2)."),
    ]
    results += check_phase_transition(suite, rows)
    results += check_candidate_exponents(suite, rows, THEOREM_5_1, CANDIDATES)
    results.append(beyond_result(suite))
    return results
