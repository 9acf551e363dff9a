"""`theorybench simulate` through theorybench.cli.main: results on disk, and every bad input as a
one-paragraph error with exit status 2 and no traceback."""

import json

import numpy as np

import pytest

pytest.importorskip("theorybench.training")

from theorybench.cli import main  # noqa: E402
from theorybench.config import Config, config_hash, load_config  # noqa: E402

SMALL = """
seed = 3
[data]
n = 10
d = 200
signal = 2.0
[network]
m = 4
[training]
max_steps = 100
checkpoints = 5
[evaluation]
test_points = 2000
"""


def _write(tmp_path, text, name="config.toml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _one_paragraph_error(capsys, status):
    captured = capsys.readouterr()
    assert status == 2
    assert "Traceback" not in captured.err
    message = captured.err.strip()
    assert message.startswith("theorybench simulate: error:")
    assert "\n\n" not in message  # one paragraph
    return " ".join(message.split())  # undo the line wrapping


def test_simulate_writes_result_json_and_prints_a_summary(tmp_path, capsys):
    config_path = _write(tmp_path, SMALL)
    out = tmp_path / "out"
    assert main(["simulate", config_path, "--out", str(out)]) == 0
    captured = capsys.readouterr()
    content = json.loads((out / "result.json").read_text())
    assert content["seed"] == 3
    assert content["config_hash"] == config_hash(load_config(config_path))
    for words in ("stopped:", "log-loss", "training error", "test error", "Clopper-Pearson",
                  "result.json"):
        assert words in captured.out


def test_default_config_and_default_output_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["simulate", "--seed", "5"]) == 0
    config = Config().replace(seed=5)
    path = tmp_path / "theorybench-out" / f"simulate-{config_hash(config)}" / "result.json"
    content = json.loads(path.read_text())
    assert content["seed"] == 5 and content["config_hash"] == config_hash(config)


BAD_CONFIGS = [
    ("malformed TOML", "[data\nn = 3", ["config.toml", "not valid TOML"]),
    ("unknown key", "[data]\nsigal = 2.0", ["'sigal'", "Did you mean 'signal'?"]),
    ("gamma above 1", "[network]\ngamma = 1.5", ["network.gamma", "1.5", "between 0 and 1"]),
    ("gamma zero", "[network]\ngamma = 0.0", ["network.gamma", "between 0 and 1"]),
    ("n below 2", "[data]\nn = 1", ["data.n", ">= 2"]),
    ("d below 1", "[data]\nd = 0", ["data.d", ">= 1"]),
    ("eta zero", "[training]\nstep_size = 0.0", ["training.step_size", "> 0"]),
    ("eta negative", "[training]\nstep_size = -0.1", ["training.step_size", "> 0"]),
    ("negative omega", "[network]\ninit_scale = -1e-5", ["network.init_scale", ">= 0"]),
    ("flip rate 1/2", "[data]\nlabel_flip = 0.5", ["data.label_flip", "[0, 1/2)"]),
    ("flip rate negative", "[data]\nlabel_flip = -0.1", ["data.label_flip", "[0, 1/2)"]),
    ("mean of wrong length", "[data]\nd = 3\nmean = [1.0, 2.0]", ["data.mean", "length 2", "data.d = 3"]),
    ("covariance of wrong size",
     "[data]\nd = 3\n[data.covariance]\nfamily = 'user'\nmatrix = [[1.0, 0.0], [0.0, 1.0]]",
     ["data.covariance.matrix", "2 x 2", "data.d = 3"]),
    ("covariance not PSD",
     "[data]\nd = 2\n[data.covariance]\nfamily = 'user'\nmatrix = [[1.0, 2.0], [2.0, 1.0]]",
     ["data.covariance.matrix", "positive semi-definite"]),
    # Odd inputs that once escaped as tracebacks (TOML integers are unbounded; tomllib raises a
    # bare ValueError past 4300 digits and a RecursionError on deep nesting).
    ("integer beyond float64", "[data]\nsignal = 1" + "0" * 400, ["data.signal", "400 digits"]),
    ("integer past 4300 digits", "[data]\nn = 1" + "0" * 5000, ["not valid TOML"]),
    ("arrays nested too deep", "a = " + "[" * 5000 + "]" * 5000, ["nests arrays or tables more than 32 levels"]),
    ("mean not a list", "[data]\nd = 1\nmean = 5", ["data.mean", "list of d = 1 real numbers"]),
]


@pytest.mark.parametrize("text,words", [case[1:] for case in BAD_CONFIGS],
                         ids=[case[0] for case in BAD_CONFIGS])
def test_bad_configuration_is_one_paragraph_and_exit_2(tmp_path, capsys, text, words):
    status = main(["simulate", _write(tmp_path, text), "--out", str(tmp_path / "out")])
    message = _one_paragraph_error(capsys, status)
    for word in words:
        assert word in message
    assert not (tmp_path / "out" / "result.json").exists()


def test_missing_configuration_file(tmp_path, capsys):
    missing = str(tmp_path / "nowhere.toml")
    message = _one_paragraph_error(capsys, main(["simulate", missing]))
    assert "nowhere.toml" in message and "does not exist" in message


def test_unwritable_output_directory(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    # A directory cannot be created below a regular file, whoever runs the test (even root).
    status = main(["simulate", _write(tmp_path, SMALL), "--out", str(blocker / "sub")])
    message = _one_paragraph_error(capsys, status)
    assert "--out" in message and "a_file" in message


def test_negative_seed(tmp_path, capsys):
    status = main(["simulate", _write(tmp_path, SMALL), "--seed", "-1"])
    message = _one_paragraph_error(capsys, status)
    assert "seed = -1" in message


def test_non_integer_seed_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as info:
        main(["simulate", "--seed", "x"])
    assert info.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


def test_unimportable_user_sampler_is_reported_not_raised(tmp_path, capsys):
    text = "[data]\nn = 4\nd = 3\n[data.noise]\nfamily = 'user'\nsampler = 'tb_no_such_module_xyz:draw'"
    status = main(["simulate", _write(tmp_path, text), "--out", str(tmp_path / "out")])
    message = _one_paragraph_error(capsys, status)
    assert "data.noise.sampler" in message and "cannot be imported" in message


def test_two_runs_of_the_command_write_identical_bytes(tmp_path, capsys):
    config_path = _write(tmp_path, SMALL)
    for name in ("first", "second"):
        assert main(["simulate", config_path, "--out", str(tmp_path / name)]) == 0
    capsys.readouterr()
    first = (tmp_path / "first" / "result.json").read_bytes()
    assert first == (tmp_path / "second" / "result.json").read_bytes()
    assert main(["simulate", config_path, "--seed", "4", "--out", str(tmp_path / "third")]) == 0
    assert (tmp_path / "third" / "result.json").read_bytes() != first


def test_a_configuration_too_big_for_memory_is_reported_not_raised(tmp_path, capsys, monkeypatch):
    import theorybench.simulate

    def out_of_memory(config, progress):
        raise MemoryError("Unable to allocate 71.1 PiB for an array")

    monkeypatch.setattr(theorybench.simulate, "simulate", out_of_memory)
    status = main(["simulate", _write(tmp_path, SMALL), "--out", str(tmp_path / "out")])
    message = _one_paragraph_error(capsys, status)
    assert "more memory" in message and "71.1 PiB" in message


def test_simulate_reports_the_limit_direction_and_theorem_4_8_on_its_draw(tmp_path, capsys):
    from scipy.stats import norm

    from bounds.limit_direction import limit_direction
    from theorybench.simulate import simulate

    config_path = _write(tmp_path, SMALL)
    assert main(["simulate", config_path, "--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    theory = json.loads((tmp_path / "out" / "result.json").read_text())["theory"]
    # recompute from the same draw, independently of the command
    config = load_config(config_path)
    result = simulate(config)
    limit = limit_direction(result.training_set.X, result.training_set.y, result.run.a, config.network.gamma)
    assert theory["limit_direction"]["certified"] == (limit.refusal is None and limit.certificate.ok)
    W, W_hat = result.run.final_weights(), limit.weights()
    cosine = float(np.sum(W * W_hat) / (np.linalg.norm(W) * np.linalg.norm(W_hat)))
    # both sides compute 1 - cos in float64 from the same arrays: equal to ~10 ulps of cos
    assert theory["one_minus_cos"] == pytest.approx(1 - cosine, abs=1e-14)
    # Sigma = I, mu = signal e1: err(w_bar) = Phi(-<w_bar, mu> / ||w_bar||) (scipy's log-CDF; 1e-12
    # relative covers the two float64 evaluation orders of t / s)
    w_bar = np.asarray(limit.linear_direction)
    expected = norm.logcdf(-w_bar[0] * config.data.signal / np.linalg.norm(w_bar))
    assert theory["limit_error"]["log"] == pytest.approx(expected, rel=1e-12)
    assert isinstance(theory["theorem_4_8"]["applies"], bool) and theory["theorem_4_8"]["hypotheses"]
    from bounds import THEOREMS
    from bounds.contract import Sample

    sample = Sample(X=result.training_set.X, y=result.training_set.y, W0=result.run.W0, a=result.run.a,
                    gamma=config.network.gamma, eta=config.training.step_size)
    rows = [r for r in next(t for t in THEOREMS if t.key == "4.8").hypotheses(config, sample) if r.verdict]
    assert [h["name"] for h in theory["theorem_4_8"]["hypotheses"]] == [r.name for r in rows]
    # a yes/no hypothesis shows no margin (bounds stores a placeholder +-0.5); a measured one shows its own
    assert [h["margin"] for h in theory["theorem_4_8"]["hypotheses"]] == \
        [None if r.is_flag else pytest.approx(r.margin) for r in rows]
    assert any(r.is_flag for r in rows)
    for words in ("limit direction: certified", "1 - cos(W(T), W_hat) =", "exact error of w_bar:",
                  "Theorem 4.8 on this draw:"):
        assert words in printed
