"""One complete run (theorybench.simulate): determinism, content of the JSON result, labels."""

import json
import math
from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("theorybench.training")

from theorybench.config import (  # noqa: E402
    Config,
    DataConfig,
    EvaluationConfig,
    NetworkConfig,
    NoiseConfig,
    TrainingConfig,
    config_hash,
    config_to_dict,
)
from theorybench.simulate import beyond_reasons, simulate, summary  # noqa: E402


def _small(**data):
    return Config(
        data=DataConfig(n=12, d=300, signal=2.0, **data),
        network=NetworkConfig(m=6),
        training=TrainingConfig(max_steps=150, checkpoints=8),
        evaluation=EvaluationConfig(test_points=4000),
        seed=7,
    )


def test_same_config_and_seed_give_bit_identical_json():
    config = _small(noise=NoiseConfig(family="uniform"))
    first = simulate(config).to_json()
    second = simulate(config).to_json()
    assert first.encode() == second.encode()
    other = simulate(config.replace(seed=8)).to_json()
    assert other != first


def test_json_holds_the_documented_content():
    config = _small(label_flip=0.2)
    result = simulate(config)
    content = json.loads(result.to_json())
    assert content["config"] == config_to_dict(config)
    assert content["config_hash"] == config_hash(config)
    assert content["seed"] == 7
    assert set(content["versions"]) == {"theorybench", "numpy", "scipy", "python"}
    assert content["versions"]["numpy"] == np.__version__
    training = content["training"]
    assert training["stop_reason"] in {"budget", "loss_floor", "divergence", "non_finite"}
    steps = [c["step"] for c in training["checkpoints"]]
    assert steps[0] == 0 and steps[-1] == training["steps_taken"] and steps == sorted(steps)
    assert set(training["checkpoints"][0]) == {"step", "log_loss", "weight_norm", "pattern_fraction",
                                               "pattern_intact", "train_error"}
    assert training["final_log_loss"] == training["checkpoints"][-1]["log_loss"]
    test = content["test_error"]
    assert test["trials"] == 4000 and test["confidence"] == 0.95
    assert test["lower"] <= test["rate"] <= test["upper"]
    assert test["rate"] == test["errors"] / test["trials"]
    assert test["method"] == "gaussian_preactivations"
    assert content["label_flips"] == int(result.training_set.flipped.sum())
    # Label noise is outside every encoded theorem (docs/theory.md §8), and the result says so.
    assert content["setting"]["provenance"] == "BEYOND"
    assert any("label noise" in r for r in content["setting"]["beyond_reasons"])
    assert "wall" not in result.to_json()


def test_the_paper_setting_is_labelled_paper():
    content = simulate(_small()).to_dict()
    assert content["setting"] == {"provenance": "PAPER", "theory_section": "docs/theory.md §1",
                                  "beyond_reasons": []}


def test_unbalanced_classes_are_labelled_beyond():
    # docs/theory.md §1: the paper draws y = +1 with probability 1/2; the toolkit supports other
    # balances, but no encoded theorem speaks about them.
    setting = beyond_reasons(_small(class_balance=0.3))
    assert len(setting) == 1 and "class_balance = 0.3" in setting[0]


def test_training_error_counts_the_observed_labels():
    result = simulate(_small(label_flip=0.3))
    run = result.run
    # Recompute the final training error from the final weights, independently of the run record.
    W = run.final_weights()
    H = result.training_set.X @ W.T
    f = np.where(H > 0, H, 0.5 * H) @ result.config.network.second_layer()
    expected = float(np.mean(result.training_set.y * f <= 0))
    assert result.to_dict()["training"]["train_error"] == expected


def test_summary_names_the_outcome():
    text = summary(simulate(_small()))
    assert "stopped: " in text and "log-loss" in text and "Clopper-Pearson" in text


def test_a_run_with_non_finite_weights_has_no_test_error(monkeypatch):
    import theorybench.simulate as module

    real_train = module.train

    def train_with_non_finite_end(*args, **kwargs):
        run = real_train(*args, **kwargs)
        fields = {name: getattr(run, name) for name in ("checkpoints", "steps_taken", "first_pattern_break")}
        # A stand-in for a run whose last iterate overflowed (stop reason "non_finite").
        return SimpleNamespace(**fields, stop_reason="non_finite",
                               final_weights=lambda: np.full(run.W0.shape, np.nan))

    monkeypatch.setattr(module, "train", train_with_non_finite_end)
    result = simulate(_small())
    content = json.loads(result.to_json())
    assert content["test_error"] is None
    assert content["training"]["stop_reason"] == "non_finite"
    assert "not measured" in summary(result)


def test_no_observed_error_is_printed_as_a_resolution_not_as_zero():
    config = _small().replace(data=DataConfig(n=12, d=300, signal=60.0))  # error ~ Phi(-60)
    result = simulate(config)
    assert result.test_error.errors == 0
    line = summary(result).splitlines()[-1]
    assert "= 0" not in line and "below the resolution" in line
    assert f"{result.test_error.upper:.4g}" in line


def test_the_result_is_strict_json_even_with_non_finite_values(monkeypatch):
    # A run can hold non-finite numbers (a log loss of -inf, a NaN training error after an
    # overflow); strict JSON has no NaN / Infinity tokens, so they must be written as strings.
    result = simulate(_small())
    content = result.to_dict()
    content["training"]["final_log_loss"] = -math.inf
    content["training"]["train_error"] = math.nan
    monkeypatch.setattr(type(result), "to_dict", lambda self: content)

    def refuse(token):
        raise AssertionError(f"bare {token} token in the result JSON")

    parsed = json.loads(result.to_json(), parse_constant=refuse)
    assert parsed["training"]["final_log_loss"] == "-Infinity"
    assert parsed["training"]["train_error"] == "NaN"


def test_test_error_at_checkpoints_is_in_the_result_and_uses_the_same_points():
    from theorybench.evaluation import monte_carlo_test_error
    from theorybench.sampling import checkpoint_test_stream

    base = _small(noise=NoiseConfig(family="rademacher"))
    config = base.replace(evaluation=EvaluationConfig(test_points=4000, test_points_at_checkpoints=500))
    result = simulate(config)
    checkpoints = json.loads(result.to_json())["training"]["checkpoints"]
    assert all(c["test_error"]["trials"] == 500 for c in checkpoints)
    assert checkpoints[0]["test_error"]["method"] == "d_dimensional_points"
    assert "EXACT" in checkpoints[0]["test_error"]["provenance"]
    # Turning the checkpoint errors on changes no other draw: the run and the final test error are
    # those of the same configuration without them.
    plain = json.loads(simulate(base).to_json())
    assert plain["training"]["checkpoints"] == [{k: v for k, v in c.items() if k != "test_error"}
                                                for c in checkpoints]
    assert plain["test_error"] == json.loads(result.to_json())["test_error"]
    # Each checkpoint is tested on the points of a restarted checkpoint stream: recomputed here
    # from the recorded weights, independently of simulate.
    run = result.run
    for c, row in zip(run.checkpoints, checkpoints):
        again = monte_carlo_test_error((run.weights_at(c.step), run.a, run.gamma), config.data,
                                       checkpoint_test_stream(config.seed), 500, 0.95)
        assert row["test_error"]["errors"] == again.errors
    # W(0) ~ 1e-5 N(0, I) is a random guess; the trained network is not (n = 12, ||mu|| = 2,
    # d = 300: error ~0.2): the counts must fall, beyond the sampling noise of 500 points.
    assert checkpoints[-1]["test_error"]["upper"] < checkpoints[0]["test_error"]["lower"]
    assert "test errors along training" in summary(result)


def test_gaussian_checkpoint_errors_use_the_preactivation_law():
    config = _small().replace(evaluation=EvaluationConfig(test_points=1000, test_points_at_checkpoints=300))
    result = simulate(config)
    rows = json.loads(result.to_json())["training"]["checkpoints"]
    assert {r["test_error"]["method"] for r in rows} == {"gaussian_preactivations"}
    assert len(result.checkpoint_test_errors) == len(result.run.checkpoints)
