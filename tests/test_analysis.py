"""Checks and analysis on synthetic rows (verify/checks.py, verify/analysis.py).

The rows are written by hand from the mathematics, never by the code under test, so each verdict
below is what docs/theory.md §7 prescribes for them.
"""

import math

import pytest
from scipy.special import log_ndtr

from verify import checks
from verify.checks import FAIL, INCONCLUSIVE, NOT_APPLICABLE, PASS, THEOREM_4_8
from verify.suite import suite_from_toml

SUITE = """
name = "synthetic"
root_seed = 1
replicates = 1
[base]
data.n = 20
data.d = 2000
evaluation.test_points = 1000
[[setting]]
name = "gauss"
group = "sweep"
regime = "transition"
sweep = { signal = [1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 10.0, 14.0, 20.0, 28.0, 40.0] }
[[setting]]
name = "aniso"
group = "aniso"
regime = "anisotropic"
data.covariance.family = "power_law"
sweep = { signal = [4.0, 8.0, 16.0] }
[[setting]]
name = "flip"
group = "beyond"
regime = "beyond"
data.label_flip = 0.1
"""

THEOREM = "T"


@pytest.fixture(scope="module")
def suite():
    return suite_from_toml(SUITE, source="synthetic.toml")


def reconstructed_psi(setting) -> float:
    """psi of docs/theory.md §4 for Sigma = I: n||mu||^4 / (n||mu||^2 + d)."""
    data = setting.config.data
    return data.n * data.signal**4 / (data.n * data.signal**2 + data.d)


def final(setting, **values):
    row = {"setting": setting.name, "replicate": 0, "step": None, "kind": "final",
           f"applies/{THEOREM}": True, "test_points": setting.config.evaluation.test_points}
    row.update(values)
    return row


def gaussian_rows(suite, log_error):
    rows = []
    for setting in suite.settings:
        if setting.group != "sweep":
            continue
        value = reconstructed_psi(setting)
        rows.append(final(setting, psi=value, log_limit_error=log_error(value),
                          r=setting.config.data.n * setting.config.data.signal**2 / setting.config.data.d))
    return rows


def band(suite, rows, source="limit"):
    return checks.check_rate_band(
        suite, rows, key="k", statement="s", section="§4", theorem=THEOREM, psi_field="psi",
        source=source, select=lambda s: s.group == "sweep")


def test_band_that_fits_passes(suite):
    # err = exp(-c psi) with c varying by a factor 3 < B = 10 across settings
    factors = iter([1.0, 3.0] * 10)
    rows = gaussian_rows(suite, lambda p: -0.5 * next(factors) * p)
    result = band(suite, rows)
    assert result.verdict == PASS
    # c_hat = -log err / psi is exactly 0.5 or 1.5 (float64 rounding of one product and quotient)
    assert result.numbers["band"] == pytest.approx([0.5, 1.5], rel=1e-12)


def test_wrong_exponent_shape_fails(suite):
    # err = exp(-psi^2): c_hat = psi ranges over ~3 orders of magnitude, far beyond B = 10
    rows = gaussian_rows(suite, lambda p: -p * p)
    result = band(suite, rows)
    assert result.verdict == FAIL
    assert result.failing and "shape" in result.explanation


def test_too_few_test_points_is_inconclusive(suite):
    # runs with psi > 5 see no error in 1000 points, so their implied constant has no upper end;
    # the small-psi runs (errors exp(-psi/2), c_hat ~ 1/2) pin a band that meets the open intervals
    # without containing them: only more test points can decide
    rows = []
    for row in gaussian_rows(suite, lambda p: -p):
        count = 0 if row["psi"] > 5 else max(1, round(1000 * math.exp(-row["psi"] / 2)))
        rows.append({**row, "network_errors": count})
    result = band(suite, rows, source="network")
    assert result.verdict == INCONCLUSIVE
    assert "Zero errors observed" in result.explanation and "test points" in result.to_conclude


def test_failed_hypothesis_is_not_applicable_and_names_it(suite):
    rows = [{**row, f"applies/{THEOREM}": False, f"hyp/{THEOREM}/case_2/holds": False,
             f"hyp/{THEOREM}/case_2/margin": -3.2}
            for row in gaussian_rows(suite, lambda p: -p)]
    result = band(suite, rows)
    assert result.verdict == NOT_APPLICABLE
    assert "case_2" in result.explanation and "-3.2" in result.explanation


def test_a_statement_without_settings_of_its_kind_says_so(suite):
    # the synthetic suite has no sub-Gaussian setting: nothing was checked, and no hypothesis failed
    result = checks.check_one_sided_rate(suite, gaussian_rows(suite, lambda p: -p), key="k", statement="s",
                                         section="§5", theorem=THEOREM, psi_field="psi",
                                         select=lambda s: s.regime == "sub_gaussian")
    assert result.verdict == NOT_APPLICABLE and "has no setting" in result.explanation
    result = checks.check_rate_band(suite, [], key="k", statement="s", section="§4", theorem=THEOREM,
                                    psi_field="psi", source="limit", select=lambda s: False)
    assert result.verdict == NOT_APPLICABLE and "has no setting" in result.explanation


def test_error_figure_abscissa_is_the_sweep_key_when_psi_is_constant():
    # label_flip does not enter psi: plotted against psi, the three settings would share one x
    from verify.analysis import _abscissa

    flips = suite_from_toml(SUITE.replace("data.label_flip = 0.1", "sweep = { label_flip = [0.05, 0.1, 0.2] }"),
                            source="flips.toml")
    names = [s.name for s in flips.settings if s.group == "beyond"]
    position, label, on_psi = _abscissa(flips, [{"setting": name, "psi": 2.5} for name in names])
    assert (label, on_psi) == ("label_flip", False) and sorted(position.values()) == [0.05, 0.1, 0.2]
    gauss = [s for s in flips.settings if s.group == "sweep"]
    rows = [{"setting": s.name, "psi": reconstructed_psi(s)} for s in gauss]
    position, label, on_psi = _abscissa(flips, rows)
    assert on_psi and position[gauss[0].name] == rows[0]["psi"]


def test_phase_transition_knee_near_r_one(suite):
    # err = Phi(-sqrt(psi)) exactly: the probit exponent recovers psi, whose log-log slope is 4
    # below r = n s^2 / d = 1 (s = 10) and 2 above
    rows = gaussian_rows(suite, lambda p: float(log_ndtr(-math.sqrt(p))))
    [result] = checks.check_phase_transition(suite, rows)
    assert result.verdict == PASS
    # the hinge approximates a smooth crossover: slopes within 0.5 of 4 and 2 over this range
    assert abs(result.numbers["slope_weak"] - 4) < 0.5 and abs(result.numbers["slope_strong"] - 2) < 0.5
    # knee within a factor 2 of r = 1 for a crossover of width ~1 in log r
    assert 0.5 < result.numbers["knee_r"] < 2


def test_phase_transition_without_knee_fails(suite):
    # a single power law (slope 4 everywhere, no transition)
    rows = gaussian_rows(suite, lambda p: 0.0)
    for row, setting in zip(rows, [s for s in suite.settings if s.group == "sweep"]):
        row["log_limit_error"] = float(log_ndtr(-math.sqrt(1e-3 * setting.config.data.signal**4)))
    [result] = checks.check_phase_transition(suite, rows)
    assert result.verdict == FAIL


def test_step_one_criterion_failure_is_reported(suite):
    gauss = suite.settings[0]
    ok = final(gauss, step1_pairs=100, step1_borderline=0, step1_disagreements=0, step1_actual_correct=100)
    assert checks.check_step_one_criterion(suite, [ok]).verdict == PASS
    bad = {**ok, "step1_disagreements": 2}
    result = checks.check_step_one_criterion(suite, [ok, bad])
    assert result.verdict == FAIL and gauss.name in result.failing


def test_exact_error_against_monte_carlo(suite):
    gauss = suite.settings[0]
    # 100 errors in 1000 points: the 95% Clopper-Pearson interval is about [0.082, 0.120]
    inside = final(gauss, log_limit_error=math.log(0.1), linear_errors=100)
    outside = final(gauss, log_limit_error=math.log(0.2), linear_errors=100)
    assert checks.check_exact_error_vs_monte_carlo(suite, [inside]).verdict == PASS
    assert checks.check_exact_error_vs_monte_carlo(suite, [inside, outside]).verdict == FAIL


def test_conditional_bound_below_the_interval_fails(suite):
    gauss = suite.settings[0]
    valid = final(gauss, log_bound_best=math.log(0.5), linear_errors=100)
    wrong = final(gauss, log_bound_best=math.log(0.01), linear_errors=100)
    assert checks.check_conditional_bounds(suite, [valid]).verdict == PASS
    assert checks.check_conditional_bounds(suite, [valid, wrong]).verdict == FAIL


def convergence_rows(setting, gaps, norms=None):
    steps = [0, 1, 3, 10, 30, 100, 300, 1000]
    norms = norms or [1.0 + t for t in steps]
    rows = [{"setting": setting.name, "replicate": 0, "step": t, "kind": "checkpoint", "one_minus_cos": g,
             "log_loss": -float(t), "weight_norm": w}
            for t, g, w in zip(steps, gaps, norms)]
    rows.append(final(setting, first_pattern_break=None, ld_ok=True, step1_pairs=10, step1_actual_correct=10,
                      final_one_minus_cos=gaps[-1]))
    return rows


def test_directional_convergence(suite):
    gauss = suite.settings[0]
    converging = [1.0] + [0.06 / math.log(t) ** 2 for t in [1.5, 3, 10, 30, 100, 300, 1000]]
    result = checks.check_directional_convergence(suite, convergence_rows(gauss, converging))
    assert result.verdict == PASS
    # the data follow 0.06 (log t)^-2 exactly on t >= 3 (late half t >= 30): fitted b = 2
    assert result.numbers["fitted_exponent_median"] == pytest.approx(2.0, abs=1e-9)
    assert result.numbers["evidence"] == 1 and result.numbers["no_evidence"] == 0
    # A run whose 1 - cos stopped moving is no evidence: with no other run, nothing is shown.
    stuck = [1.0, 0.5, 0.3, 0.2, 0.2, 0.2, 0.2, 0.2]
    stalled = checks.check_directional_convergence(suite, convergence_rows(gauss, stuck))
    assert stalled.verdict == INCONCLUSIVE and stalled.numbers["evidence"] == 0
    assert "less than the factor 0.9" in stalled.explanation
    # The review's case: 1 - cos 0.016531 -> 0.016529 with a frozen iterate (the loss underflows).
    frozen = [1.0, 0.5, 0.1, 0.05, 0.016531, 0.01653, 0.01653, 0.016529]
    norms = [1.0, 2.0, 3.0, 4.0, 5.0, 5.0, 5.0, 5.0]
    stalled = checks.check_directional_convergence(suite, convergence_rows(gauss, frozen, norms))
    assert stalled.verdict == INCONCLUSIVE
    assert "the iterate stopped moving" in stalled.explanation


def test_beyond_settings_are_never_judged(suite):
    flip = suite.setting("flip")
    rows = [final(flip, psi=1.0, log_limit_error=-1e6, step1_pairs=1, step1_actual_correct=0)]
    assert checks.check_theorem_4_8_conclusions(suite, rows, THEOREM).verdict == NOT_APPLICABLE
    result = checks.beyond_result(suite)
    assert result.verdict == NOT_APPLICABLE and result.settings == ("flip",)
    assert "No encoded theorem applies" in result.explanation


def test_candidate_exponents_judged_separately(suite):
    aniso = [s for s in suite.settings if s.group == "aniso"]
    rows = []
    for s in aniso:
        p = s.config.data.signal**2
        # the error follows exp(-psi_good) exactly; psi_bad grows like psi_good^3
        rows.append(final(s, log_limit_error=-p, **{"psi/good": p, "psi/bad": p**3}))
    good, bad = checks.check_candidate_exponents(suite, rows, THEOREM, ["good", "bad"])
    assert good.verdict == PASS and bad.verdict == FAIL


# ---------------------------------------------------------------------------------------------
# analyse: the report's content on the rows of a tiny real sweep

TINY_SUITE = """
name = "tiny"
root_seed = 5
replicates = 1
[base]
data.n = 8
data.d = 400
network.m = 4
network.init_scale = 1e-6
training.step_size = 0.05
training.max_steps = 200
training.checkpoints = 6
evaluation.test_points = 2000
[[setting]]
name = "gauss"
group = "iso"
regime = "weak"
sweep = { signal = [3.0, 6.0] }
[[setting]]
name = "flip"
group = "beyond"
regime = "beyond"
notes = "label noise"
data.label_flip = 0.2
"""


@pytest.fixture(scope="module")
def tiny_report():
    from verify.analysis import analyse
    from verify.measure import measure
    from verify.render import Figure, VerdictTable, as_report, render_markdown
    from verify.runner import plan_units

    suite = suite_from_toml(TINY_SUITE, source="tiny.toml")
    units = plan_units([(s.name, s.config) for s in suite.settings], suite.replicates, suite.root_seed)
    rows = [row for unit in units for row in measure(unit.config, unit.setting, unit.replicate)]
    report = as_report(analyse(suite, rows), "tiny")
    return suite, report, render_markdown(report), Figure, VerdictTable


def test_analysis_lays_out_every_section(tiny_report):
    _, report, _, Figure, _ = tiny_report
    titles = [section.title for section in report.sections]
    assert titles[0] == "Verdicts"
    for title in ("Error against psi, by regime", "Directional convergence", "Phase transition", "Hypotheses",
                  "Candidate exponents on anisotropic Sigma", "Beyond the paper (BEYOND, docs/theory.md §8)",
                  "Provenance"):
        assert title in titles
    names = [block.name for block in report.walk() if isinstance(block, Figure)]
    # two signals per group: fewer than MIN_ABSCISSAE abscissae show no trend, so only the tables
    assert "directional_convergence" in names and not any(name.startswith("error_vs_psi") for name in names)


def test_every_statement_is_judged_once_with_its_provenance(tiny_report):
    suite, report, markdown, _, _ = tiny_report
    results = report.results()
    keys = [r.key for r in results]
    assert len(keys) == len(set(keys))
    assert {r.provenance for r in results} <= {"EXACT", "DERIVED", "PAPER", "RECONSTRUCTED", "PRIOR", "BEYOND"}
    # the BEYOND setting gets no verdict but "no encoded theorem applies"
    beyond = next(r for r in results if r.key == "beyond")
    assert beyond.verdict == NOT_APPLICABLE and beyond.settings == ("flip",)
    # every check key appears in the provenance table of the Markdown report
    for key in keys:
        assert key.replace("|", "\\|") in markdown


def test_exact_checks_pass_on_a_tiny_sweep(tiny_report):
    _, report, _, _, _ = tiny_report
    exact = [r for r in report.results() if r.provenance == "EXACT"]
    assert exact and all(r.verdict in (PASS, NOT_APPLICABLE) for r in exact), \
        [(r.key, r.verdict, r.explanation) for r in exact if r.verdict not in (PASS, NOT_APPLICABLE)]


def test_tiny_probabilities_are_printed_from_their_logs(tiny_report):
    import re

    from verify.render import Table

    _, report, _, _, _ = tiny_report
    tables = [b for b in report.walk() if isinstance(b, Table) and "exact err(w_bar)" in b.columns]
    assert tables
    scientific = re.compile(r"^\d\.\d\de[+-]\d+$")
    for table in tables:
        for column in ("exact err(w_bar)", "Bayes", "cond. bound"):
            index = table.columns.index(column)
            for row in table.rows:
                # Gaussian rows carry all three; none may print as a bare 0
                assert scientific.match(row[index]) or row[index] == "—", row[index]


@pytest.mark.slow
def test_default_suite_passes_every_exact_check(tmp_path):
    """Acceptance (issue 5): on the shipped quick suite every EXACT check passes and every
    RECONSTRUCTED band check states its fitted band (about a minute on 2 cores)."""
    from verify.analysis import analyse
    from verify.executors import open_executor
    from verify.measure import measure
    from verify.render import as_report
    from verify.runner import plan_units, run_sweep
    from verify.storage import ResultsFile
    from verify.suite import load_suite

    suite = load_suite("quick")
    units = plan_units([(s.name, s.config) for s in suite.settings], suite.replicates, suite.root_seed)
    with open_executor("process") as executor:
        outcome = run_sweep(units, measure, ResultsFile(tmp_path / "rows.jsonl"), executor, progress=False)
    assert not outcome.failed
    results = as_report(analyse(suite, outcome.rows), "quick").results()
    exact = [r for r in results if r.provenance == "EXACT"]
    assert exact and all(r.verdict == PASS for r in exact), [(r.key, r.explanation) for r in exact]
    for result in results:
        if result.key.startswith("reconstructed.band") and result.verdict in (PASS, FAIL):
            assert "band" in result.numbers or "failed_hypotheses" in result.numbers


def test_hypothesis_tables_state_the_applies_rule(monkeypatch):
    from types import SimpleNamespace

    from verify import analysis

    fake = SimpleNamespace(key="T", requirements=(("h0",), ("case1", "case2"), ("init",)))
    monkeypatch.setattr(analysis, "THEOREMS", (fake,))
    assert analysis._applies_rule("T") == "applies = h0 and (case1 or case2) and init (every row of a hypothesis holds)."
    assert analysis._applies_rule("no such theorem") == ""


def test_constant_calibration_finds_the_critical_constant(suite):
    # Four runs on which every other requirement of Theorem 4.8 holds and Case 1 fails, with Case 2's
    # critical constants 0.2, 0.5, 0.9, 2.0; the conclusions failed on the run with critical 0.5
    # (its pattern broke). Then C* = 0.5: every C > 0.5 admits only runs whose conclusions held
    # (0.9 and 2.0); the default C = 1 admits one run, and is sound.
    gauss = suite.settings[0]
    base = {f"hyp/{THEOREM_4_8}/{key}/holds": True for key in ("h0", "init", "step_lambda")}
    base[f"hyp/{THEOREM_4_8}/case1/holds"] = False
    good = dict(first_pattern_break=None, ld_ok=True, step1_pairs=10, step1_actual_correct=10,
                limit_disagreements=0)
    rows = []
    for replicate, critical in enumerate((0.2, 0.5, 0.9, 2.0)):
        conclusions = dict(good, first_pattern_break=7) if critical == 0.5 else good
        rows.append(final(gauss, replicate=replicate, seed=replicate, **base, **conclusions,
                          **{f"hyp/{THEOREM_4_8}/case2/critical": critical}))
    entry = next(e for e in checks.constant_calibration(suite, rows)
                 if e["theorem"] == THEOREM_4_8 and e["hypothesis"] == "case2")
    assert entry["runs"] == 4 and entry["conclusions_failed"] == 1
    assert entry["critical_constant"] == 0.5
    assert entry["admitted_above_critical"] == 2 and entry["admitted_at_default"] == 1
    assert entry["default_sound"] and "seed 1" in entry["counterexamples"][0]
    # A run where Case 1 holds says nothing about C_2: it is left out.
    rows[1][f"hyp/{THEOREM_4_8}/case1/holds"] = True
    entry = next(e for e in checks.constant_calibration(suite, rows)
                 if e["theorem"] == THEOREM_4_8 and e["hypothesis"] == "case2")
    assert entry["runs"] == 3 and entry["critical_constant"] == 0.0
