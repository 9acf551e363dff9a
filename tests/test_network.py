"""The leaky-ReLU network, its pattern and its GD increment (theorybench.network, docs/theory.md §1, §2.1, §2.5)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from theorybench.network import (
    correctly_activated,
    descent_state,
    leaky_relu,
    leaky_relu_derivative,
    network_output,
)

GAMMA = 0.3


def small_problem(seed: int, n: int = 6, d: int = 5, m: int = 4, m_positive: int = 3):
    data, init = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    y = np.array([1.0, -1.0] * (n // 2))
    X = data.standard_normal((n, d)) + 0.5 * y[:, None]
    a = np.where(np.arange(m) < m_positive, 1.0, -1.0) / math.sqrt(m)  # unbalanced for m=4, m+=3
    W = init.standard_normal((m, d))
    return X, y, a, W


def test_leaky_relu_and_its_derivative_on_known_values():
    u = np.array([-2.0, -0.0, 0.0, 1e-300, 3.0])
    np.testing.assert_array_equal(leaky_relu(u, GAMMA), [-0.6, -0.0, 0.0, 1e-300, 3.0])
    # phi'(0) = gamma is the convention of docs/theory.md §1 (u > 0 is the active side).
    np.testing.assert_array_equal(leaky_relu_derivative(u, GAMMA), [GAMMA, GAMMA, GAMMA, 1.0, 1.0])


def test_leaky_relu_is_positively_homogeneous():
    u = np.linspace(-3.0, 3.0, 13)
    # Scaling by 4 (a power of two) is exact in float64, so equality is exact.
    np.testing.assert_array_equal(leaky_relu(4.0 * u, GAMMA), 4.0 * leaky_relu(u, GAMMA))


def test_network_output_equals_the_sum_over_neurons():
    X, y, a, W = small_problem(1)
    expected = [sum(a[j] * max(W[j] @ x, GAMMA * (W[j] @ x)) for j in range(len(a))) for x in X]
    # Same products summed in a different order: a few ulps of the O(1) terms.
    np.testing.assert_allclose(network_output(X, W, a, GAMMA), expected, rtol=1e-13, atol=1e-13)


def test_pattern_mask_is_the_definition():
    H = np.array([[1.0, -1.0], [-2.0, 0.0]])
    y = np.array([1.0, -1.0])
    a = np.array([0.5, -0.5])
    # s_j y_i H_ij: row 0: [1, 1]; row 1: [2, 0] -> the zero entry is not strictly positive.
    np.testing.assert_array_equal(correctly_activated(H, y, a), [[True, True], [True, False]])


def empirical_loss(W, X, y, a, loss):
    u = y * network_output(X, W, a, GAMMA)
    return float(np.mean(np.exp(-u) if loss == "exponential" else np.log1p(np.exp(-u))))


@pytest.mark.parametrize("loss", ["exponential", "logistic"])
@pytest.mark.parametrize("normalized", [False, True])
def test_increment_is_minus_eta_times_the_finite_difference_gradient(loss, normalized):
    X, y, a, W = small_problem(2)
    H = X @ W.T
    assert np.abs(H).min() > 1e-3  # away from the kink, where the loss is smooth
    eta = 0.7
    state = descent_state(H, y, a, GAMMA, loss=loss, step_size=eta, normalized=normalized)
    step = state.increment.T @ X
    h = 1e-6
    gradient = np.zeros_like(W)
    for index in np.ndindex(*W.shape):
        bump = np.zeros_like(W)
        bump[index] = h
        gradient[index] = (empirical_loss(W + bump, X, y, a, loss)
                           - empirical_loss(W - bump, X, y, a, loss)) / (2 * h)
    scale = eta / empirical_loss(W, X, y, a, loss) if normalized else eta
    # Central differences: truncation O(h^2 * third derivative) ~ 1e-12 and rounding
    # ~ eps * L / h ~ 1e-10 for L = O(1) (no kink within h, asserted above); 1e-7 relative to the
    # gradient's size leaves a wide margin yet fails on any wrong factor or sign.
    np.testing.assert_allclose(step, -scale * gradient, atol=1e-7 * np.abs(scale * gradient).max())
    assert state.log_loss == pytest.approx(math.log(empirical_loss(W, X, y, a, loss)), rel=1e-14)


def test_normalised_exponential_weights_sum_to_the_step():
    # For the exponential loss g_i / (n L) = softmax(-u)_i sums to 1 (EXACT), so with a single
    # neuron of weight a = 1 and phi' = 1 the coefficients y_i D_i sum to eta.
    H = np.array([[900.0], [905.0], [1000.0]])  # every e^{-u} underflows: the log form must cope
    y = np.ones(3)
    state = descent_state(H, y, np.array([1.0]), GAMMA, loss="exponential", step_size=0.25,
                          normalized=True)
    # Three terms of size <= 0.25, each with a few ulps of rounding.
    assert state.increment.sum() == pytest.approx(0.25, rel=1e-15 * 10)
    assert state.log_loss == pytest.approx(-900.0 + math.log1p(math.exp(-5.0)) - math.log(3.0), rel=1e-15)


def test_plain_increment_overflow_is_reported_as_non_finite_not_raised():
    H = np.array([[-3000.0], [1.0]])  # margin gamma * (-3000) = -900: e^{900} overflows float64
    state = descent_state(H, np.ones(2), np.array([1.0]), GAMMA, loss="exponential", step_size=1.0,
                          normalized=False)
    assert math.isfinite(state.log_loss)
    assert not np.isfinite(state.increment).all()
