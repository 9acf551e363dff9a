"""bounds.contract: hypothesis results, reasons, verdicts, the Sample type and constants."""

import math

import numpy as np
import pytest

import bounds
from bounds.contract import (Sample, Theorem, evaluate, flag, from_statement, requirement_verdict,
                             undecidable)
from bounds.symbolic import PROVENANCES
from theorybench.config import Config
from theorybench.errors import UserInputError

COMMON = dict(provenance="RECONSTRUCTED", section="§3", depends_on_sample=False,
              evaluated_on="parameters")


def test_log_scale_result_states_the_factor():
    row = evaluate("k", "cond", math.log(2.0), math.log(6.4), ">=", log_scale=True,
                   critical_constant=0.3125, **COMMON)
    assert row.holds is False
    # margin = log(2/6.4): exact to rounding (1e-15 absolute on numbers of order 1).
    assert row.margin == pytest.approx(math.log(2.0 / 6.4), abs=1e-15)
    assert "fails by a factor 3.2" in row.reason
    assert "holds for constant <= 0.3125" in row.reason
    good = evaluate("k", "cond", math.log(6.4), math.log(2.0), ">=", log_scale=True, **COMMON)
    assert good.holds and good.margin > 0 and "holds by a factor 3.2" in good.reason


def test_linear_scale_and_strictness():
    assert evaluate("k", "c", 0.0, 0.0, ">=", **COMMON).holds
    assert not evaluate("k", "c", 0.0, 0.0, ">", **COMMON).holds
    row = evaluate("k", "c", 5.0, 2.0, "<", **COMMON)
    assert not row.holds and row.margin == -3.0 and "fails by 3" in row.reason
    typical = evaluate("k", "c", 1.0, 2.0, "<", provenance="EXACT", section="§3",
                       depends_on_sample=True, evaluated_on="typical case")
    assert "depends on the sample" in typical.reason


def test_flag_and_undecidable():
    yes = flag("g", "Gaussian noise", True, "noise family 'gaussian'", provenance="PAPER", section="§4")
    no = flag("g", "Gaussian noise", False, "noise family 'uniform'", provenance="PAPER", section="§4")
    assert yes.holds and yes.margin > 0 and yes.reason == "holds: noise family 'gaussian'"
    assert not no.holds and no.margin < 0 and no.reason == "fails: noise family 'uniform'"
    unknown = undecidable("a", "Assumption", "form not recoverable", provenance="PAPER", section="§5")
    assert unknown.holds is None
    ok, reason = requirement_verdict([unknown], (("a",),))
    assert not ok and "cannot be evaluated (form not recoverable)" in reason


def test_requirement_groups_are_alternatives_within_and_conjunctions_across():
    holds = flag("case2", "Case 2", True, "x", provenance="PAPER", section="§3")
    fails = flag("case1", "Case 1", False, "negative pairs", provenance="PAPER", section="§3")
    info = flag("init", "info only", False, "y", provenance="DERIVED", section="§3", verdict=False)
    assert requirement_verdict([holds, fails], (("case1", "case2"),)) == (
        True, "applies: every required hypothesis holds")
    ok, reason = requirement_verdict([fails], (("case1", "case2"),))
    assert not ok and "Case 1 fails: negative pairs" in reason and "case2 was not evaluated" in reason
    # An informational row never enters the verdict.
    ok, reason = requirement_verdict([holds, info], (("case2",), ("init",)))
    assert not ok and "init was not evaluated" in reason


def test_from_statement_reports_constants_and_critical_value():
    values = {**bounds.parameter_values(Config()), "C_61": 1.0}
    row = from_statement("a", "A6.1", "assumption_6_1", values, depends_on_sample=False,
                         evaluated_on="parameters")
    # d = 2000 >= max(40*9, 40^2) = 1600: holds by 1.25, critical C = 2000/1600 = 1.25 (exact
    # binary fractions, so rel 1e-15).
    assert row.holds and row.constants == {"C_61": 1.0}
    assert row.critical_constant == pytest.approx(1.25, rel=1e-15)
    assert "holds by a factor 1.25" in row.reason
    assert row.to_dict()["latex"].startswith("d \\ge")


def make_sample(**changes):
    rng = np.random.default_rng(0)
    arrays = dict(X=rng.standard_normal((4, 6)), y=np.array([1.0, -1.0, 1.0, -1.0]),
                  W0=rng.standard_normal((2, 6)), a=np.array([1.0, -1.0]) / math.sqrt(2),
                  gamma=0.5, eta=0.1)
    arrays.update(changes)
    return Sample(**arrays)


@pytest.mark.parametrize("changes,match", [
    (dict(X=np.ones(5)), "2-d"),
    (dict(y=np.array([1.0, 0.0, 1.0, -1.0])), "entries \\+1 or -1"),
    (dict(W0=np.ones((2, 5))), "W0 has shape"),
    (dict(gamma=1.0), "gamma"),
    (dict(eta=0.0), "eta"),
    (dict(X=np.full((4, 6), np.nan)), "finite"),
])
def test_sample_validation(changes, match):
    with pytest.raises(UserInputError, match=match):
        make_sample(**changes)


def test_theorem_constants_are_validated():
    assert bounds.Theorem51(C_u=2.0).constants["C_u"] == 2.0
    # C_1, C_2 belong to Theorem 5.1 too (its Theorem 4.8 data condition); C_61 does not.
    assert bounds.Theorem51(C_2=0.5).constants["C_2"] == 0.5
    with pytest.raises(UserInputError, match="not a constant"):
        bounds.Theorem51(C_61=1.0)
    with pytest.raises(UserInputError, match="finite real > 0"):
        bounds.Theorem51(C_u=-1.0)
    with pytest.raises(UserInputError, match="finite real > 0"):
        bounds.Theorem51(C_u=math.inf)


def test_registry_is_complete_and_labelled():
    keys = [t.key for t in bounds.THEOREMS]
    assert keys == ["4.8", "5.1", "A6.1", "6.2", "6.2-strong", "6.3", "CL21", "CGB21", "F22/23"]
    config = Config()
    for theorem in bounds.THEOREMS:
        assert isinstance(theorem, Theorem) and theorem.requirements
        assert theorem.provenance in PROVENANCES
        for row in theorem.hypotheses(config):
            assert row.provenance in PROVENANCES and row.section.startswith("§")
            assert row.reason
        for conclusion in theorem.conclusions(config):
            assert conclusion.provenance in PROVENANCES
            if conclusion.log_value is not None:
                assert math.isfinite(conclusion.log_value)
