"""`theorybench report` end to end, with a stand-in suite, work unit and analysis (fast).

`verify.suite`, `verify.measure` and `verify.analysis` are replaced in `sys.modules` by small
modules defined here, so these tests exercise the command's plumbing (output files, resume,
executors, exit statuses) independently of the real measurements.
"""

from __future__ import annotations

import json
import math
import sys
import types
from types import SimpleNamespace

import numpy as np
import pytest

from theorybench.cli import main
from theorybench.config import Config, DataConfig
from verify.verdicts import CheckResult


def stand_in_measure(config: Config, setting: str, replicate: int) -> list[dict]:
    """A seeded random walk: two checkpoints and a final row; fails for setting 'boom'."""
    if setting == "boom":
        raise ValueError("boom refuses to run")
    rng = np.random.default_rng(np.random.SeedSequence(config.seed))
    walk = np.cumsum(rng.standard_normal(3)) * config.data.signal
    rows = [{"setting": setting, "replicate": replicate, "step": t, "kind": "checkpoint", "value": walk[t]}
            for t in range(2)]
    # an infinite margin, as real rows have: stored as a string so rows.jsonl stays strict JSON
    return rows + [{"setting": setting, "replicate": replicate, "step": None, "kind": "final",
                    "log_error": -float(abs(walk[2])) - 800.0, "margin": math.inf}]


def fake_suite(names=("weak", "strong")):
    settings = [SimpleNamespace(name=name, config=Config(data=DataConfig(n=4, d=8, signal=1.0 + i)),
                                group="g", regime="weak", notes="")
                for i, name in enumerate(names)]
    return SimpleNamespace(name="tiny", description="", source="test", root_seed=5, replicates=2,
                           settings=tuple(settings))


def fake_analyse(suite, rows):
    """Content in the analysis helper's own shapes (duck-typed by verify.render.as_report)."""
    finals = [row for row in rows if row["kind"] == "final"]
    # a claim of the paper (Theorem 4.8, Case 2) for the dashboard, --fail-on and the headline
    verdict = CheckResult(key="paper.theorem_4_8_conclusions", statement="every log error is below -800",
                          provenance="PAPER", section="§3", verdict="PASS" if all(r["log_error"] < -800 for r in finals) else "FAIL",
                          explanation=f"{len(finals)} runs", settings=tuple(suite.settings[0].name for _ in finals[:1]))
    from matplotlib.figure import Figure

    figure = Figure()
    figure.add_subplot().plot([1, 2], [3, 4])
    text = SimpleNamespace(markdown=f"Suite **{suite.name}** with `{len(rows)}` rows.")
    section = SimpleNamespace(title="Findings", blocks=(text, SimpleNamespace(name="walk", figure=figure, caption="c")))
    return SimpleNamespace(title=f"Report {suite.name}", sections=(section,), checks=(verdict,))


@pytest.fixture
def fakes(monkeypatch):
    state = {"suite": fake_suite()}
    modules = {
        "verify.suite": types.SimpleNamespace(load_suite=lambda name: state["suite"]),
        "verify.measure": types.SimpleNamespace(measure=stand_in_measure),
        "verify.analysis": types.SimpleNamespace(analyse=fake_analyse),
    }
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    return state


def report(tmp_path, *extra):
    return main(["report", "tiny", "--out", str(tmp_path), "--executor", "serial", *extra])


def refuse_token(token):
    raise ValueError(f"non-standard JSON token {token} in rows.jsonl")


def test_report_writes_every_output(tmp_path, fakes, capsys):
    assert report(tmp_path / "a") == 0
    out = tmp_path / "a"
    for name in ("rows.jsonl", "index.html", "report.md", "environment.json", "figures/walk.png"):
        assert (out / name).is_file(), name
    rows = [json.loads(line, parse_constant=refuse_token) for line in (out / "rows.jsonl").read_text().splitlines()]
    assert rows[2]["margin"] == "Infinity"  # strict JSON (jq reads it), not the bare Infinity token
    assert len(rows) == 12 and rows[0]["setting"] == "weak" and rows[-1]["setting"] == "strong"
    environment = json.loads((out / "environment.json").read_text())
    assert environment["root_seed"] == 5 and environment["units_computed"] == 4
    assert [u["seed"] for u in environment["units"]] == [r["seed"] for r in rows if r["kind"] == "final"]
    assert environment["wall_time_s"] >= 0 and "wall" not in (out / "rows.jsonl").read_text()
    text = (out / "report.md").read_text()
    assert "**The paper's claims: PASS — 1 claim(s) judged: 1 PASS.**" in text
    assert "Suite **tiny** with `12` rows." in text and "## Run" in text
    assert "<strong>tiny</strong>" in (out / "index.html").read_text()
    assert "The paper's claims: PASS" in capsys.readouterr().out


def test_rerun_same_seed_is_bit_identical_and_seed_matters(tmp_path, fakes):
    assert report(tmp_path / "a") == 0
    assert main(["report", "tiny", "--out", str(tmp_path / "b"), "--executor", "process", "--workers", "2"]) == 0
    assert report(tmp_path / "c", "--seed", "6") == 0
    first = (tmp_path / "a" / "rows.jsonl").read_bytes()
    assert (tmp_path / "b" / "rows.jsonl").read_bytes() == first
    assert (tmp_path / "c" / "rows.jsonl").read_bytes() != first


def test_existing_rows_need_resume_and_resume_completes(tmp_path, fakes, capsys):
    assert report(tmp_path / "full") == 0
    reference = (tmp_path / "full" / "rows.jsonl").read_bytes()
    assert report(tmp_path / "full") == 2
    assert "--resume" in capsys.readouterr().err
    assert (tmp_path / "full" / "rows.jsonl").read_bytes() == reference
    # An interrupted run: the first two units on disk, then a torn line.
    partial = tmp_path / "partial"
    partial.mkdir()
    lines = reference.decode().splitlines(keepends=True)
    (partial / "rows.jsonl").write_text("".join(lines[:6]) + lines[6][:20])
    assert report(partial, "--resume") == 0
    assert (partial / "rows.jsonl").read_bytes() == reference
    assert json.loads((partial / "environment.json").read_text())["units_reused"] == 2
    # With every unit done, --resume recomputes nothing and rewrites the report.
    (partial / "report.md").unlink()
    assert report(partial, "--resume") == 0
    assert (partial / "report.md").is_file() and (partial / "rows.jsonl").read_bytes() == reference
    assert json.loads((partial / "environment.json").read_text())["units_computed"] == 0


def test_failed_unit_exit_status_and_report(tmp_path, fakes, capsys):
    fakes["suite"] = fake_suite(("weak", "boom"))
    assert report(tmp_path) == 1
    text = (tmp_path / "report.md").read_text()
    assert "FAILED UNITS" in text and "boom refuses to run" in text
    assert "2 unit(s) failed" in capsys.readouterr().err


def test_fail_verdict_is_in_the_summary(tmp_path, fakes, monkeypatch):
    def failing(config, setting, replicate):
        rows = stand_in_measure(config, setting, replicate)
        rows[-1]["log_error"] = 0.0
        return rows

    monkeypatch.setitem(sys.modules, "verify.measure", types.SimpleNamespace(measure=failing))
    assert report(tmp_path) == 0  # a FAIL is a finding, not a crash
    text = (tmp_path / "report.md").read_text()
    assert "**The paper's claims: FAIL — 1 claim(s) judged: 1 FAIL.**" in text
    assert "| Theorem 4.8, Case 2 (near orthogonality) | **FAIL** |" in text


@pytest.mark.parametrize("verdict, fail_on, status", [
    ("FAIL", "fail", 3), ("INCONCLUSIVE", "fail", 0), ("PASS", "fail", 0),
    ("FAIL", "inconclusive", 3), ("INCONCLUSIVE", "inconclusive", 3), ("PASS", "inconclusive", 0),
    ("NOT APPLICABLE", "inconclusive", 0), ("FAIL", None, 0)])
def test_fail_on_exits_non_zero_exactly_when_a_paper_claim_fails(tmp_path, fakes, monkeypatch, verdict, fail_on,
                                                                  status):
    def analyse(suite, rows, key="paper.theorem_4_8_conclusions", provenance="PAPER"):
        content = fake_analyse(suite, rows)
        claim = CheckResult(key=key, statement="a claim", provenance=provenance, section="§3", verdict=verdict,
                            explanation="set by the test")
        return SimpleNamespace(title=content.title, sections=content.sections, checks=(claim,))

    monkeypatch.setitem(sys.modules, "verify.analysis", types.SimpleNamespace(analyse=analyse))
    assert report(tmp_path / "claim", *(["--fail-on", fail_on] if fail_on else [])) == status
    # the same verdict on an open question, a self-check or a BEYOND row never sets the status
    for key, provenance in (("reconstructed.candidate[psi]", "RECONSTRUCTED"), ("exact.gaussian_error", "EXACT"),
                            ("beyond", "BEYOND")):
        monkeypatch.setitem(sys.modules, "verify.analysis", types.SimpleNamespace(
            analyse=lambda suite, rows, key=key, provenance=provenance: analyse(suite, rows, key, provenance)))
        assert report(tmp_path / key, "--fail-on", "inconclusive") == 0, key


def test_fail_on_rejects_an_unknown_value(tmp_path, fakes, capsys):
    with pytest.raises(SystemExit) as stop:
        report(tmp_path, "--fail-on", "pass")
    assert stop.value.code == 2 and "--fail-on" in capsys.readouterr().err


def test_dask_executor_through_the_command(tmp_path, fakes):
    distributed = pytest.importorskip("distributed")
    assert report(tmp_path / "serial") == 0
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        assert main(["report", "tiny", "--out", str(tmp_path / "dask"), "--executor", "dask",
                     "--scheduler", cluster.scheduler_address]) == 0
    assert (tmp_path / "dask" / "rows.jsonl").read_bytes() == (tmp_path / "serial" / "rows.jsonl").read_bytes()


@pytest.mark.parametrize("arguments, message", [
    (["--executor", "process", "--workers", "0"], "--workers must be an integer >= 1"),
    (["--executor", "process", "--scheduler", "tcp://x:1"], "only meaningful with --executor dask"),
    (["--executor", "serial", "--seed", "-3"], "--seed must be an integer >= 0"),
])
def test_bad_input_is_exit_status_two(tmp_path, fakes, capsys, arguments, message):
    assert main(["report", "tiny", "--out", str(tmp_path), *arguments]) == 2
    err = capsys.readouterr().err
    assert message in err.replace("\n", " ") and "Traceback" not in err


def test_dask_not_installed_is_exit_status_two(tmp_path, fakes, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    assert main(["report", "tiny", "--out", str(tmp_path), "--executor", "dask"]) == 2
    assert "theorybench[dask]" in capsys.readouterr().err


def test_unwritable_out_is_exit_status_two(tmp_path, fakes, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["report", "tiny", "--out", str(blocker / "sub")]) == 2
    # the paragraph is wrapped at 100 columns without breaking the path: compare unwrapped
    assert "cannot be created or written" in " ".join(capsys.readouterr().err.split())


def test_resume_warns_when_the_source_changed(tmp_path, fakes, capsys, monkeypatch):
    assert report(tmp_path) == 0
    fingerprint = json.loads((tmp_path / "environment.json").read_text())["source_fingerprint"]
    assert len(fingerprint) == 16
    capsys.readouterr()
    assert report(tmp_path, "--resume") == 0
    assert "source changed" not in capsys.readouterr().err
    import theorybench.commands.report as command

    monkeypatch.setattr(command, "source_fingerprint", lambda: "0" * 16)
    assert report(tmp_path, "--resume") == 0
    assert f"fingerprint {fingerprint} -> {'0' * 16}" in capsys.readouterr().err.replace("\n", " ")
