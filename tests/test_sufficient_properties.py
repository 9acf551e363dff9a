"""The properties that run gradient descent behind `check`'s sufficient rows can fail.

`theorybench.proptest.sufficient` (docs/theory.md §3) passes on the real rows (in
tests/test_properties.py); here rows and proof constants are replaced by wrong ones, as a person
encoding them might write them, and the quick profile must find a counterexample by running GD.
"""

from __future__ import annotations

import math

import numpy as np

from bounds import symbolic
from bounds.catalogue import StepInstance
from theorybench.proptest import run_property
from theorybench.proptest import sufficient


def test_a_small_initialisation_row_that_ignores_the_initialisation_is_caught(monkeypatch):
    # "S_min > 0 suffices" forgets max |H(0)|: it holds where the first step does not activate.
    real = sufficient._holds
    monkeypatch.setattr(sufficient, "_holds",
                        lambda name, values: name == "small_init_sample" or real(name, values))
    outcome = run_property(sufficient._initialisation_property(), profile="quick")
    assert outcome.status == "falsified"
    assert "not correctly activated" in outcome.counterexample.detail


def test_step_size_b_without_its_second_order_term_is_caught(monkeypatch):
    # c(u) = 0 in the proof of step size (b) claims first-order descent L'/L <= 1 - eta L ||x_bar||^2,
    # which the curvature of exp breaks at every finite step.
    monkeypatch.setattr(sufficient, "_radius_factor", lambda u: 0.0)
    outcome = run_property(sufficient._step_size_property(), profile="quick")
    assert outcome.status == "falsified"
    assert "exceeds the proof's bound" in outcome.counterexample.detail


def test_radius_factor_matches_its_definition_on_both_branches():
    # c(u) = (e^u - 1 - u)/u^2, continuous across the switch to the series at 1e-4 (relative
    # 1e-11: the direct form loses eps/u^2 * u = 2e-12 there) and c(u*) u* = 1 at the root
    # e^u* = 1 + 2u* (u* to 30 digits, relative 1e-15 after a few float64 operations).
    below, above = sufficient._radius_factor(1e-4 * (1 - 1e-12)), sufficient._radius_factor(1e-4)
    assert math.isclose(below, above, rel_tol=1e-11)
    assert math.isclose(sufficient._radius_factor(1.0), math.e - 2.0, rel_tol=1e-15)
    u_star = float(symbolic.STEP_RADIUS_LIMIT)
    assert math.isclose(sufficient._radius_factor(u_star) * u_star, 1.0, rel_tol=1e-14)


def test_step_size_descent_is_exercised_on_a_hand_built_case_one_instance():
    # Two positive points at 60 degrees, one positive neuron: Case 1 holds (every pair positively
    # correlated), and a step well inside rows (a) and (b) applies every claim of the property.
    X = np.array([[1.0, 0.0], [0.5, math.sqrt(3.0) / 2.0]])
    instance = StepInstance(X=X, y=np.ones(2), a=np.ones(1), W0=np.array([[1e-3, 1e-3]]),
                            gamma=0.5, eta=0.1)
    values = sufficient.sample_values(sufficient._sample(instance))
    for row in ("case1_sample", "step_size_lambda", "step_size_sample"):
        assert symbolic.statement(row).holds(values), row
    assert sufficient._step_size_property().check(instance) is True
