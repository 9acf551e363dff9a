"""The property suite catches deliberately wrong bounds (mutants), each with a counterexample.

Every mutant is a plausible slip in encoding a statement of docs/theory.md; the test asserts that the
named property reports it falsified with a shrunk counterexample, and that replaying the
counterexample falsifies it again (so the report is not a fluke of the search).
"""

import math
from dataclasses import replace

import numpy as np
import pytest

from bounds import catalogue
from bounds.catalogue import DeclaredBound
from theorybench import proptest
from theorybench.cli import main
from theorybench.config import config_from_toml


def _shipped(name: str) -> DeclaredBound:
    return proptest.select_bound(proptest.shipped_bounds(), name)[0]


def _psi_without_n(instance) -> float:
    # Mutant: the factor n of the numerator of psi (docs/theory.md §4) is dropped.
    s = instance.summary()
    return s.mean_norm_sq**2 / (instance.data.n * s.mean_sigma_mean + s.trace_of_square)


def _psi(instance) -> float:
    s = instance.summary()
    n = instance.data.n
    return n * s.mean_norm_sq**2 / (n * s.mean_sigma_mean + s.trace_of_square)


def _step_one_with_initial_weights(instance):
    # Mutant: the criterion evaluated at W(0) instead of W(1) (the step term forgotten).
    H0 = instance.X @ instance.W0.T
    return instance.y[:, None] * np.sign(instance.a)[None, :] * H0


def _step_one_n_minus_one(instance):
    # Mutant: eta/(n - 1) instead of eta/n in front of the step term.
    n = instance.n
    shifted = replace(instance, eta=instance.eta * n / (n - 1))
    return catalogue.step_one_criterion(shifted)


def _small_init_without_initial_term(instance):
    # Mutant: the sufficient condition forgets max |<x_k, w_j(0)>| (it "holds" whenever S_min > 0).
    return catalogue.small_initialisation_margin(instance) + float(
        np.max(np.abs(instance.X @ instance.W0.T)))


_RATE = dict(kind="upper", provenance="RECONSTRUCTED", section="§4", quantity="log_error_rate",
             monotone={"signal": "nonincreasing", "n": "nonincreasing", "d": "nondecreasing"},
             symmetries=("rotation",))

MUTANTS = [
    # (mutant, property expected to falsify it)
    (DeclaredBound(name="psi_dropped_n", statement="err <= exp(-psi) with psi missing its factor n",
                   value=lambda i: -_psi_without_n(i), **_RATE), "monotone_in_n"),
    (DeclaredBound(name="rate_exponent_sign_flipped", statement="err <= exp(+psi)",
                   value=lambda i: +_psi(i), **_RATE), "monotone_in_signal"),
    (replace(_shipped("gaussian_mills_lower"), name="mills_lower_exponent_sign_flipped",
             value=lambda i: catalogue.log_mills_lower(i) + (i.t / i.s) ** 2, reference=None),
     "lower_bounds_exact"),
    (replace(_shipped("gaussian_mills_lower"), name="mills_lower_doubled",
             value=lambda i: catalogue.log_mills_lower(i) + math.log(2.0), reference=None),
     "lower_bounds_exact"),
    (replace(_shipped("sub_gaussian_upper"), name="sub_gaussian_proxy_quartered",
             value=lambda i: 4.0 * catalogue.log_sub_gaussian_upper(i), reference=None),
     "upper_bounds_exact"),
    (replace(_shipped("step_one_criterion"), name="step_one_at_initial_weights",
             value=_step_one_with_initial_weights), "equals_exact"),
    (replace(_shipped("step_one_criterion"), name="step_one_eta_over_n_minus_one",
             value=_step_one_n_minus_one), "equals_exact"),
    (replace(_shipped("small_initialisation"), name="small_init_without_initial_term",
             value=_small_init_without_initial_term), "sufficient_implies_activation"),
]


@pytest.mark.parametrize("mutant, property_name", MUTANTS, ids=[m.name for m, _ in MUTANTS])
def test_mutant_is_falsified_with_a_counterexample(mutant, property_name, tmp_path):
    prop = next(p for p in proptest.bound_properties(mutant) if p.name == property_name)
    outcome = proptest.run_property(prop, profile="quick", seed=0)
    assert outcome.status == "falsified", proptest.format_outcome(outcome)
    example = outcome.counterexample
    assert example is not None and example.detail and example.raw
    # Replaying the shrunk counterexample falsifies the mutant again.
    with pytest.raises(proptest.Falsified):
        prop.check(example.instance)
    if example.toml is not None:
        # The printed configuration is one `theorybench check` accepts (with --sample it redraws
        # the counterexample's training set from the configuration's seed).
        config_from_toml(example.toml)
        path = tmp_path / "counterexample.toml"
        path.write_text(example.toml)
        assert main(["check", str(path), "--sample"]) == 0
    text = proptest.format_outcome(outcome)
    assert text.startswith("FAIL") and "shrunk counterexample" in text


def test_the_correct_versions_of_the_mutated_bounds_pass():
    # The same properties on the shipped statements: the failures above are the mutations'.
    for name, property_name in [("gaussian_mills_lower", "lower_bounds_exact"),
                                ("sub_gaussian_upper", "upper_bounds_exact"),
                                ("step_one_criterion", "equals_exact"),
                                ("small_initialisation", "sufficient_implies_activation"),
                                ("theorem_5_1_upper", "monotone_in_n"),
                                ("theorem_5_1_upper", "monotone_in_signal")]:
        prop = next(p for p in proptest.bound_properties(_shipped(name)) if p.name == property_name)
        outcome = proptest.run_property(prop, profile="quick", seed=0)
        assert outcome.status == "passed", proptest.format_outcome(outcome)


def test_the_search_is_deterministic_for_a_seed():
    mutant, property_name = MUTANTS[3]
    prop = next(p for p in proptest.bound_properties(mutant) if p.name == property_name)
    first = proptest.run_property(prop, profile="quick", seed=5)
    second = proptest.run_property(prop, profile="quick", seed=5)
    assert first.status == second.status == "falsified"
    assert first.counterexample.raw == second.counterexample.raw
    assert first.examples == second.examples
