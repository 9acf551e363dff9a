"""The review's counterexamples to theorybench's verdicts (issue 9), each a regression test.

Every instance is drawn by an independent sampler (numpy directly, not `theorybench.sampling`) and
passed in through `bounds.contract.Sample`, as the review did; gradient descent is
`theorybench.training.train`, whose trajectory is tested against weight-space GD elsewhere.
"""

import math

import numpy as np
import pytest

from bounds import Sample, Theorem48, Theorem51
from bounds.theorem_4_8 import sample_statistics
from theorybench.config import Config, DataConfig, NetworkConfig, TrainingConfig
from theorybench.draws import draw_verdict, tally_draws
from theorybench.training import train


def mixture(n, d, signal, m, gamma, omega, seed):
    """Gaussian mixture x = y mu + z, mu = signal e_1, balanced labels, W(0) ~ N(0, omega^2 I)."""
    rng = np.random.default_rng(seed)
    y = np.where(rng.random(n) < 0.5, 1.0, -1.0)
    X = np.outer(y, np.eye(d)[0] * signal) + rng.standard_normal((n, d))
    W0 = omega * rng.standard_normal((m, d))
    a = np.where(np.arange(m) < m // 2, 1.0, -1.0) / math.sqrt(m)
    return X, y, W0, a


def case2_instance(gamma, seed):
    """The review's setting: n = 20, d = 6000, ||mu|| = 2, m = 20, omega = 1e-10,
    eta = 0.5 / max_i Q_ii (Q the lifted Gram matrix, Q_ii = (1 + gamma^2)/2 ||x_i||^2)."""
    n, d, m = 20, 6000, 20
    X, y, W0, a = mixture(n, d, 2.0, m, gamma, 1e-10, seed)
    eta = 0.5 / ((1 + gamma**2) / 2 * float(np.max(np.sum(X * X, axis=1))))
    config = Config(data=DataConfig(n=n, d=d, signal=2.0),
                    network=NetworkConfig(m=m, gamma=gamma, init_scale=1e-10),
                    training=TrainingConfig(step_size=eta, max_steps=400, checkpoints=5))
    return config, Sample(X=X, y=y, W0=W0, a=a, gamma=gamma, eta=eta)


@pytest.mark.parametrize("gamma", [0.1, 0.02])
def test_case2_without_gamma_no_longer_makes_theorem_4_8_apply(gamma):
    # The old Case 2 row, ||x_i||^2 >= n max_k |<x_i, x_k>| (no gamma), held on these draws; with
    # gamma it must not, and whenever Theorem 4.8 applies its conclusions must hold on the run:
    # the certificate (a hypothesis now) and the pattern after step 1 and at every later step.
    old_form_held = 0
    for seed in range(12):
        config, sample = case2_instance(gamma, seed)
        stats = sample_statistics(sample)
        old_form_held += stats["orth_ratio"] >= 20
        rows = {r.key: r for r in Theorem48().hypotheses(config, sample)}
        assert not rows["case2"].holds
        ok, _ = Theorem48().applies(config, sample)
        ok_51, _ = Theorem51().applies(config, sample)
        if ok or ok_51:
            assert rows["certificate"].holds
            run = train(sample.X, sample.y, sample.a, sample.W0, gamma, config.training)
            assert run.first_pattern_break is None
    assert old_form_held > 0, "the counterexample's premise (old Case 2 holds) was not reproduced"


def test_gamma_0_02_breaks_the_pattern_at_step_one_and_nothing_applies():
    # At gamma = 0.02 the review saw 8 of 8 draws break at step one while Theorem 5.1 "applied".
    broke = 0
    for seed in range(8):
        config, sample = case2_instance(0.02, seed)
        if sample_statistics(sample)["step_one_failures"] > 0:
            broke += 1
            assert not Theorem48().applies(config, sample)[0]
            assert not Theorem51().applies(config, sample)[0]
    assert broke >= 6


def test_certificate_failure_alone_refuses_the_theorems():
    # A draw whose lifted SVM is not self-consistent (weak signal, small d) must be refused by every
    # theorem that evaluates on it, with the certificate's reason, even if Case 2 is forced to hold
    # by a tiny constant.
    n, d, m, gamma = 40, 100, 20, 0.5
    for seed in range(10):
        X, y, W0, a = mixture(n, d, 1.0, m, gamma, 1e-6, seed)
        sample = Sample(X=X, y=y, W0=W0, a=a, gamma=gamma, eta=1e-4)
        config = Config(data=DataConfig(n=n, d=d, signal=1.0), network=NetworkConfig(m=m))
        rows = {r.key: r for r in Theorem48(C_2=1e-9).hypotheses(config, sample)}
        if rows["certificate"].holds:
            continue
        ok, reason = Theorem48(C_2=1e-9).applies(config, sample)
        assert not ok and "limit direction certified" in reason
        assert not Theorem51(C_2=1e-9).applies(config, sample)[0]
        return
    pytest.fail("no draw with a failed certificate in 10 seeds at ||mu|| = 1, d = 100")


def test_step_size_requirement_holds_on_almost_every_draw_of_the_review_configuration():
    # n = 16, d = 4000, ||mu|| = 5, m = 10, omega = 1e-6, eta = 0.03: the old typical row read
    # 75.5 < 1 (fails) while every draw gives about 0.83 < 1. Over 200 draws the step requirement
    # (either proved condition) must hold on >= 95 % of draws, with the exact interval to show it.
    config = Config(data=DataConfig(n=16, d=4000, signal=5.0),
                    network=NetworkConfig(m=10, init_scale=1e-6),
                    training=TrainingConfig(step_size=0.03))
    summary = tally_draws(config, [Theorem48()], 200)
    tallies = {key: tally for (_, key, _), tally in summary.rows.items()}
    either = max(tallies["step_lambda"].holds, tallies["step_radius"].holds)
    assert either >= 190
    assert draw_verdict(tallies["step_lambda"].holds, 200) == "almost every draw"
    typical = {r.key: r for r in Theorem48().hypotheses(config)}
    assert typical["step_radius"].holds and typical["step_lambda"].holds


def test_bayes_error_undercut_is_flagged():
    # n = 40, d = 100, ||mu|| = 15 with the old constants c_u = 1: the upper bound e^{-222.5} lies
    # below the exact Bayes error e^{-116.1}. It must be flagged; the corrected default c_u = 1/2
    # must not be.
    config = Config(data=DataConfig(n=40, d=100, signal=15.0))
    old = {c.name: c for c in Theorem51(c_u=1.0).conclusions(config)}
    assert "inconsistency" in old and "below the exact Bayes error" in old["inconsistency"].statement
    assert old["upper bound"].log_value == pytest.approx(-222.5, abs=0.05)
    assert old["Bayes error"].log_value == pytest.approx(-116.1, abs=0.05)
    assert "inconsistency" not in {c.name for c in Theorem51().conclusions(config)}


@pytest.mark.parametrize("holds,draws,words", [
    (200, 200, "almost every draw"), (197, 200, "almost every draw"), (0, 200, "essentially never"),
    (100, 200, "some draws"), (20, 20, "most draws (more draws would decide whether almost every)"),
    (0, 20, "few draws (more draws would decide whether essentially never)"),
])
def test_draw_verdict_words_follow_the_exact_interval(holds, draws, words):
    # 197/200: Clopper-Pearson 95 % lower end 0.957 >= 0.9; 20/20: lower end 0.832 < 0.9.
    assert draw_verdict(holds, draws) == words
