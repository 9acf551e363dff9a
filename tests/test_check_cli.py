"""`theorybench check` through `theorybench.cli.main`: output, JSON, --sample, bad input."""

import json
import math
import re
from pathlib import Path

import pytest

from theorybench.cli import main

DOCS = Path(__file__).resolve().parent.parent / "docs" / "theory.md"


def run_check(capsys, *args):
    # Draws are the subject of their own tests below; elsewhere one draw keeps each call fast.
    if "--draws" not in args:
        args = (*args, "--draws", "1")
    status = main(["check", *args])
    out, err = capsys.readouterr()
    return status, out, err


def test_default_table_verdicts_and_bounds(capsys):
    status, out, err = run_check(capsys)
    assert status == 0 and err == ""
    assert "theorem" in out and "hypothesis" in out and "provenance" in out
    assert "Theorem 4.8 (directional convergence) [PAPER §3] does not apply because" in out
    # Typical Case 2 with the factor gamma (docs/theory.md §3), by hand at n = 40, d = 2000,
    # ||mu|| = 3, gamma = 1/2: X = 2 sqrt(d log n) + 2 sqrt(2 ||mu||^2 log n).
    cross = 2 * math.sqrt(2000 * math.log(40)) + 2 * math.sqrt(2 * 9 * math.log(40))
    factor = 40 * (9 + cross) / (0.5 * (9 + 2000 - cross))
    assert f"Case 2: near orthogonality fails by a factor {factor:.4g}" in out
    assert "typical case" in out
    assert "Predicted error bounds" in out and "log = " in out
    assert re.search(r"regime\s+weak", out)


def test_json_is_complete_and_never_a_bare_zero(capsys):
    status, out, _ = run_check(capsys, "--json")
    assert status == 0
    report = json.loads(out)
    assert report["evaluated_on"] == "parameters" and report["regime"] == "weak"
    assert [t["key"] for t in report["theorems"]][:2] == ["4.8", "5.1"]
    for theorem in report["theorems"]:
        assert isinstance(theorem["applies"], bool) and theorem["reason"]
        for h in theorem["hypotheses"]:
            assert h["provenance"] in ("EXACT", "PAPER", "RECONSTRUCTED", "PRIOR", "BEYOND", "DERIVED")
            assert h["holds"] in (True, False, None)
        for c in theorem["conclusions"]:
            if c["log_value"] is not None:
                assert isinstance(c["log_value"], float) and math.isfinite(c["log_value"])


def test_sample_mode_is_deterministic(capsys):
    status, first, _ = run_check(capsys, "--sample", "--json")
    assert status == 0
    _, second, _ = run_check(capsys, "--sample", "--json")
    assert first == second
    report = json.loads(first)
    assert report["evaluated_on"] == "sample"
    rows = {h["name"]: h for h in report["theorems"][0]["hypotheses"]}
    assert rows["small initialisation: step-one criterion"]["holds"] is True
    assert rows["Case 1: positive correlation"]["evaluated_on"] == "sample"
    _, other, _ = run_check(capsys, "--sample", "--json", "--seed", "1")
    assert json.loads(other)["seed"] == 1 and other != first


def test_constants_change_the_verdict(capsys):
    # The critical C_2 of the default (typical case) is about 0.115 (the factor 8.66 above).
    _, out, _ = run_check(capsys, "--json", "--constant", "C_2=0.1")
    theorem = json.loads(out)["theorems"][0]
    case2 = next(h for h in theorem["hypotheses"] if h["key"] == "case2")
    assert case2["holds"] is True and case2["constants"] == {"C_2": 0.1}


def test_configuration_file_from_the_docs(capsys, tmp_path):
    text = DOCS.read_text(encoding="utf-8")
    block = re.search(r"```toml\n(.*?)```", text, re.S).group(1)
    path = tmp_path / "example.toml"
    path.write_text(block, encoding="utf-8")
    status, out, _ = run_check(capsys, str(path), "--sample")
    assert status == 0
    assert "Theorem 4.8 (directional convergence) [PAPER §3] applies" in out
    # The figures docs/theory.md quotes for this file (deterministic: seed 0 of the sampler).
    assert "Assumption 6.1 (Sigma = I) fails by a factor 18" in out
    assert "exact error  Gaussian error of the limit direction w_bar on this draw: log = -426.9" in out
    assert "log = -430.6" in out and re.search(r"implied c\s+0\.50", out)


BAD_INPUT = [
    ("malformed TOML", "[data\nn = 3", "not valid TOML"),
    ("unknown key", "[data]\nsignl = 2.0", "Did you mean 'signal'"),
    ("gamma", "[network]\ngamma = 1.5", "network.gamma"),
    ("n < 2", "[data]\nn = 1", "data.n"),
    ("d < 1", "[data]\nd = 0", "data.d"),
    ("eta <= 0", "[training]\nstep_size = 0.0", "training.step_size"),
    ("negative omega", "[network]\ninit_scale = -1e-3", "network.init_scale"),
    ("label flip", "[data]\nlabel_flip = 0.5", "data.label_flip"),
    ("mean length", "[data]\nd = 3\nmean = [1.0, 2.0]", "data.mean has length 2"),
    ("covariance size", "[data]\nd = 3\n[data.covariance]\nfamily = 'user'\nmatrix = [[1.0, 0.0], [0.0, 1.0]]",
     "data.covariance.matrix is 2 x 2"),
]


@pytest.mark.parametrize("label,text,message", BAD_INPUT, ids=[b[0] for b in BAD_INPUT])
def test_bad_configuration_exits_2_with_a_clear_message(capsys, tmp_path, label, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    status, out, err = run_check(capsys, str(path))
    assert status == 2 and out == ""
    assert message in err.replace("\n", " ") and "Traceback" not in err


@pytest.mark.parametrize("args,message", [
    (["/nonexistent/config.toml"], "does not exist"),
    (["--constant", "C_9=1"], "NAME=VALUE"),
    (["--constant", "C_2=-1"], "finite real > 0"),
    (["--constant", "C_2"], "NAME=VALUE"),
    (["--seed", "-3"], "--seed"),
])
def test_bad_arguments_exit_2(capsys, args, message):
    status, out, err = run_check(capsys, *args)
    assert status == 2 and message in err.replace("\n", " ")


def test_directory_as_config_exits_2(capsys, tmp_path):
    status, _, err = run_check(capsys, str(tmp_path))
    assert status == 2 and "is a directory" in err


def test_constants_reach_every_theorem_that_relies_on_theorem_4_8(capsys):
    # With C_2 = 0.1 Case 2 holds (typical case, the default); the error theorems, which require
    # Theorem 4.8's data condition, must say so too rather than use C_2 = 1 behind the user's back.
    _, out, _ = run_check(capsys, "--json", "--constant", "C_2=0.1")
    report = json.loads(out)
    for theorem in report["theorems"]:
        if theorem["key"] in ("5.1", "6.2", "6.2-strong", "6.3"):
            assert theorem["constants"]["C_2"] == 0.1
            limit = next(h for h in theorem["hypotheses"] if h["key"] == "limit")
            assert limit["holds"] is True, theorem["key"]


def _strict_json(text):
    """JSON without the non-standard NaN / Infinity tokens (strict parsers reject them)."""
    def refuse(token):
        raise ValueError(f"non-standard JSON token {token}")
    return json.loads(text, parse_constant=refuse)


EXTREME = {  # valid but extreme configurations: none may crash, every output is strict JSON
    "d = 1, n = 2, m = 1, m_positive = 1":
        "[data]\nn = 2\nd = 1\n[network]\nm = 1\nm_positive = 1",
    "gamma near 0": "[data]\nn = 6\nd = 40\n[network]\ngamma = 1e-12",
    "gamma near 1": "[data]\nn = 6\nd = 40\n[network]\ngamma = 0.999999999",
    "omega = 0": "[data]\nn = 6\nd = 40\n[network]\ninit_scale = 0.0",
    "huge omega": "[data]\nn = 5\nd = 100\n[network]\ninit_scale = 1e6\nm = 2",
    "student_t nu = 2.5": "[data]\nn = 6\nd = 40\n[data.noise]\nfamily = 'student_t'\nnu = 2.5",
    "label noise": "[data]\nn = 6\nd = 40\nlabel_flip = 0.49",
    "signal 0": "[data]\nn = 6\nd = 40\nsignal = 0.0",
    "mu outside range(Sigma)": "[data]\nn = 3\nd = 2\nmean = [1.0, 0.0]\n[data.covariance]\n"
                               "family = 'user'\nmatrix = [[0.0, 0.0], [0.0, 1.0]]",
    "Sigma = 0": "[data]\nn = 3\nd = 2\nmean = [1.0, 0.0]\n[data.covariance]\nfamily = 'user'\n"
                 "matrix = [[0.0, 0.0], [0.0, 0.0]]",
    "strong signal, d < n": "[data]\nn = 8\nd = 4\nsignal = 60.0\n[training]\nstep_size = 1e-6",
}


@pytest.mark.parametrize("label", list(EXTREME))
def test_extreme_valid_configurations_give_strict_json_and_no_traceback(capsys, tmp_path, label):
    path = tmp_path / "extreme.toml"
    path.write_text(EXTREME[label], encoding="utf-8")
    for extra in ([], ["--sample"]):
        status, out, err = run_check(capsys, str(path), "--json", *extra)
        assert status == 0 and err == "", (label, extra, err)
        report = _strict_json(out)
        assert report["regime"] in ("weak", "strong", "undefined")
        status, out, err = run_check(capsys, str(path), *extra)
        assert status == 0 and err == "" and "Verdicts" in out


def test_degenerate_covariances_explain_the_missing_boundaries(capsys, tmp_path):
    path = tmp_path / "outside.toml"
    path.write_text(EXTREME["mu outside range(Sigma)"], encoding="utf-8")
    _, out, _ = run_check(capsys, str(path))
    assert "no phase boundary: r = 0 for every ||mu|| (mu'Sigma mu = 0)" in out
    path.write_text(EXTREME["Sigma = 0"], encoding="utf-8")
    report = _strict_json(run_check(capsys, str(path), "--json")[1])
    assert report["regime"] == "undefined"
    rates = {c["name"]: c for c in report["rates"]}
    assert rates["psi"]["value"] == "Infinity" and rates["r"]["value"] == "NaN"
    assert rates["knee signal"]["value"] is None and "Sigma = 0" in rates["knee signal"]["statement"]


@pytest.mark.parametrize("example", sorted(p.name for p in (DOCS.parent / "examples").glob("*.toml")))
def test_every_docs_example_checks_with_strict_json(capsys, example):
    path = DOCS.parent / "examples" / example
    status, out, err = run_check(capsys, str(path), "--sample", "--json")
    assert status == 0 and err == ""
    assert _strict_json(out)["evaluated_on"] == "sample"


def test_a_zero_bayes_error_is_said_in_words_not_printed_as_a_bare_zero(capsys, tmp_path):
    # Noise orthogonal to mu: mu is outside the range of Sigma and the Bayes error is exactly 0.
    path = tmp_path / "orthogonal.toml"
    path.write_text("[data]\nn = 20\nd = 500\n[data.covariance]\nfamily = 'orthogonal'\n")
    status, out, err = run_check(capsys, str(path))
    assert status == 0 and err == ""
    bayes = [line for line in out.splitlines() if "Bayes error" in line and "Phi(" in line]
    assert bayes and all("exactly 0 (log = -inf; mu' Sigma^+ mu = inf: mu is outside the range"
                         in line for line in bayes)
    assert not any("Infinity" in line for line in bayes)
