"""Test error (theorybench.evaluation): Monte Carlo with exact intervals against closed forms.

A network with two neurons w and -w and a = (1, -1)/sqrt(2) has output
(phi(t) - phi(-t))/sqrt(2) = (1 + gamma) t / sqrt(2) with t = <w, x>, so it classifies like the
linear direction w, whose Gaussian error is Phi(-<w, mu>/||Sigma^{1/2} w||) exactly (docs/theory.md
§2.4, for any class balance since y z has the law of z). These closed forms are computed here
with scipy, independently of the module.
"""

import math

import mpmath
import numpy as np
import pytest
from scipy.special import log_ndtr
from scipy.stats import norm

import theorybench.evaluation as evaluation
from theorybench.config import CovarianceConfig, DataConfig, NoiseConfig
from theorybench.evaluation import (
    log_exact_gaussian_error,
    monte_carlo_error,
    monte_carlo_test_error,
    resolve_network,
)
from theorybench.network import network_output

GAMMA = 0.5
A_PAIR = np.array([1.0, -1.0]) / math.sqrt(2)


def _rng(*key):
    return np.random.default_rng(np.random.SeedSequence(list(key)))


def _exact_linear_error(w, mu, sigma):
    return float(np.exp(log_ndtr(-(w @ mu) / math.sqrt(w @ sigma @ w))))


SPIKED = DataConfig(n=2, d=30, signal=1.0, mean_direction="ones", class_balance=0.3,
                    covariance=CovarianceConfig(family="spiked", spike_strength=3.0))


def _spiked_sigma():
    u = np.ones(30) / math.sqrt(30)
    return np.eye(30) + 3.0 * np.outer(u, u)


def test_gaussian_preactivation_path_matches_the_exact_error():
    w = _rng(1).standard_normal(30) * 0.3 + SPIKED.mean_vector()
    exact = _exact_linear_error(w, SPIKED.mean_vector(), _spiked_sigma())
    assert 0.01 < exact < 0.5  # a rate that 10^6 points resolve well
    estimate = monte_carlo_test_error((np.stack([w, -w]), A_PAIR, GAMMA), SPIKED, _rng(2),
                                      10**6, 0.999)
    # The 99.9% Clopper-Pearson interval covers the true rate with probability >= 0.999.
    assert estimate.lower <= exact <= estimate.upper, (estimate, exact)
    assert estimate.trials == 10**6 and estimate.confidence == 0.999


def test_exact_gaussian_error_of_a_direction_agrees_with_monte_carlo_on_1e6_points():
    data = DataConfig(n=2, d=10, signal=0.8, covariance=CovarianceConfig(family="power_law", alpha=1.0))
    w = np.linspace(1.0, -0.5, 10)
    exact = math.exp(log_exact_gaussian_error(w, data))
    lam = np.array([1 / k for k in range(1, 11)])
    sigma = np.diag(10 * lam / lam.sum())
    # The module's value against the closed form with Sigma written out here: one log_ndtr of a
    # 10-term ratio, ~1e-15 relative.
    assert exact == pytest.approx(_exact_linear_error(w, data.mean_vector(), sigma), rel=1e-12)
    estimate = monte_carlo_error(lambda X: X @ w, data, _rng(3), 10**6, 0.999)
    # 99.9% Clopper-Pearson interval: fails by chance with probability <= 1e-3.
    assert estimate.lower <= exact <= estimate.upper, (estimate, exact)


USER = ((2.0, 0.5, 0.0), (0.5, 1.0, 0.2), (0.0, 0.2, 0.3))


@pytest.mark.parametrize("covariance,sigma", [
    (CovarianceConfig(), np.eye(3)),
    (CovarianceConfig(family="power_law", alpha=2.0),
     np.diag(3 * np.array([1, 1 / 4, 1 / 9]) / (49 / 36))),
    (CovarianceConfig(family="spiked", spike_strength=3.0, spike_direction="e1"), np.diag([4.0, 1.0, 1.0])),
    (CovarianceConfig(family="user", matrix=USER), np.array(USER)),
], ids=["isotropic", "power_law", "spiked", "user"])
@pytest.mark.parametrize("signal", [0.5, 200.0])
def test_log_exact_error_matches_an_mpmath_reference(covariance, sigma, signal):
    data = DataConfig(n=2, d=3, signal=signal, covariance=covariance)
    w = np.array([1.0, -0.3, 0.2])
    with mpmath.workdps(50):
        ratio = mpmath.mpf(float(w @ data.mean_vector())) / mpmath.sqrt(mpmath.mpf(float(w @ sigma @ w)))
        expected = float(mpmath.log(mpmath.ncdf(-ratio)))
    got = log_exact_gaussian_error(w, data)
    assert math.isfinite(got)
    if signal == 200.0:
        assert got < math.log(1e-300)  # the error itself underflows; its log does not
    # w Sigma w is formed densely here and through the structured square root in the module:
    # ~1e-15 relative in the ratio r, amplified by at most ~2 in log Phi(-r) ~ -r^2/2.
    assert got == pytest.approx(expected, rel=1e-12)


def test_exact_error_refuses_non_gaussian_noise():
    data = DataConfig(n=2, d=3, noise=NoiseConfig(family="uniform"))
    with pytest.raises(ValueError, match="Gaussian"):
        log_exact_gaussian_error(np.ones(3), data)


def test_rademacher_network_error_is_one_quarter_exactly():
    # x = y (0.5, 0) + xi with Rademacher xi; y <w, x> = 0.5 + y (xi_1 + xi_2) with w = (1, 1) is
    # <= 0 iff y(xi_1 + xi_2) = -2, probability 1/4; the network follows sign <w, x>.
    data = DataConfig(n=2, d=2, mean=(0.5, 0.0), noise=NoiseConfig(family="rademacher"))
    w = np.ones(2)
    estimate = monte_carlo_test_error((np.stack([w, -w]), A_PAIR, GAMMA), data, _rng(4), 10**5, 0.999)
    assert estimate.lower <= 0.25 <= estimate.upper, estimate  # 99.9% exact interval


def test_ties_count_as_errors():
    # d = 1, mu = 1, Rademacher: y x = 1 + y xi is 0 or 2 with probability 1/2 each, so the error
    # P(y f(x) <= 0) is 1/2 exactly, and would be 0 if ties counted as correct.
    data = DataConfig(n=2, d=1, mean=(1.0,), noise=NoiseConfig(family="rademacher"))
    estimate = monte_carlo_test_error((np.array([[1.0], [-1.0]]), A_PAIR, GAMMA), data, _rng(5),
                                      10**4, 0.999)
    assert estimate.lower <= 0.5 <= estimate.upper, estimate  # 99.9% exact interval


def test_gaussian_shortcut_and_full_points_estimate_the_same_error_for_a_general_network():
    # Singular user covariance (rank 3 in d = 5) and m = 8 > d: the QR factor is 5 x 8.
    rng = _rng(6)
    B = rng.standard_normal((5, 3))
    matrix = tuple(tuple(row) for row in B @ B.T / 3)
    data = DataConfig(n=2, d=5, signal=0.7, mean_direction="ones",
                      covariance=CovarianceConfig(family="user", matrix=matrix))
    W = rng.standard_normal((8, 5))
    a = np.array([1, 1, 1, 1, -1, -1, -1, -1]) / math.sqrt(8)
    points = 2 * 10**5
    fast = monte_carlo_test_error((W, a, GAMMA), data, _rng(7), points, 0.95)
    full = monte_carlo_error(lambda X: network_output(X, W, a, GAMMA), data, _rng(8), points, 0.95)
    assert 0.05 < fast.rate < 0.95
    # Two independent binomial proportions of the same rate: their difference over its standard
    # error is asymptotically N(0, 1); the two-sided interval has level 1 - 1e-6.
    pooled = (fast.errors + full.errors) / (2 * points)
    z = (fast.rate - full.rate) / math.sqrt(2 * pooled * (1 - pooled) / points)
    assert abs(z) <= norm.ppf(1 - 0.5e-6), (fast, full)


def test_d_dimensional_points_come_in_bounded_chunks(monkeypatch):
    sizes = []
    original = evaluation.sample_test_set

    def recording(data, rng, count):
        sizes.append(count)
        return original(data, rng, count)

    monkeypatch.setattr(evaluation, "CHUNK_ENTRIES", 1000)
    monkeypatch.setattr(evaluation, "sample_test_set", recording)
    data = DataConfig(n=2, d=7, noise=NoiseConfig(family="uniform"))
    W = np.ones((2, 7))
    estimate = monte_carlo_test_error((W, A_PAIR, GAMMA), data, _rng(9), 5000, 0.95)
    assert sum(sizes) == 5000 == estimate.trials
    assert max(sizes) * data.d <= 1000


class _RunStandIn:
    """The part of theorybench.training.TrainingRun that evaluation uses."""

    def __init__(self, W, a=None, gamma=None):
        self._W = W
        if a is not None:
            self.a, self.gamma = a, gamma

    def final_weights(self):
        return self._W


def test_a_training_run_is_accepted_like_a_tuple_and_results_are_deterministic():
    W = _rng(10).standard_normal((2, 30))
    data = SPIKED
    as_tuple = monte_carlo_test_error((W, A_PAIR, GAMMA), data, _rng(11), 5000, 0.95)
    as_run = monte_carlo_test_error(_RunStandIn(W, A_PAIR, GAMMA), data, _rng(11), 5000, 0.95)
    keywords = monte_carlo_test_error(_RunStandIn(W), data, _rng(11), 5000, 0.95, a=A_PAIR, gamma=GAMMA)
    assert as_tuple == as_run == keywords
    with pytest.raises(TypeError, match="gamma"):
        resolve_network(_RunStandIn(W))


def test_a_perfect_classifier_gets_zero_errors_and_a_positive_upper_bound():
    data = DataConfig(n=2, d=4, signal=60.0)  # error Phi(-60) ~ 1e-784: no error in 10^4 points
    W = np.stack([np.eye(4)[0], -np.eye(4)[0]])
    estimate = monte_carlo_test_error((W, A_PAIR, GAMMA), data, _rng(12), 10**4, 0.95)
    assert estimate.errors == 0 and estimate.lower == 0.0
    # k = 0: upper = 1 - (alpha/2)^(1/n), the resolution of 10^4 points at 95%.
    assert estimate.upper == pytest.approx(1 - 0.025 ** 1e-4, rel=1e-10)


def test_chunk_schedule_is_lazy_and_bounded():
    # 10^30 test points: the chunk sizes are generated one at a time (a list of them would not
    # fit in memory), each holding at most CHUNK_ENTRIES floats.
    assert not isinstance(evaluation.chunk_sizes(10, 4), list)  # checked first: a list would hang below
    chunks = evaluation.chunk_sizes(10**30, 20000)
    first = next(chunks)
    assert first * 20000 <= evaluation.CHUNK_ENTRIES and first == evaluation.CHUNK_ENTRIES // 20000
    assert list(evaluation.chunk_sizes(10, 4)) == [10]
    assert sum(evaluation.chunk_sizes(10**6 + 7, 20000)) == 10**6 + 7


def test_a_nan_output_counts_as_an_error():
    # A score function whose output overflowed to inf - inf = NaN classifies nothing: NaN <= 0 is
    # False, so counting "margin <= 0" would have reported these points as correct.
    data = DataConfig(n=2, d=3, noise=NoiseConfig(family="rademacher"))
    estimate = monte_carlo_error(lambda X: np.full(len(X), np.nan), data, _rng(13), 100, 0.95)
    assert estimate.errors == 100
