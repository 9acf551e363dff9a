"""One declared form per statement: `check`'s rows and the catalogue's bounds evaluate the same
sympy statement of `bounds.symbolic` (docs/theory.md §0, §3–§6), with identical values.

A second implementation of a formula can drift from the declared one while each passes its own
tests; here every row of a theorem that has a counterpart among the declared bounds of
`bounds.catalogue` is required to name the same statement and to give the same float64 value,
bit for bit, on generated instances (the two evaluate one generated function at one set of
values, so no rounding separates them).
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import example, given, settings, strategies as st

from bounds import catalogue, symbolic
from bounds.contract import Sample
from bounds.prior import CaoGuBelkin, ChatterjiLong, FreiEtAl
from bounds.theorem_4_8 import Theorem48, sample_values
from bounds.theorem_5_1 import Theorem51
from bounds.theorems_6 import StrongRegimeBayesOrder, Theorem62, Theorem63
from theorybench import strategies
from theorybench.config import Config

_FEW = settings(max_examples=15, deadline=None, derandomize=True, database=None)

# catalogue bound -> (theorem built with the bound's constants, conclusion name, statement name)
RATE_COUNTERPARTS = {
    "theorem_5_1_upper": (Theorem51(C_u=1.0, c_u=1.0), "upper bound", "log_upper_5_1"),
    "theorem_5_1_lower": (Theorem51(c_l=1.0, C_l=1.0), "lower bound", "log_lower_5_1"),
    "theorem_6_2_upper": (Theorem62(C_sg=1.0, c_sg=1.0), "upper bound", "log_upper_6_2"),
    "theorem_6_3_upper": (Theorem63(C_K=1.0), "upper bound", "log_upper_6_3"),
    "bayes_order_upper": (StrongRegimeBayesOrder(C_B=1.0, c_B=1.0), "upper bound",
                          "log_bayes_order"),
    "chatterji_long_upper": (ChatterjiLong(c_CL=1.0), "upper bound", "log_chatterji_long"),
    "frei_upper": (FreiEtAl(C_F=1.0), "upper bound", "log_frei"),
    "cao_gu_belkin_upper": (CaoGuBelkin(C_CGB=1.0), "upper bound", "log_cao_gu_belkin"),
}


def _bound(name: str) -> catalogue.DeclaredBound:
    return next(b for b in catalogue.BOUNDS if b.name == name)


def test_every_rate_bound_with_a_theorem_is_listed_with_the_constants_it_declares():
    # The table above is complete and uses the catalogue's own constants: a new rate bound with a
    # theorem counterpart, or a changed default constant, must show up here.
    rate_bounds = {b.name for b in catalogue.BOUNDS if b.quantity == "log_error_rate"}
    assert rate_bounds - set(RATE_COUNTERPARTS) == {"theorem_5_1_alt_upper"}  # no theorem row
    for name, (theorem, _, _) in RATE_COUNTERPARTS.items():
        for constant, value in _bound(name).constants.items():
            assert theorem.constants[constant] == value, (name, constant)


@_FEW
@given(strategies.rate_instances(), st.sampled_from(sorted(RATE_COUNTERPARTS)))
def test_rate_bounds_and_theorem_conclusions_are_one_statement(instance, name):
    theorem, conclusion_name, statement_name = RATE_COUNTERPARTS[name]
    bound = _bound(name)
    config = instance.to_config()
    conclusions = {c.name: c for c in theorem.conclusions(config)}
    if conclusion_name not in conclusions:  # e.g. Theorem 6.2 without a known proxy
        assert bound.applies(instance)[0] is False
        return
    conclusion = conclusions[conclusion_name]
    assert conclusion.symbol == statement_name
    value = bound.value(instance)
    # Theorem 6.3's declared bound is the same statement capped at probability 1 (log 0).
    expected = min(0.0, conclusion.log_value) if name == "theorem_6_3_upper" else conclusion.log_value
    assert value == expected or (math.isnan(value) and math.isnan(expected))


def _log(value: float) -> float:
    """A row's log scale (`bounds.contract.from_statement`): -inf for a side <= 0."""
    return math.log(value) if value > 0 else -math.inf


def _sample(instance: catalogue.StepInstance) -> Sample:
    return Sample(X=instance.X, y=instance.y, W0=instance.W0, a=instance.a, gamma=instance.gamma,
                  eta=instance.eta)


@_FEW
@given(strategies.step_instances())
@example(catalogue.StepInstance(X=np.ones((2, 1)), y=np.ones(2), a=np.ones(1), W0=np.zeros((1, 1)),
                                gamma=0.5, eta=1.0))  # W(0) = 0: a side of the row is 0 (log -inf)
def test_step_one_rows_and_declared_bounds_are_one_statement(instance):
    sample = _sample(instance)
    rows = {row.key: row for row in Theorem48().hypotheses(Config(), sample)}
    values = sample_values(sample)
    # init_sufficient (check) and small_initialisation (catalogue): `small_init_sample`.
    row = rows["init_sufficient"]
    assert row.statement == "small_init_sample"
    lhs, rhs = symbolic.statement("small_init_sample").evaluate(values)
    if row.log_scale:
        assert (row.lhs, row.rhs) == (_log(lhs), _log(rhs))
    else:
        assert (row.lhs, row.rhs) == (lhs, rhs)
    assert catalogue.small_initialisation_margin(instance) == rhs - lhs
    # init (check's verdict row) and step_one_criterion (catalogue): `step_one_exact`, whose
    # statistic is the smallest entry of the declared criterion (a positive rescaling commutes
    # with min in float64, rounding being monotone).
    row = rows["init"]
    assert row.statement == "step_one_exact" and not row.log_scale
    assert row.lhs == float(np.min(catalogue.step_one_criterion(instance)))
