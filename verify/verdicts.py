"""Verdicts as data, and the statistics behind them (docs/theory.md §7).

A verdict is one of

- ``PASS``: the statement holds on every setting it applies to, at the stated precision;
- ``FAIL``: it is violated beyond floating-point error or beyond its confidence interval (for a
  RECONSTRUCTED rate: no constant band fits, the exponent's *shape* is wrong);
- ``INCONCLUSIVE``: the data cannot decide; `CheckResult.to_conclude` says what would (e.g.
  "needs about 10^7 test points");
- ``NOT APPLICABLE``: a hypothesis failed on every setting; the explanation names it and its margin.

Primitives, independent of the row layout (``verify.checks`` / ``verify.analysis`` apply them to
the rows of ``verify.measure``):

- `band_fit` and `constant_band_check`: the constant band for a rate ``err <= C exp(-c psi)``
  (RECONSTRUCTED, docs/theory.md §4-§5), from per-setting intervals of the implied constant
  :math:`\\hat c = (\\log C - \\log \\mathrm{err}) / \\psi`;
- `check_close`, `check_inside`, `check_at_most`: pointwise EXACT / DERIVED checks, and `combine`;
- `fit_slope` and `hinge_fit` / `phase_transition_check`: the slope of ``log(-log err)`` (or of
  any exponent proxy) against ``log ||mu||`` and the knee of a two-segment fit (docs/theory.md §4, §7).

Provenance labels are those of docs/theory.md §0: ``EXACT``, ``PAPER``, ``RECONSTRUCTED``, ``PRIOR``,
``BEYOND``, ``DERIVED``. Constants of the statements (``C``, the band ratio ``B``, slope
tolerances) are keyword parameters, never literals inside formulas.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import ndtri_exp

from theorybench.stats import clopper_pearson

PASS, FAIL, INCONCLUSIVE, NOT_APPLICABLE = "PASS", "FAIL", "INCONCLUSIVE", "NOT APPLICABLE"
VERDICTS = (PASS, FAIL, INCONCLUSIVE, NOT_APPLICABLE)
PROVENANCES = ("EXACT", "PAPER", "RECONSTRUCTED", "PRIOR", "BEYOND", "DERIVED")

# Expected Monte Carlo errors needed before an error rate is resolved: with 10 expected errors the
# 95% Clopper-Pearson interval spans about a factor 4, i.e. log err to within about +-0.7.
EXPECTED_ERRORS_TO_RESOLVE = 10


@dataclass(frozen=True)
class CheckResult:
    """The verdict on one encoded statement (fields shared with ``verify.checks``).

    Attributes
    ----------
    key : str
        Stable identifier, e.g. ``"reconstructed.band[weak]"``.
    statement : str
        What is claimed, in words.
    provenance : str
        One of `PROVENANCES` (docs/theory.md §0).
    section : str
        docs/theory.md section, e.g. ``"§4, §7"``.
    verdict : str
        One of `VERDICTS`.
    explanation : str
        Why: for FAIL which settings and by how much, for NOT APPLICABLE which hypothesis failed
        and by what margin.
    settings : tuple of str
        Settings the check used.
    failing : tuple of str
        Settings at fault (FAIL) or undecided (INCONCLUSIVE).
    numbers : dict
        Fitted constants, intervals, slopes, counts (JSON-serialisable).
    to_conclude : str
        For INCONCLUSIVE: what would make the check conclusive; else empty.
    """

    key: str
    statement: str
    provenance: str
    section: str
    verdict: str
    explanation: str
    settings: tuple[str, ...] = ()
    failing: tuple[str, ...] = ()
    numbers: dict[str, Any] = field(default_factory=dict)
    to_conclude: str = ""

    def __post_init__(self) -> None:
        # Programming errors, not user input: a verdict outside the four would mislead the report.
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict {self.verdict!r} is not one of {VERDICTS}")
        if self.provenance not in PROVENANCES:
            raise ValueError(f"provenance {self.provenance!r} is not one of {PROVENANCES}")

    def as_row(self) -> dict[str, Any]:
        """A flat JSON-serialisable row (for tables and machine-readable output)."""
        return {"key": self.key, "verdict": self.verdict, "statement": self.statement,
                "provenance": self.provenance, "section": self.section,
                "explanation": self.explanation, "to_conclude": self.to_conclude,
                "settings": list(self.settings), "failing": list(self.failing), "numbers": self.numbers}


@dataclass(frozen=True)
class Hypothesis:
    """One hypothesis evaluated on one setting (the shape of ``bounds.contract.HypothesisResult``).

    ``margin`` is positive when the hypothesis holds with room (e.g. ``log(lhs / rhs)``).
    """

    name: str
    holds: bool
    margin: float = math.nan
    reason: str = ""


@dataclass(frozen=True)
class ErrorInterval:
    """An error rate as the logarithms of its point value and of a confidence interval.

    EXACT errors (docs/theory.md §2.4) have ``log_lower == log_point == log_upper``; Monte Carlo
    errors carry their counts and the Clopper-Pearson interval. Logarithms, because the exact
    error of the limit direction can be far below float64's smallest positive number.
    """

    log_point: float
    log_lower: float
    log_upper: float
    errors: int | None = None
    trials: int | None = None
    confidence: float | None = None

    @classmethod
    def exact(cls, log_error: float) -> ErrorInterval:
        """An exactly known error, given by its natural logarithm."""
        return cls(float(log_error), float(log_error), float(log_error))

    @classmethod
    def from_counts(cls, errors: int, trials: int, confidence: float) -> ErrorInterval:
        """``errors`` misclassified among ``trials`` test points, with the exact two-sided
        Clopper-Pearson interval at level ``confidence`` (``log 0 = -inf``)."""
        lower, upper = clopper_pearson(errors, trials, confidence)
        with np.errstate(divide="ignore"):
            logs = np.log([errors / trials, lower, upper])
        return cls(float(logs[0]), float(logs[1]), float(logs[2]), int(errors), int(trials), float(confidence))

    @property
    def is_exact(self) -> bool:
        return self.trials is None

    def resolution(self) -> float | None:
        """The Monte Carlo resolution: the upper interval end with zero errors in ``trials`` points,
        the smallest error this many points can tell from 0 (None for an exact error)."""
        if self.trials is None:
            return None
        return clopper_pearson(0, self.trials, self.confidence)[1]


@dataclass(frozen=True)
class RateMeasurement:
    """One setting of a rate statement: its exponent ``psi``, its error and its hypotheses."""

    setting: str
    psi: float
    error: ErrorInterval
    hypotheses: tuple[Hypothesis, ...] = ()

    def __post_init__(self) -> None:
        if not (math.isfinite(self.psi) and self.psi > 0):
            raise ValueError(f"setting {self.setting!r}: psi must be finite and > 0, got {self.psi!r}")


def implied_constant(measurement: RateMeasurement, prefactor: float = 1.0) -> tuple[float, float, float]:
    """``(c_point, c_lo, c_hi)`` of the implied constant of ``err = C exp(-c psi)``.

    .. math:: \\hat c = \\frac{\\log C - \\log \\mathrm{err}}{\\psi}

    decreasing in ``err``, so the interval's ends come from the error interval's upper and lower
    ends. A zero observed error gives ``c_hi = +inf`` (no upper end).
    """
    log_c = math.log(prefactor)
    error = measurement.error
    return ((log_c - error.log_point) / measurement.psi, (log_c - error.log_upper) / measurement.psi,
            (log_c - error.log_lower) / measurement.psi)


@dataclass(frozen=True)
class BandFit:
    """Per-setting intervals ``[lo_i, hi_i]`` of an implied constant and the band verdict.

    ``band = (min lo, max hi)`` (the band containing every interval); ``ratio_needed`` is
    ``max hi / min lo`` (PASS side) or, for FAIL, ``max lo / min hi`` (the smallest ratio any band
    meeting every interval would need); ``ratio_allowed`` is ``B``.
    """

    verdict: str
    band: tuple[float, float]
    ratio_needed: float
    ratio_allowed: float


def band_fit(lows: Sequence[float], highs: Sequence[float], ratio: float = 10.0) -> BandFit:
    """Constant-band verdict of docs/theory.md §7 for intervals ``[lows_i, highs_i]`` (``highs_i`` may be inf).

    A band is ``[a, b]`` with ``0 < a`` and ``b / a <= B``. The true constants ``c_i`` lie in their
    intervals (at the stated confidence), so:

    - PASS when ``min lo > 0`` and ``max hi / min lo <= B``: the band ``[min lo, max hi]`` contains
      every interval, whatever the true ``c_i``;
    - FAIL when ``min hi <= 0`` (an error surely at or above ``C``: no positive constant) or
      ``max lo / min hi > B``: no band meets every interval, whatever the true ``c_i``;
    - INCONCLUSIVE otherwise: some choice of the ``c_i`` fits a band, another does not.
    """
    if not ratio > 1:
        raise ValueError(f"band ratio B must be > 1, got {ratio!r}")
    lows, highs = np.asarray(lows, float), np.asarray(highs, float)
    band = (float(lows.min()), float(highs.max()))
    if highs.min() <= 0:
        return BandFit(FAIL, band, math.inf, ratio)
    needed = float(lows.max() / highs.min())
    if needed > ratio:
        return BandFit(FAIL, band, needed, ratio)
    if lows.min() > 0:
        outer = float(highs.max() / lows.min())
        return BandFit(PASS if outer <= ratio else INCONCLUSIVE, band, outer, ratio)
    return BandFit(INCONCLUSIVE, band, math.inf, ratio)


def _failed_hypotheses(measurements: Sequence[RateMeasurement]) -> dict[str, float]:
    """Failed hypothesis name -> its worst (smallest) finite margin over the settings (NaN if none)."""
    margins: dict[str, list[float]] = {}
    for measurement in measurements:
        for hypothesis in measurement.hypotheses:
            if not hypothesis.holds:
                margins.setdefault(hypothesis.name, []).extend(
                    [hypothesis.margin] if math.isfinite(hypothesis.margin) else [])
    return {name: min(values) if values else math.nan for name, values in margins.items()}


def not_applicable(key: str, statement: str, *, provenance: str, section: str,
                   failed: dict[str, float], settings: Sequence[str] = ()) -> CheckResult:
    """NOT APPLICABLE naming each failed hypothesis and its worst margin."""
    detail = "; ".join(f"{name} fails (worst margin {margin:.3g})" for name, margin in sorted(failed.items()))
    return CheckResult(key=key, statement=statement, provenance=provenance, section=section,
                       verdict=NOT_APPLICABLE, settings=tuple(settings),
                       explanation=f"No setting satisfies the hypotheses: {detail or 'none given'}.",
                       numbers={"failed_hypotheses": failed})


def _points_needed(log_error: float) -> str:
    """'about 10^k test points' to see `EXPECTED_ERRORS_TO_RESOLVE` errors at rate exp(log_error)."""
    exponent = math.ceil(math.log10(EXPECTED_ERRORS_TO_RESOLVE) - log_error / math.log(10))
    return f"10^{exponent}"


def constant_band_check(key: str, statement: str, measurements: Sequence[RateMeasurement], *,
                        band_ratio: float = 10.0, prefactor: float = 1.0, min_settings: int = 2,
                        provenance: str = "RECONSTRUCTED", section: str = "§7") -> CheckResult:
    """Constant-band check of a rate ``err <= C exp(-c psi)`` over settings (docs/theory.md §7).

    Settings whose hypotheses fail are left out (and listed); with none left the verdict is NOT
    APPLICABLE. Each remaining setting gives an interval of the implied constant (`implied_constant`);
    `band_fit` decides. INCONCLUSIVE results say which settings are too wide and how many test
    points would resolve them (about ``10 / err`` for a predicted ``err = C exp(-c psi)`` at the
    band's geometric centre), and report the Monte Carlo resolution of zero-error settings.

    Parameters
    ----------
    key, statement : str
        Identifier and wording of the statement.
    measurements : sequence of RateMeasurement
        One per setting (or run).
    band_ratio : float
        ``B``: the largest ``c_hi / c_lo`` of an accepted band (docs/theory.md §7 default 10).
    prefactor : float
        ``C`` of the statement (default 1; a named parameter, never a literal).
    min_settings : int
        Fewer applicable settings than this is INCONCLUSIVE: one point fits any band.
    provenance, section : str
        Label (docs/theory.md §0) and docs/theory.md section of the statement.

    Returns
    -------
    CheckResult
        ``numbers`` holds ``band`` (``[c_lo, c_hi]``), ``ratio_needed``, ``ratio_allowed`` and,
        per setting, ``psi``, ``c``, ``c_lo``, ``c_hi``, the counts or ``exact``.
    """
    base = dict(key=key, statement=statement, provenance=provenance, section=section)
    holds = [all(h.holds for h in m.hypotheses) for m in measurements]
    applicable = [m for m, ok in zip(measurements, holds) if ok]
    excluded = [m for m, ok in zip(measurements, holds) if not ok]
    if not applicable:
        return not_applicable(failed=_failed_hypotheses(measurements),
                              settings=[m.setting for m in measurements], **base)
    constants = [implied_constant(m, prefactor) for m in applicable]
    per_setting = [{"setting": m.setting, "psi": m.psi, "c": c, "c_lo": lo, "c_hi": hi,
                    "errors": m.error.errors, "trials": m.error.trials, "exact": m.error.is_exact}
                   for m, (c, lo, hi) in zip(applicable, constants)]
    settings = tuple(m.setting for m in applicable)
    numbers: dict[str, Any] = {"per_setting": per_setting, "prefactor": prefactor, "ratio_allowed": band_ratio,
                               "excluded": {m.setting: sorted(_failed_hypotheses([m])) for m in excluded}}
    excluded_note = (f" Left out (hypotheses fail): {', '.join(numbers['excluded'])}." if excluded else "")
    if len(applicable) < min_settings:
        return CheckResult(verdict=INCONCLUSIVE, settings=settings, failing=settings, numbers=numbers,
                           explanation=f"Only {len(applicable)} applicable setting(s); one point fits any band."
                                       + excluded_note,
                           to_conclude=f"needs at least {min_settings} applicable settings spanning a range of psi",
                           **base)
    lows, highs = [lo for _, lo, _ in constants], [hi for _, _, hi in constants]
    fit = band_fit(lows, highs, band_ratio)
    numbers.update(band=list(fit.band), ratio_needed=fit.ratio_needed)
    spread = f"implied constants {', '.join(f'{s}: [{lo:.3g}, {hi:.3g}]' for s, lo, hi in zip(settings, lows, highs))}"
    if fit.verdict == PASS:
        return CheckResult(verdict=PASS, settings=settings, numbers=numbers, **base,
                           explanation=f"One band [{fit.band[0]:.3g}, {fit.band[1]:.3g}] (ratio "
                                       f"{fit.ratio_needed:.3g} <= B = {band_ratio:g}) contains every setting's "
                                       f"interval; {spread}.{excluded_note}")
    if fit.verdict == FAIL:
        high_end, low_end = applicable[int(np.argmax(lows))], applicable[int(np.argmin(highs))]
        return CheckResult(verdict=FAIL, settings=settings, failing=(high_end.setting, low_end.setting),
                           numbers=numbers, **base,
                           explanation=f"No band of ratio {band_ratio:g} fits: the implied constant is at least "
                                       f"{max(lows):.3g} at {high_end.setting} (psi = {high_end.psi:.3g}) but at "
                                       f"most {min(highs):.3g} at {low_end.setting} (psi = {low_end.psi:.3g}); "
                                       f"the exponent's shape does not match.{excluded_note}")
    # INCONCLUSIVE: centre the band on the settings that are resolved, predict the others' errors.
    finite = [(lo, hi) for lo, hi in zip(lows, highs) if math.isfinite(hi) and lo > 0]
    centre = math.sqrt(max(lo for lo, _ in finite) * min(hi for _, hi in finite)) if finite else None
    wide, needs = [], []
    for m, lo, hi in zip(applicable, lows, highs):
        if centre is not None and (not math.isfinite(hi) or lo <= 0 or hi / lo > band_ratio):
            wide.append(m.setting)
            needs.append((math.log(prefactor) - centre * m.psi, m))
    zero = [m for m, hi in zip(applicable, highs) if not math.isfinite(hi)]
    resolution = "; ".join(f"{m.setting}: 0 errors in {m.error.trials} points, resolution "
                           f"{m.error.resolution():.3g}" for m in zero)
    numbers["zero_error_resolution"] = {m.setting: m.error.resolution() for m in zero}
    if needs:
        log_error, hardest = min(needs, key=lambda item: item[0])
        to_conclude = (f"needs about {_points_needed(log_error)} test points at {hardest.setting} (predicted "
                       f"error exp({log_error:.3g}) at the band centre c = {centre:.3g}), or its exact error")
    elif centre is None:
        to_conclude = "needs more test points in every setting: no setting's constant is resolved"
    else:
        # Every setting is resolved on its own; the extreme interval ends decide the ratio.
        outer = (applicable[int(np.argmax(highs))].setting, applicable[int(np.argmin(lows))].setting)
        wide = list(dict.fromkeys(outer))
        to_conclude = (f"needs more test points at {' and '.join(wide)}, whose interval ends set the ratio "
                       f"{fit.ratio_needed:.3g} (4 times the points about halves an interval's width)")
    return CheckResult(verdict=INCONCLUSIVE, settings=settings, failing=tuple(wide) or settings,
                       numbers=numbers, to_conclude=to_conclude, **base,
                       explanation=f"The intervals are too wide to decide between ratio <= {band_ratio:g} and "
                                   f"more; {spread}." + (f" Zero errors observed ({resolution})." if zero else "")
                                   + excluded_note)


# ---------------------------------------------------------------------------------------------
# Pointwise checks of EXACT and DERIVED statements

def _pointwise(key: str, statement: str, setting: str, ok: bool, explanation: str, *, provenance: str,
               section: str, hypotheses: Sequence[Hypothesis], numbers: dict[str, Any]) -> CheckResult:
    failed = {h.name: h.margin for h in hypotheses if not h.holds}
    if failed:
        return not_applicable(key, statement, provenance=provenance, section=section, failed=failed,
                              settings=(setting,))
    return CheckResult(key=key, statement=statement, provenance=provenance, section=section,
                       verdict=PASS if ok else FAIL, explanation=explanation, settings=(setting,),
                       failing=() if ok else (setting,), numbers=numbers)


def check_close(key: str, statement: str, setting: str, value: float, target: float, *, atol: float,
                rtol: float = 0.0, provenance: str = "EXACT", section: str,
                hypotheses: Sequence[Hypothesis] = ()) -> CheckResult:
    """PASS when ``|value - target| <= atol + rtol |target|``; a non-finite value is a FAIL (an
    EXACT identity evaluated to NaN is a bug). The caller states why `atol`/`rtol` suffice."""
    gap = abs(value - target)
    allowed = atol + rtol * abs(target)
    ok = math.isfinite(value) and gap <= allowed
    return _pointwise(key, statement, setting, ok,
                      f"{setting}: value {value:.6g}, target {target:.6g}, |difference| {gap:.3g} "
                      f"{'<=' if ok else '>'} tolerance {allowed:.3g}.",
                      provenance=provenance, section=section, hypotheses=hypotheses,
                      numbers={"value": value, "target": target, "difference": gap, "tolerance": allowed})


def check_inside(key: str, statement: str, setting: str, value: float, lower: float, upper: float, *,
                 slack: float = 0.0, provenance: str = "EXACT", section: str,
                 hypotheses: Sequence[Hypothesis] = ()) -> CheckResult:
    """PASS when ``lower - slack <= value <= upper + slack`` (e.g. an exact error inside the
    Monte Carlo interval, in log space); FAIL otherwise or when `value` is not finite."""
    ok = math.isfinite(value) and lower - slack <= value <= upper + slack
    return _pointwise(key, statement, setting, ok,
                      f"{setting}: value {value:.6g} {'inside' if ok else 'outside'} "
                      f"[{lower:.6g}, {upper:.6g}] (slack {slack:.3g}).",
                      provenance=provenance, section=section, hypotheses=hypotheses,
                      numbers={"value": value, "lower": lower, "upper": upper, "slack": slack})


def check_at_most(key: str, statement: str, setting: str, lower_end: float, bound: float, *,
                  slack: float = 0.0, provenance: str = "EXACT", section: str,
                  hypotheses: Sequence[Hypothesis] = ()) -> CheckResult:
    """A bound ``value <= bound`` against a value known to lie above `lower_end` (the lower end of
    its confidence interval, or the value itself when exact): FAIL only when ``lower_end > bound +
    slack``, i.e. the bound is violated beyond the interval (one-sided test at its level)."""
    ok = lower_end <= bound + slack  # False when either is NaN
    return _pointwise(key, statement, setting, ok,
                      f"{setting}: lower end {lower_end:.6g} {'<=' if ok else '>'} bound {bound:.6g} "
                      f"(slack {slack:.3g}).",
                      provenance=provenance, section=section, hypotheses=hypotheses,
                      numbers={"lower_end": lower_end, "bound": bound, "slack": slack})


def combine(key: str, statement: str, results: Sequence[CheckResult], *, provenance: str,
            section: str) -> CheckResult:
    """One verdict for a statement checked setting by setting: FAIL if any FAIL, else INCONCLUSIVE
    if any, else PASS if any, else NOT APPLICABLE. The explanation lists the FAIL settings first."""
    verdicts = [r.verdict for r in results]
    order = (FAIL, INCONCLUSIVE, PASS, NOT_APPLICABLE)
    verdict = next((v for v in order if v in verdicts), NOT_APPLICABLE)
    chosen = [r for r in results if r.verdict == verdict]
    counts = ", ".join(f"{verdicts.count(v)} {v}" for v in order if v in verdicts) or "no setting"
    settings = tuple(dict.fromkeys(s for r in results for s in r.settings))
    failing = tuple(dict.fromkeys(s for r in chosen for s in r.failing))
    detail = " ".join(r.explanation for r in chosen[:5])
    more = f" (and {len(chosen) - 5} more)" if len(chosen) > 5 else ""
    return CheckResult(key=key, statement=statement, provenance=provenance, section=section, verdict=verdict,
                       explanation=f"{counts}. {detail}{more}", settings=settings,
                       failing=failing if verdict in (FAIL, INCONCLUSIVE) else (),
                       to_conclude="; ".join(dict.fromkeys(r.to_conclude for r in chosen if r.to_conclude)),
                       numbers={"counts": {v: verdicts.count(v) for v in order}})


# ---------------------------------------------------------------------------------------------
# Slopes and the phase-transition knee (docs/theory.md §4, §7)

@dataclass(frozen=True)
class SlopeFit:
    """Least-squares line ``v = intercept + slope u`` with the slope's standard error."""

    slope: float
    intercept: float
    stderr: float
    points: int


def fit_slope(u: Sequence[float], v: Sequence[float]) -> SlopeFit:
    """Ordinary least squares of `v` on `u` (at least two distinct abscissae).

    .. math:: \\hat s = \\frac{\\sum (u_i - \\bar u)(v_i - \\bar v)}{\\sum (u_i - \\bar u)^2},
              \\quad \\mathrm{se}(\\hat s) = \\sqrt{\\frac{\\mathrm{RSS}/(k-2)}{\\sum (u_i - \\bar u)^2}}

    (``stderr`` is NaN with two points: no residual degree of freedom).
    """
    u, v = np.asarray(u, float), np.asarray(v, float)
    if len(np.unique(u)) < 2:
        raise ValueError("a slope needs at least two distinct abscissae")
    centred = u - u.mean()
    spread = float(centred @ centred)
    slope = float(centred @ (v - v.mean()) / spread)
    intercept = float(v.mean() - slope * u.mean())
    residual = v - intercept - slope * u
    stderr = math.sqrt(float(residual @ residual) / (len(u) - 2) / spread) if len(u) > 2 else math.nan
    return SlopeFit(slope, intercept, stderr, len(u))


@dataclass(frozen=True)
class HingeFit:
    """Continuous two-piece fit ``v = b0 + s1 (u - k)`` for ``u <= k`` and ``b0 + s2 (u - k)`` after."""

    knee: float
    slope_before: float
    slope_after: float
    intercept: float
    residual: float


def hinge_fit(u: Sequence[float], v: Sequence[float], grid: int = 401) -> HingeFit | None:
    """Least-squares hinge (knee locator): the knee minimising the residual sum of squares over a
    grid of `grid` values between the second and the second-to-last distinct abscissa, so each
    piece keeps at least two points. None with fewer than four distinct abscissae."""
    u, v = np.asarray(u, float), np.asarray(v, float)
    distinct = np.unique(u)
    if len(distinct) < 4:
        return None
    best = None
    for knee in np.linspace(distinct[1], distinct[-2], grid):
        design = np.column_stack([np.ones_like(u), np.minimum(u - knee, 0.0), np.maximum(u - knee, 0.0)])
        coef, *_ = np.linalg.lstsq(design, v, rcond=None)
        residual = float(np.sum((design @ coef - v) ** 2))
        if best is None or residual < best.residual:  # strict: the first of equal minima, deterministic
            best = HingeFit(float(knee), float(coef[1]), float(coef[2]), float(coef[0]), residual)
    return best


PROXIES = ("probit", "log")


def exponent_proxy(log_error: float, proxy: str = "probit") -> float:
    """An observable whose logarithm is linear in ``log ||mu||`` with slope 4 (weak) or 2 (strong).

    - ``"log"``: ``-log err`` (docs/theory.md §7 as written; biased at small psi by the ``log t`` and
      constant terms of ``-log Phi(-t) = t^2/2 + log t + log sqrt(2 pi) + o(1)``);
    - ``"probit"``: ``(Phi^{-1}(err))^2``, which equals psi exactly when ``err = Phi(-sqrt psi)``
      (DERIVED from docs/theory.md §4), computed by `scipy.special.ndtri_exp` from ``log err`` so that
      errors below float64's smallest number are exact.
    """
    if proxy == "log":
        return -log_error
    if proxy == "probit":
        return float(ndtri_exp(log_error) ** 2)
    raise ValueError(f"proxy must be one of {PROXIES}, got {proxy!r}")


def phase_transition_check(key: str, statement: str, settings: Sequence[str], signal: Sequence[float],
                           log_errors: Sequence[float], r: Sequence[float], *, weak_slope: float = 4.0,
                           strong_slope: float = 2.0, slope_tolerance: float = 1.0,
                           knee_factor: float = 10.0, proxy: str = "probit",
                           provenance: str = "RECONSTRUCTED", section: str = "§4, §7") -> CheckResult:
    """The phase transition of docs/theory.md §4: slope ~`weak_slope` of ``log proxy`` against
    ``log ||mu||`` for ``r < 1`` and ~`strong_slope` for ``r > 1``, with the knee near ``r = 1``.

    The knee comes from `hinge_fit`; its ``r`` is interpolated linearly in ``(log ||mu||, log r)``
    between the sweep's points. Points with ``err >= 1/2`` (no better than chance) are left out.

    - INCONCLUSIVE: fewer than four distinct signals, or the sweep's ``r`` does not cross 1;
    - PASS: both slopes within `slope_tolerance` of their values and the knee's ``r`` within a
      factor `knee_factor` of 1;
    - FAIL: otherwise (the explanation says which part failed).

    ``numbers`` has the slopes, the knee (``||mu||`` and ``r``), and the knee's distance from
    ``r = 1`` in decades.
    """
    signal, log_errors, r = (np.asarray(a, float) for a in (signal, log_errors, r))
    if not len(settings) == len(signal) == len(log_errors) == len(r):
        raise ValueError("settings, signal, log_errors and r must have equal lengths")
    base = dict(key=key, statement=statement, provenance=provenance, section=section,
                settings=tuple(settings))
    keep = (signal > 0) & (log_errors < math.log(0.5)) & (r > 0)
    u = np.log(signal[keep])
    v = np.log([exponent_proxy(e, proxy) for e in log_errors[keep]])
    fit = hinge_fit(u, v)
    if fit is None:
        return CheckResult(verdict=INCONCLUSIVE, failing=tuple(settings), **base,
                           explanation=f"{int(keep.sum())} usable point(s) (error below 1/2) with fewer "
                                       "than four distinct signals: no knee can be located.",
                           to_conclude="needs at least four distinct signals with error below 1/2, "
                                       "spanning r from well below to well above 1")
    order = np.argsort(u)
    knee_r = float(np.exp(np.interp(fit.knee, u[order], np.log(r[keep][order]))))
    numbers = {"slope_weak": fit.slope_before, "slope_strong": fit.slope_after,
               "expected_slopes": [weak_slope, strong_slope], "slope_tolerance": slope_tolerance,
               "knee_signal": math.exp(fit.knee), "knee_r": knee_r,
               "knee_decades_from_r1": abs(math.log10(knee_r)), "points": int(keep.sum()), "proxy": proxy}
    summary = (f"slopes {fit.slope_before:.2f} (weak side, expected {weak_slope:g}) and {fit.slope_after:.2f} "
               f"(strong side, expected {strong_slope:g}); knee at ||mu|| = {math.exp(fit.knee):.3g}, "
               f"r = {knee_r:.3g} ({abs(math.log10(knee_r)):.2f} decades from r = 1)")
    if not r[keep].min() < 1 < r[keep].max():
        return CheckResult(verdict=INCONCLUSIVE, failing=tuple(settings), numbers=numbers, **base,
                           explanation=f"The sweep's r spans [{r[keep].min():.3g}, {r[keep].max():.3g}], not "
                                       f"across 1; {summary}.",
                           to_conclude="needs signals on both sides of r = 1")
    problems = []
    if abs(fit.slope_before - weak_slope) > slope_tolerance:
        problems.append("weak-side slope")
    if abs(fit.slope_after - strong_slope) > slope_tolerance:
        problems.append("strong-side slope")
    if not 1 / knee_factor <= knee_r <= knee_factor:
        problems.append(f"knee beyond a factor {knee_factor:g} of r = 1")
    if problems:
        return CheckResult(verdict=FAIL, failing=tuple(settings), numbers=numbers, **base,
                           explanation=f"Off: {', '.join(problems)} (slope tolerance {slope_tolerance:g}); "
                                       f"{summary}.")
    return CheckResult(verdict=PASS, numbers=numbers, **base, explanation=f"{summary[0].upper()}{summary[1:]}.")
