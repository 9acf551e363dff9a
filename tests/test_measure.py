"""The verifier's work unit on tiny configurations (verify/measure.py)."""

import dataclasses
import json
import math

import numpy as np
import pytest

from bounds.contract import Sample
from bounds.theorem_4_8 import correct_activation_after_one_step
from theorybench.config import config_from_dict
from theorybench.sampling import sample_initialisation, sample_training_set, streams
from theorybench.stats import clopper_pearson
from verify.measure import measure
from verify.storage import decode_row, encode_row

TINY = {
    "seed": 12345,
    "data": {"n": 8, "d": 400, "signal": 3.0},
    "network": {"m": 4, "init_scale": 1e-6},
    "training": {"step_size": 0.05, "max_steps": 300, "checkpoints": 8},
    "evaluation": {"test_points": 4000},
}


def tiny(**sections):
    values = json.loads(json.dumps(TINY))
    for section, overrides in sections.items():
        values[section].update(overrides)
    return config_from_dict(values)


@pytest.fixture(scope="module")
def rows():
    return measure(tiny(), "tiny", 3)


def test_rows_have_the_contracted_shape(rows):
    *checkpoints, final = rows
    assert all(row["setting"] == "tiny" and row["replicate"] == 3 for row in rows)
    assert [row["kind"] for row in checkpoints] == ["checkpoint"] * len(checkpoints)
    steps = [row["step"] for row in checkpoints]
    assert steps[0] == 0 and steps[1] == 1 and steps == sorted(set(steps)) and steps[-1] == final["steps_taken"]
    assert final["kind"] == "final" and final["step"] is None
    for key in ("log_loss", "weight_norm", "pattern_fraction", "pattern_intact", "train_error", "one_minus_cos"):
        assert all(key in row for row in checkpoints)
    for key in ("stop_reason", "first_pattern_break", "network_errors", "linear_errors", "disagreements",
                "limit_disagreements", "test_points", "log_limit_error", "log_bayes_error", "log_bound_best",
                "psi", "r", "psi/psi_alt", "psi/cao_gu_belkin", "moment_order", "ld_ok", "ld_min_margin",
                "step1_pairs", "step1_disagreements", "applies/4.8", "applies/5.1", "hyp/4.8/case1/holds",
                "hyp/4.8/case1/margin"):
        assert key in final, key
    # rows survive storage: what the runner stores (strict JSON) is what the checks read
    assert [decode_row(encode_row(row)) for row in rows] == rows


def test_final_row_carries_the_resolved_parameters_as_flat_columns(rows):
    final = rows[-1]
    config = tiny()
    expected = {"data.n": 8, "data.d": 400, "data.signal": 3.0, "network.m": 4, "network.init_scale": 1e-6,
                "training.step_size": 0.05, "training.max_steps": 300, "evaluation.test_points": 4000,
                # defaults resolved, not left to the suite file
                "network.gamma": config.network.gamma, "data.covariance.family": "isotropic",
                "data.covariance.alpha": None, "data.noise.family": "gaussian", "data.label_flip": 0.0}
    assert {key: final[key] for key in expected} == expected
    assert "data.covariance.matrix" not in final and "data.mean" not in final  # array-valued: by config_hash
    # a JSON-lines reader (pandas.read_json(lines=True)) makes one column per key: every value is a scalar
    stored = json.loads(encode_row(final))
    assert all(not isinstance(value, (dict, list)) for key, value in stored.items() if "." in key)
    anisotropic = measure(tiny(data={"covariance": {"family": "spiked", "spike_strength": 2.0}}), "spiked", 0)[-1]
    assert anisotropic["data.covariance.family"] == "spiked" and anisotropic["data.covariance.spike_strength"] == 2.0


def test_logs_are_finite_and_probabilities(rows):
    final = rows[-1]
    assert final["ld_ok"]
    for key in ("log_limit_error", "log_bayes_error", "log_bound_best"):
        assert math.isfinite(final[key]) and final[key] <= 0.0
    assert all(math.isfinite(row["log_loss"]) for row in rows[:-1])
    assert 0 <= final["network_errors"] <= final["test_points"]


def test_exact_relations_hold(rows):
    final = rows[-1]
    # Bayes optimality (EXACT): no classifier beats the Bayes error; 1e-12 absorbs log_ndtr rounding
    assert final["log_limit_error"] >= final["log_bayes_error"] - 1e-12
    # an upper bound (EXACT, §2.4) is not below the exact error; same rounding allowance
    assert final["log_bound_best"] >= final["log_limit_error"] - 1e-12
    # §2.3 (EXACT): the limit network's signs are those of <w_bar, x> on every test point
    assert final["limit_disagreements"] == 0
    # §3 (EXACT): the step-one criterion agrees with GD's first step on every decidable pair
    assert final["step1_disagreements"] == 0 and final["step1_pairs"] == 8 * 4


def test_monte_carlo_error_of_w_bar_matches_the_exact_error(rows):
    final = rows[-1]
    # a 99.9% Clopper-Pearson interval: this test fails by chance with probability <= 1e-3
    lower, upper = clopper_pearson(final["linear_errors"], final["test_points"], 0.999)
    assert lower <= math.exp(final["log_limit_error"]) <= upper


def test_criterion_agrees_with_the_bounds_implementation(rows):
    # an independent implementation (bounds.theorem_4_8) of the same EXACT criterion
    config = tiny()
    data_rng, init_rng, _ = streams(config.seed)
    training_set = sample_training_set(config.data, data_rng)
    W0 = sample_initialisation(config.network, config.data.d, init_rng)
    sample = Sample(X=training_set.X, y=training_set.y, W0=W0, a=config.network.second_layer(),
                    gamma=config.network.gamma, eta=config.training.step_size)
    assert int(np.count_nonzero(correct_activation_after_one_step(sample))) == rows[-1]["step1_criterion_correct"]


def test_measure_is_deterministic(rows):
    again = measure(tiny(), "tiny", 3)
    assert json.dumps(again, sort_keys=True) == json.dumps(rows, sort_keys=True)
    other = measure(tiny().replace(seed=54321), "tiny", 3)
    assert other[-1]["network_errors"] != rows[-1]["network_errors"] or \
        other[-1]["log_limit_error"] != rows[-1]["log_limit_error"]


@pytest.mark.parametrize("training", [{"loss": "logistic"}, {"normalized": True, "step_size": 0.01},
                                      {"implementation": "weight"}])
def test_step_one_criterion_for_every_training_mode(training):
    # large initialisation so that some pairs are incorrectly activated and the criterion is tested
    # on both signs
    final = measure(tiny(training=training, network={"init_scale": 0.05}), "mode", 0)[-1]
    assert final["step1_disagreements"] == 0
    assert 0 < final["step1_criterion_correct"] < final["step1_pairs"]


def test_non_gaussian_noise_has_bounds_but_no_exact_error():
    final = measure(tiny(data={"noise": {"family": "rademacher"}}), "rademacher", 0)[-1]
    assert final["log_limit_error"] is None and final["log_bayes_error"] is None
    assert final["log_bound_best"] < 0 and final["bound_best"] in ("sub_gaussian", "cantelli", "fourth_moment")
    # the conditional bound (EXACT) is not below the Monte Carlo interval (99.9%, chance <= 1e-3)
    lower, _ = clopper_pearson(final["linear_errors"], final["test_points"], 0.999)
    assert lower <= math.exp(final["log_bound_best"])


def test_checkpoint_rows_carry_the_test_error_along_training_and_the_stop_reason():
    from theorybench.evaluation import checkpoint_test_errors
    from theorybench.simulate import simulate

    config = tiny(evaluation={"test_points_at_checkpoints": 400},
                  training={"loss": "logistic", "stop_on_zero_train_error": True})
    rows = measure(config, "peer", 0)
    *checkpoints, final = rows
    assert final["stop_reason"] == "zero_train_error" and final["final_train_error"] == 0.0
    assert all(row["checkpoint_test_points"] == 400 for row in checkpoints)
    # The same counts as simulate's, which draws the same run from the same seed.
    expected = [e.errors for e in simulate(config).checkpoint_test_errors]
    assert [row["test_errors"] for row in checkpoints] == expected
    # Off by default: the rows keep their shape.
    assert "test_errors" not in measure(tiny(training={"max_steps": 5}), "plain", 0)[0]
    assert checkpoint_test_errors  # the one implementation both use


def test_step_one_criterion_covers_the_hinge_loss():
    # The criterion's hinge weights 1[u < 1] (written out in verify.measure) must predict the
    # trainer's first step pair by pair, as for the other losses.
    final = measure(tiny(training={"loss": "hinge", "max_steps": 5}), "hinge", 0)[-1]
    assert final["step1_pairs"] == 32 and final["step1_disagreements"] == 0
def test_batch_capacity_keeps_stacked_arrays_near_the_cache_size():
    from verify.measure import BATCH_ENTRIES, batch_capacity

    assert batch_capacity((16, 10, 400)) == 64                 # capped: 2^15 / 160 = 204
    assert batch_capacity((100, 64, 400)) == BATCH_ENTRIES // 6400 == 5
    assert batch_capacity((1000, 100, 400)) == 1               # never below one unit


def test_batch_capacity_bounds_the_memory_a_batch_holds():
    from verify.measure import BATCH_MEMORY_ENTRIES, batch_capacity

    # n = 24, m = 20: (24 + 20 + 2 * 41) = 126 floats per dimension and unit.
    assert batch_capacity((24, 20, 20_000)) == BATCH_MEMORY_ENTRIES // (126 * 20_000) == 13
    assert batch_capacity((24, 20, 10**6)) == 1                # 126 MB per unit: alone
    for d in (100, 2000, 20_000, 10**5):
        assert batch_capacity((24, 20, d)) * 126 * d <= max(BATCH_MEMORY_ENTRIES, 126 * d)


def test_units_the_batched_engine_cannot_run_are_not_batched():
    # Issue 14's features are implemented by train() only: such units run alone (batch_key None).
    from verify.measure import batch_key

    assert batch_key(tiny()) is not None
    for changes in ({"training": {"loss": "hinge"}}, {"training": {"stop_on_zero_train_error": True}},
                    {"training": {"stop_on_pattern_reached": True}},
                    {"evaluation": {"test_points_at_checkpoints": 10}}):
        assert batch_key(tiny(**changes)) is None, changes


def test_units_sharing_a_test_seed_are_tested_on_the_points_each_would_draw_alone():
    # evaluation.test_seed (docs/configuration.md): the batch draws the non-Gaussian noise once for
    # every unit that shares it; each unit's counts must be those it gets alone and those simulate
    # reports for its configuration (the same stream, the same draws in the same order).
    from theorybench.simulate import simulate
    from verify.measure import measure_batch, shared_test_key

    shared = {"test_seed": 77, "test_points": 3000}
    units = [(tiny(data={"noise": {"family": "rademacher"}, "signal": signal}, evaluation=shared)
              .replace(seed=seed), f"s{signal}", 0) for signal, seed in ((2.0, 5), (3.0, 6), (2.5, 7))]
    assert len({shared_test_key(config) for config, _, _ in units}) == 1
    together = measure_batch(units)
    for (config, setting, replicate), rows in zip(units, together):
        alone = measure(config, setting, replicate)
        assert rows == alone
        assert rows[-1]["network_errors"] == simulate(config).test_error.errors
    # The seed is not ignored: another test seed draws other points (three counts of hundreds of
    # errors out of 3000, with standard deviations of 9 to 25, all coinciding by chance is far
    # below 1e-3).
    other = [(config.replace(evaluation=dataclasses.replace(config.evaluation, test_seed=78)), s, r)
             for config, s, r in units]
    assert [rows[-1]["network_errors"] for rows in measure_batch(other)] != \
        [rows[-1]["network_errors"] for rows in together]


def test_gaussian_units_and_units_without_a_test_seed_are_tested_alone():
    from verify.measure import shared_test_key

    assert shared_test_key(tiny(evaluation={"test_seed": 77})) is None  # Gaussian: sampled in projection
    assert shared_test_key(tiny(data={"noise": {"family": "rademacher"}})) is None
