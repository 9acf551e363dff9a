"""The public strategies generate valid objects by construction, in the regimes they target."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theorybench import strategies
from theorybench.config import config_from_toml, config_to_toml
from theorybench.covariance import covariance_summary

FEW = settings(max_examples=15, deadline=None, database=None)


@FEW
@given(strategies.configs())
def test_configs_are_valid_and_round_trip_through_toml(config):
    # Construction validated them; the TOML written for counterexamples reads back identically.
    assert config_from_toml(config_to_toml(config)) == config
    assert config.data.label_flip == 0.0


@FEW
@given(st.integers(1, 6).flatmap(lambda d: strategies.covariance_matrices(d)))
def test_covariance_matrices_are_symmetric_positive_definite(sigma):
    assert np.array_equal(sigma, sigma.T)
    # Sigma = S^2 with S >= 0.1 I (S = C C^T + diag(delta), delta >= 0.1), so its eigenvalues are
    # >= 0.01; eigvalsh errs by at most ~d eps ||Sigma|| <= 1e-12 here (||Sigma|| < 1e3).
    assert np.linalg.eigvalsh(sigma).min() >= 0.01 - 1e-12


@FEW
@given(strategies.direction_instances(max_d=5))
def test_direction_instances_are_finite_and_square_roots_symmetric(instance):
    assert 1 <= instance.d <= 5
    assert np.all(np.isfinite(instance.w)) and np.any(instance.w != 0)
    assert np.all(np.isfinite(instance.mu)) and np.any(instance.mu != 0)
    assert np.array_equal(instance.sqrt_sigma, instance.sqrt_sigma.T)
    assert np.linalg.eigvalsh(instance.sqrt_sigma).min() > 0.0  # S >= 0.1 I by construction
    assert instance.noise in ("gaussian", "rademacher")


@FEW
@given(strategies.data_configs("weak"))
def test_weak_regime_has_small_regime_indicator(data):
    s = covariance_summary(data)
    r = data.n * s.mean_sigma_mean / s.trace_of_square
    # Targeted r <= 1/4; the square root and rescaling in the solve add a few ulps.
    assert r <= 0.25 * (1 + 1e-12)


@FEW
@given(strategies.data_configs("strong"))
def test_strong_regime_has_large_regime_indicator(data):
    s = covariance_summary(data)
    assert data.n * s.mean_sigma_mean / s.trace_of_square >= 4.0 * (1 - 1e-12)  # ulps, as above


@FEW
@given(strategies.data_configs("case2"))
def test_case2_targets_near_orthogonality(data):
    n, signal = data.n, data.signal
    assert data.covariance.family == "isotropic"
    # d = ceil(c max(n ||mu||^2, n^2 log n, 1)) with c >= 4.
    assert data.d >= 4.0 * max(n * signal**2, n * n * math.log(n)) * (1 - 1e-12)


@FEW
@given(strategies.data_configs("case1"))
def test_case1_targets_dominant_signal(data):
    s = covariance_summary(data)
    assert s.mean_norm_sq >= 3.0 * math.sqrt(2.0 * s.trace_of_square * math.log(data.n**2)) * (1 - 1e-12)


@FEW
@given(strategies.data_configs("heavy_tails"))
def test_heavy_tails_are_student_t_with_finite_variance(data):
    assert data.noise.family == "student_t" and data.noise.nu > 2


def test_case1_variant_usually_gives_positive_correlation_on_the_sample():
    # Case 1 is targeted through the population; on the sample it should hold for most draws.
    # 20 fixed draws (seeded search) and at least 15 successes; the target has margin c >= 3.
    seen = []

    @settings(max_examples=20, deadline=None, database=None, derandomize=True)
    @given(strategies.training_problems("case1"))
    def collect(instance):
        seen.append(instance.case_one())

    collect()
    assert len(seen) >= 20 and sum(seen) >= 15


@FEW
@given(strategies.configs())
def test_sampled_problems_are_reproducible_from_their_configuration(config):
    first = strategies.sample_step_instance(config)
    second = strategies.sample_step_instance(config_from_toml(config_to_toml(config)))
    for name in ("X", "y", "a", "W0"):
        assert np.array_equal(getattr(first, name), getattr(second, name))
    assert first.X.shape == (config.data.n, config.data.d)
    assert first.W0.shape == (config.network.m, config.data.d)


@FEW
@given(strategies.raw_training_problems())
def test_raw_problems_have_the_papers_second_layer(instance):
    assert np.allclose(np.abs(instance.a) * math.sqrt(instance.m), 1.0, rtol=0, atol=4e-16)  # 2 ulps
    assert set(np.unique(instance.y)) <= {-1.0, 1.0}
    assert 0.05 <= instance.gamma <= 0.95 and instance.eta > 0
    # |f(x; W0)| stays far below the exp overflow at 709 (docs/theory.md §2.6).
    assert np.all(np.abs(instance.initial_log_losses()) < 100)


def test_unknown_regime_is_refused():
    @settings(max_examples=1, deadline=None, database=None)
    @given(strategies.data_configs("medium"))
    def draw(data):
        pass

    with pytest.raises(ValueError, match="medium"):
        draw()
