"""What `theorybench report` concludes: the checks' verdicts and the sections of the report.

`analyse(suite, rows)` runs every check of `verify.checks` on the rows of `verify.measure` and
returns the report's content as a list of `verify.render.Section` (the ``theorybench report``
command adds the title, the run summary and the environment; `verify.render` opens every report
with the verdict summary, FAIL first). Figures come from `verify.plots` (Agg, no pyplot).

Sections, in order: verdicts (every statement with its provenance, docs/theory.md section, settings
and explanation; FAILs first and explained); error against psi per regime group
(Monte Carlo intervals, exact limit-direction error, Bayes error, conditional bound, fitted band,
PRIOR bounds); directional convergence (1 - cos against t on log axes); the phase transition;
hypotheses with margins; candidate exponents on anisotropic settings; BEYOND settings; provenance
of every statement and measured quantity.

Every tiny probability is printed from its logarithm (`verify.render.format_log_probability`),
never as a bare 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from bounds import THEOREMS
from theorybench.stats import clopper_pearson
from verify import checks
from verify.plots import (
    Curve,
    ErrorSeries,
    Shade,
    convergence_figure,
    drawn_labels,
    error_figure,
    phase_transition_figure,
)
from verify.render import Figure, Paragraph, Section, Table, VerdictTable, format_log_probability
from verify.suite import Suite
from verify.verdicts import FAIL, PASS, CheckResult, exponent_proxy, hinge_fit

# The PRIOR bounds of docs/theory.md §6, drawn for comparison beside the measured errors.
PRIOR_THEOREMS = tuple(theorem for theorem in THEOREMS if theorem.provenance == "PRIOR")

# Provenance of every measured column the report shows (docs/theory.md §0 labels and sections).
COLUMN_PROVENANCE: tuple[tuple[str, str, str, str], ...] = (
    ("log_loss, weight_norm, train_error, pattern_fraction", "EXACT", "§2.5–2.6",
     "measured on the gradient-descent run (the paper's algorithm unless the setting is BEYOND)"),
    ("one_minus_cos", "EXACT", "§2.2", "1 - cos(W(t), W_hat), W_hat the certified limit direction"),
    ("ld_* (certificate)", "EXACT", "§2.2", "KKT certificate of the limit direction, evaluated through phi"),
    ("step1_* (criterion)", "EXACT", "§3", "step-one activation criterion, computed from W(0) and K"),
    ("network_errors, linear_errors, disagreements", "EXACT", "§2.3–2.4",
     "Monte Carlo counts on fresh clean points, Clopper–Pearson intervals"),
    ("log_limit_error, log_bayes_error", "EXACT", "§2.4", "Gaussian error of w_bar and Bayes error (logs)"),
    ("log_bound_best", "EXACT", "§2.4", "best conditional bound (sub-Gaussian, Cantelli, fourth moment)"),
    ("psi, r, psi/psi, psi/psi_alt", "RECONSTRUCTED", "§4", "exponents and regime indicator of the reconstruction"),
    ("psi/cao_gu_belkin", "PRIOR", "§6", "Cao–Gu–Belkin exponent (quoted from memory of the paper, not checked against its text)"),
    ("hyp/<theorem>/<key>", "as labelled in bounds", "§3–§6",
     "hypotheses of each encoded theorem: holds and margin"),
    ("concl/<theorem>/<name>", "as labelled in bounds", "§3–§6", "conclusions of each encoded theorem (logs)"),
)


def format_number(value: Any) -> str:
    """A cell: 3 significant digits, yes/no for booleans, — for missing values."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.3g}" if math.isfinite(value) else str(value)
    return str(value)


def format_rate(errors: int | None, trials: int, confidence: float) -> str:
    """``k/N [lo, hi]`` with the Clopper–Pearson interval at `confidence`, ends printed from logs."""
    if errors is None:
        return "—"
    lower, upper = clopper_pearson(errors, trials, confidence)
    low = "0" if lower == 0 else format_log_probability(math.log(lower))
    return f"{errors}/{trials} [{low}, {format_log_probability(math.log(upper))}]"


def _log(value: float) -> float:
    return math.log(value) if value > 0 else -math.inf


def _finite(value: Any) -> bool:
    return isinstance(value, float) and math.isfinite(value)


# ---------------------------------------------------------------------------------------------
# Sections

def _verdict_section(results: Sequence[CheckResult], family_confidence: float) -> Section:
    blocks: list[Any] = []
    failures = [r for r in results if r.verdict == FAIL]
    if failures:
        notes = []
        if any(r.provenance in ("EXACT", "DERIVED") for r in failures):
            notes.append("A FAIL of an EXACT or DERIVED statement is a bug or a falsification, not rounding "
                         "noise. The Monte Carlo interval checks are the one exception by design: a correct "
                         "statement fails one of them by chance with probability at most "
                         f"{1 - family_confidence:.2g} per family (simultaneous level {family_confidence:g}); "
                         "a rerun with another --seed tells chance from a violation.")
        if any(r.provenance in ("RECONSTRUCTED", "PRIOR") for r in failures):
            notes.append("A FAIL of a RECONSTRUCTED or PRIOR rate means that no constant band fits the encoded "
                         "exponent over the settings where its hypotheses hold: a finding about the "
                         "reconstruction's shape, not a numerical error.")
        blocks.append(Paragraph(" ".join(notes)))
    blocks.append(VerdictTable(tuple(results), "Every encoded statement and its verdict (docs/theory.md §7); FAIL first."))
    return Section("Verdicts", tuple(blocks))


def _summary_table(results: Sequence[CheckResult], caption: str) -> Table:
    """Results repeated inside a topical section: a plain table, so the report's verdict counts
    (taken from its `VerdictTable`s) count each statement once."""
    return Table(("verdict", "statement", "explanation"),
                 tuple((r.verdict, r.statement, r.explanation) for r in results), caption)


# A figure of error against psi (or a sweep key) is drawn only with at least this many distinct
# abscissae; fewer show no trend, and the group's table has every number.
MIN_ABSCISSAE = 3


def _abscissa(suite: Suite, finals: Sequence[dict]) -> tuple[dict[str, float], str, bool]:
    """The x axis of a group's error figure: setting name -> x, its label, and whether x is psi.

    psi, unless every run of the group has the same psi (a group swept over something psi does
    not depend on, e.g. the label-flip rate or the step size of a BEYOND group): then the group's
    single numeric sweep key, so that its settings do not collapse onto one abscissa.
    """
    names = list(dict.fromkeys(row["setting"] for row in finals))
    if len({row["psi"] for row in finals}) <= 1:
        settings = [suite.setting(name) for name in names]
        keys = {key for setting in settings for key in setting.sweep}
        if len(keys) == 1:
            key = keys.pop()
            values = {setting.name: setting.sweep.get(key) for setting in settings}
            numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values.values())
            if numeric and len(set(values.values())) > 1:
                return {name: float(value) for name, value in values.items()}, key, False
    return {row["setting"]: row["psi"] for row in finals}, "ψ (RECONSTRUCTED, docs/theory.md §4)", True


def _group_figure(name: str, title: str, suite: Suite, finals: Sequence[dict],
                  band: tuple[float, float] | None) -> Figure:
    position, xlabel, on_psi = _abscissa(suite, finals)
    psi = [row["psi"] for row in finals]
    levels = sorted({suite.setting(row["setting"]).config.evaluation.confidence for row in finals})
    level = f"{100 * levels[0]:g}%" if len(levels) == 1 else "each setting's evaluation.confidence"
    series = []
    for column, label in (("network", f"trained network (Monte Carlo, {level} CP)"),
                          ("linear", f"sign <w_bar, x> (Monte Carlo, {level} CP)")):  # STYLE keys
        usable = [row for row in finals if row.get(f"{column}_errors") is not None]
        if not usable:
            continue
        intervals = [clopper_pearson(row[f"{column}_errors"], row["test_points"],
                                     suite.setting(row["setting"]).config.evaluation.confidence) for row in usable]
        series.append(ErrorSeries(label, [position[row["setting"]] for row in usable],
                                  [_log(row[f"{column}_errors"] / row["test_points"]) for row in usable],
                                  [_log(lo) for lo, _ in intervals], [_log(hi) for _, hi in intervals], column))
    curves = []
    for column, label, quantity in (("log_limit_error", "exact err(w_bar) (EXACT)", "limit"),
                                    ("log_bayes_error", "Bayes error (EXACT)", "bayes"),
                                    ("log_bound_best", "conditional bound of w_bar (EXACT)", "bound")):
        points = [(position[row["setting"]], row[column]) for row in finals
                  if row.get(column) is not None and math.isfinite(row[column])]
        if points:
            curves.append(Curve(label, [x for x, _ in points], [v for _, v in points], quantity))
    for theorem in PRIOR_THEOREMS:
        # a PRIOR bound is drawn only where its own hypotheses hold (constants 1)
        points = [(position[row["setting"]], row[f"concl/{theorem.key}/upper bound"]) for row in finals
                  if row.get(f"applies/{theorem.key}") and _finite(row.get(f"concl/{theorem.key}/upper bound"))]
        if points:
            curves.append(Curve(f"PRIOR {theorem.key} (constants 1)", [x for x, _ in points],
                                [v for _, v in points], f"prior:{theorem.key}"))
    shades = []
    if band is not None and psi and on_psi:
        grid = list(np.geomspace(min(psi), max(psi), 60))
        shades.append(Shade(f"fitted band exp(-c psi), c in [{band[0]:.2g}, {band[1]:.2g}] (RECONSTRUCTED)",
                            grid, [-band[1] * x for x in grid], [-band[0] * x for x in grid]))
    png = error_figure(series, curves, shades, xlabel=xlabel, title=title,
                       log_x=on_psi or all(x > 0 for x in position.values()))
    against = "psi" if on_psi else f"{xlabel} (psi is the same for every run)"
    drawn = drawn_labels(series, curves, shades)
    zero = " ▼ marks an interval's upper end where no error was seen." if any("0 errors" in d for d in drawn) else ""
    return Figure(name, png, f"{title}: test error against {against} (log10). Drawn: {'; '.join(drawn)}.{zero}")


def _group_table(suite: Suite, finals: Sequence[dict]) -> Table:
    rows = []
    for row in finals:
        config = suite.setting(row["setting"]).config
        data = config.data
        priors = "; ".join(f"{theorem.key}: {format_log_probability(row[f'concl/{theorem.key}/upper bound'])}"
                           + ("" if row.get(f"applies/{theorem.key}") else " (n/a)")
                           for theorem in PRIOR_THEOREMS if _finite(row.get(f"concl/{theorem.key}/upper bound")))
        rows.append((row["setting"], row["replicate"], data.n, data.d, format_number(data.signal),
                     data.noise.family, data.covariance.family, format_number(row["psi"]), format_number(row["r"]),
                     format_rate(row["network_errors"], row["test_points"], config.evaluation.confidence),
                     format_rate(row.get("linear_errors"), row["test_points"], config.evaluation.confidence),
                     _format_log(row.get("log_limit_error")), _format_log(row.get("log_bayes_error")),
                     _format_log(row.get("log_bound_best")), priors or "—"))
    return Table(("setting", "rep", "n", "d", "||mu||", "noise", "Sigma", "psi", "r",
                  "network error [CP]", "sign <w_bar,x> error [CP]", "exact err(w_bar)", "Bayes",
                  "cond. bound", "PRIOR bounds (constants 1)"),
                 tuple(rows), "Errors printed from their logarithms; intervals are Clopper–Pearson at each "
                              "setting's evaluation.confidence; a PRIOR bound marked (n/a) is outside its own "
                              "hypotheses.")


def _format_log(value: float | None) -> str:
    return "—" if value is None else format_log_probability(value)


def _regime_section(suite: Suite, rows: Sequence[dict], results: Sequence[CheckResult]) -> Section:
    band_result = next((r for r in results if r.key == checks.BAND_LIMIT), None)
    band = tuple(band_result.numbers["band"]) if band_result and "band" in band_result.numbers else None
    blocks: list[Any] = []
    finals = checks.final_rows(rows)
    for index, (group, settings) in enumerate(suite.groups().items()):
        names = {s.name for s in settings}
        selected = [row for row in finals if row["setting"] in names]
        if not selected:
            continue
        regimes = sorted({s.regime for s in settings})
        inner: list[Any] = []
        if "beyond" in regimes:
            inner.append(Paragraph("BEYOND (docs/theory.md §8): no encoded theorem applies."))
        families = list(dict.fromkeys(suite.setting(row["setting"]).config.data.covariance.family
                                      for row in selected))
        for family in families:
            # anisotropic groups: one figure per covariance family (the candidate verdicts are about them)
            part = [row for row in selected
                    if suite.setting(row["setting"]).config.data.covariance.family == family]
            if len(set(_abscissa(suite, part)[0].values())) < MIN_ABSCISSAE:
                continue  # one or two abscissae show no trend: the table below has the numbers
            split = len(families) > 1
            inner.append(_group_figure(f"error_vs_psi_{index:02d}" + (f"_{family}" if split else ""),
                                       f"group {group}" + (f", Σ {family}" if split else ""), suite, part,
                                       band if {"weak", "strong"} & set(regimes) else None))
        inner.append(_group_table(suite, selected))
        blocks.append(Section(f"Group {group} ({', '.join(regimes)})", tuple(inner)))
    return Section("Error against psi, by regime", tuple(blocks))


def _convergence_section(suite: Suite, rows: Sequence[dict], results: Sequence[CheckResult]) -> Section:
    by_group: dict[str, dict[int, list[float]]] = {}
    table = []
    by_unit = checks.checkpoints_by_unit(rows)
    for row in checks.final_rows(rows):
        checkpoints = by_unit.get((row["setting"], row["replicate"]), [])
        points = [(c["step"], c["one_minus_cos"]) for c in checkpoints
                  if c["step"] >= 1 and c.get("one_minus_cos") is not None and c["one_minus_cos"] > 0]
        if not points:
            continue
        setting = suite.setting(row["setting"])
        if not setting.beyond:
            for step, gap in points:
                by_group.setdefault(setting.group, {}).setdefault(step, []).append(gap)
        steps, gaps = [t for t, _ in points], [g for _, g in points]
        fit = checks.convergence_exponent(steps[len(steps) // 2:], gaps[len(gaps) // 2:])
        evidence, why = checks.convergence_evidence(row, checkpoints)
        table.append((row["setting"], row["replicate"], format_number(row.get("final_one_minus_cos")),
                      "—" if fit is None else f"{fit[0]:.2f}", format_number(row["first_pattern_break"]),
                      row["stop_reason"], ("evidence: " if evidence else "no evidence: ") + why))
    curves = {f"{group} (median of runs)": (sorted(steps), [float(np.median(steps[t])) for t in sorted(steps)])
              for group, steps in by_group.items()}
    verdict = next((r for r in results if r.key == "exact.directional_convergence"), None)
    blocks: list[Any] = [Paragraph(
        "Directional convergence (EXACT, docs/theory.md §2.2): while the activation pattern holds, W(t)/||W(t)|| tends "
        "to W_hat/||W_hat|| at rate O(1/log t), i.e. 1 - cos = O(1/log² t); b is the fitted exponent of "
        "a (log t)^-b on the second half of each run's checkpoints (b about 2 expected)."
        + (f" Verdict: {verdict.verdict}. {verdict.explanation}" if verdict else ""))]
    if curves:
        blocks.append(Figure("directional_convergence", convergence_figure(curves, reference=0.06),
                             "1 - cos(W(t), W_hat) against t (log axes): per group, the median over its non-BEYOND "
                             "runs with a certified limit direction (every run is in the table below); dashed: "
                             "0.06 / log² t, the rate measured in docs/theory.md §2.5."))
    blocks.append(Table(("setting", "rep", "final 1 - cos", "fitted b", "first pattern break", "stop reason",
                         "progress over the second half"), tuple(table)))
    return Section("Directional convergence", tuple(blocks))


def _phase_transition_section(suite: Suite, rows: Sequence[dict], results: Sequence[CheckResult]) -> Section:
    blocks: list[Any] = [Paragraph(
        "Phase transition (RECONSTRUCTED, docs/theory.md §4, §7): psi_eff = (Φ⁻¹(err(w_bar)))², which is psi itself when "
        "err = Φ(-√psi), against ||mu|| on log axes, from the exact Gaussian error of the limit direction: slope 4 "
        "in the weak regime (r < 1), 2 in the strong one (r > 1, Sigma = I). The dashed line marks r = 1.")]
    finals = checks.final_rows(rows)
    for index, (group, settings) in enumerate(suite.groups().items()):
        if not any(s.regime == "transition" for s in settings):
            continue
        names = {s.name: s for s in settings}
        usable = [row for row in finals if row["setting"] in names and row.get("log_limit_error") is not None
                  and row["log_limit_error"] < math.log(0.5)]
        if not usable:
            continue
        signal = [names[row["setting"]].config.data.signal for row in usable]
        effective = [exponent_proxy(row["log_limit_error"]) for row in usable]
        fit = hinge_fit(np.log(signal), np.log(effective))
        # r is proportional to ||mu||^2 along a sweep of the signal at fixed n, d and Sigma
        r_one = signal[0] / math.sqrt(usable[0]["r"])
        png = phase_transition_figure(signal, effective, knee=None if fit is None else fit.knee,
                                      slopes=None if fit is None else (fit.slope_before, fit.slope_after),
                                      intercept=None if fit is None else fit.intercept, r_one_signal=r_one,
                                      title=f"group {group}")
        blocks.append(Figure(f"phase_transition_{index:02d}", png,
                             f"Group {group}: exponent of the exact limit-direction error against ||mu||, with the "
                             "two-segment fit and the signal at which r = 1."))
    transition = [r for r in results if r.key.startswith("reconstructed.phase_transition")]
    if transition:
        blocks.append(_summary_table(transition, "Phase-transition verdicts (also in the verdict table)."))
    return Section("Phase transition", tuple(blocks))


def _applies_rule(key: str) -> str:
    """The rule of a theorem's 'applies' column, from its requirement groups in bounds:
    e.g. 'applies = h0 and (case1 or case2) and init and (case1 or step)'."""
    theorem = next((t for t in THEOREMS if t.key == key), None)
    if theorem is None or not theorem.requirements:
        return ""
    groups = [group[0] if len(group) == 1 else "(" + " or ".join(group) + ")" for group in theorem.requirements]
    return f"applies = {' and '.join(groups)} (every row of a hypothesis holds)."


def _hypothesis_section(rows: Sequence[dict]) -> Section:
    finals = checks.final_rows(rows)
    theorems = list(dict.fromkeys(key[len("applies/"):] for row in finals for key in row
                                  if key.startswith("applies/") and key.count("/") == 1))
    tables = []
    for theorem in theorems:
        prefix = f"hyp/{theorem}/"
        columns = list(dict.fromkeys(key[len(prefix):-len("/holds")] for row in finals for key in row
                                     if key.startswith(prefix) and key.endswith("/holds")))
        table = []
        for row in finals:
            cells: list[Any] = [row["setting"], row["replicate"], "yes" if row.get(f"applies/{theorem}") else "no"]
            for column in columns:
                holds, margin = row.get(f"{prefix}{column}/holds"), row.get(f"{prefix}{column}/margin")
                mark = "?" if holds is None else ("✓" if holds else "✗")
                cells.append(mark if margin is None else f"{mark} {margin:.3g}")
            table.append(tuple(cells))
        tables.append(Section(f"Theorem {theorem}", (Table(("setting", "rep", "applies", *columns), tuple(table),
                                                           _applies_rule(theorem)),)))
    return Section("Hypotheses", (
        Paragraph("Each hypothesis of each encoded theorem (bounds.THEOREMS) on each run: ✓ holds, ✗ fails, ? cannot "
                  "be evaluated, with its margin (positive when it holds; for ratio conditions the natural log of "
                  "the factor by which it holds or fails). 'applies' combines them with the theorem's alternatives "
                  "(e.g. Case 1 or Case 2 of Theorem 4.8). Provenance and docs/theory.md section of each hypothesis are "
                  "those given by bounds (§3–§6)."),
        *tables))


def _candidate_section(results: Sequence[CheckResult]) -> Section:
    candidates = [r for r in results if r.key.startswith("reconstructed.candidate")]
    by_family: dict[str, dict[str, str]] = {}
    for result in candidates:
        name, scope = result.key[len("reconstructed.candidate["):-1].split(", ")
        band = result.numbers.get("band")
        cell = result.verdict + (f" [{band[0]:.3g}, {band[1]:.3g}]" if band and result.verdict == PASS else "")
        by_family.setdefault(scope, {})[name] = cell
    names = list(dict.fromkeys(r.key[len("reconstructed.candidate["):-1].split(", ")[0] for r in candidates))
    admitted = {scope: [n for n, cell in cells.items() if cell.startswith(PASS)]
                for scope, cells in by_family.items()}
    finding = "; ".join(f"{scope}: {', '.join(found) or 'none'}" for scope, found in admitted.items()) \
        if candidates else "no candidate was judged"
    return Section("Candidate exponents on anisotropic Sigma", (
        Paragraph("docs/theory.md §4 leaves the general-Sigma exponent open: psi (with mu'Sigma mu and Tr Sigma², judged "
                  "only where the effective rank Tr Sigma/||Sigma|| is at least n, its validity domain), psi_alt (with "
                  "||Sigma|| and Tr Sigma, from a review), the Cao–Gu–Belkin form (PRIOR, §6) and psi_DE (a "
                  "deterministic-equivalent heuristic, RECONSTRUCTED). Each is judged by its own constant band on the "
                  "anisotropic Gaussian settings, pooled and per Sigma family, from the exact error of the limit "
                  "direction. Candidates that admit a band (PASS), by family: " + finding + ". A candidate "
                  "without a band has the wrong shape for those settings: a finding about the theory, not a tuning "
                  "knob."),
        Table(("Sigma family", *names), tuple((scope, *(cells.get(n, "—") for n in names))
                                              for scope, cells in by_family.items()),
              "Verdict of each candidate's constant band (ratio B of the suite) and the band where it passes."),
        _summary_table(candidates, "Candidate exponents (also in the verdict table).")))


def _calibration_section(suite: Suite, rows: Sequence[dict]) -> Section:
    entries = checks.constant_calibration(suite, rows)
    table = tuple((e["theorem"], e["hypothesis"], e["constant"], e["runs"], e["conclusions_failed"],
                   f"{e['critical_constant']:.3g}", e["admitted_above_critical"], f"{e['default']:g}",
                   e["admitted_at_default"], "yes" if e["default_sound"] else "no")
                  for e in entries)
    examples = [f"{e['theorem']} {e['hypothesis']}: " + "; ".join(e["counterexamples"])
                for e in entries if e["counterexamples"]]
    return Section("Calibration of the universal constants", (
        Paragraph("A hypothesis stated 'for a universal constant C' holds on a run exactly for C up to a critical "
                  "value. Over the runs where every other requirement of the theorem holds (the certificate of the "
                  "limit direction excepted: it is the toolkit's guard, not the paper's hypothesis), C* is the "
                  "smallest constant for which 'hypotheses hold => the theorem's conclusions held' is true on every "
                  "run of the suite (conclusions: the pattern after step 1 and thereafter, a certified limit "
                  "direction with a linear boundary, and for the error theorems their upper bound at the default "
                  "constants). Any C > C* is sound on this suite; the columns say how many runs each choice "
                  "admits. docs/theory.md §7."
                  + (" Runs whose conclusions failed: " + " | ".join(examples) + "." if examples else "")),
        Table(("theorem", "hypothesis", "constant", "runs", "conclusions failed", "C*", "runs admitted above C*",
               "default C", "runs admitted at default", "default sound"), table,
              "Critical constants measured on this suite.")))


def _beyond_section(suite: Suite, rows: Sequence[dict]) -> Section:
    names = {s.name: s for s in suite.settings if s.beyond}
    table = []
    for row in checks.final_rows(rows):
        if row["setting"] not in names:
            continue
        config = names[row["setting"]].config
        table.append((row["setting"], row["replicate"], names[row["setting"]].notes or "—", row["stop_reason"],
                      format_number(row["final_train_error"]), format_number(row["first_pattern_break"]),
                      format_rate(row["network_errors"], row["test_points"], config.evaluation.confidence),
                      format_number(row.get("final_one_minus_cos")), "yes" if row.get("ld_ok") else "no"))
    return Section("Beyond the paper (BEYOND, docs/theory.md §8)", (
        Paragraph("These settings are outside every encoded hypothesis: the toolkit shows what happens and no encoded "
                  "theorem applies; nothing here is a verdict."),
        Table(("setting", "rep", "what", "stop", "train error", "pattern break", "test error [CP]",
               "final 1 - cos", "certified limit"), tuple(table))))


def _provenance_section(results: Sequence[CheckResult]) -> Section:
    statements = tuple((r.key, r.provenance, r.section, r.statement) for r in results)
    return Section("Provenance", (
        Paragraph("Labels of docs/theory.md §0: EXACT (proved, no unknown constant), DERIVED (a sufficient condition proved "
                  "here, treated like EXACT), PAPER (the paper's claim as reported), RECONSTRUCTED (the paper's shape "
                  "with explicit constants, default 1, judged by constant bands), PRIOR (earlier literature), BEYOND "
                  "(outside every hypothesis)."),
        Table(("check", "provenance", "docs/theory.md", "statement"), statements, "Statements judged."),
        Table(("quantity", "provenance", "docs/theory.md", "meaning"), COLUMN_PROVENANCE, "Quantities measured.")))


def analyse(suite: Suite, rows: Sequence[dict]) -> list[Section]:
    """Run every check (`verify.checks.run_all`) and lay out the report's sections.

    Parameters
    ----------
    suite : Suite
        The suite the rows come from.
    rows : sequence of dict
        The stored rows (``checkpoint``, ``final`` and possibly ``error`` rows of `verify.runner`).

    Returns
    -------
    list of verify.render.Section
        The content, verdicts first; every check result sits in a `VerdictTable`.
    """
    results = checks.run_all(suite, rows)
    return [_verdict_section(results, suite.options.family_confidence), _regime_section(suite, rows, results),
            _convergence_section(suite, rows, results), _phase_transition_section(suite, rows, results),
            _hypothesis_section(rows), _calibration_section(suite, rows),
            _candidate_section(results), _beyond_section(suite, rows), _provenance_section(results)]
