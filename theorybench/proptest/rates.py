"""Population rates: shape and metamorphic properties (there is no exact value to compare with).

Quantity ``log_error_rate`` (docs/theory.md §4–§6): a RECONSTRUCTED or PRIOR statement about the
test error of GD on a data model, evaluated on the population (`bounds.catalogue.RateInstance`).
With no exact reference, a rate is confronted with the relations its statement implies:

- the declared monotonicity in the signal, n and (isotropic data) d;
- rotation invariance: :math:`\\mu` along :math:`e_1` or along :math:`(1,\\dots,1)/\\sqrt d` for
  isotropic or mean-spiked covariance;
- the same law written differently gives the same value: the mean as an explicit vector, the
  covariance as the explicit matrix of its family (structured vs dense :math:`\\Sigma`), the
  coordinates permuted, and the joint scaling :math:`(\\mu, \\Sigma) \\to (c\\mu, c^2\\Sigma)`
  (every error of the data model is invariant: :math:`x \\to cx` changes no sign).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import strategies as st

from bounds.catalogue import DeclaredBound, RateInstance
from theorybench import strategies
from theorybench.config import CovarianceConfig, DataConfig
from theorybench.covariance import covariance_matrix, covariance_summary
from theorybench.proptest.contract import applies, finite_value
from theorybench.proptest.model import EPS, Falsified

# Restating a law as a dense matrix costs an eigendecomposition per evaluation: small d keeps it cheap.
MAX_DENSE_DIMENSION = 40


def rate_slack(*values: float) -> float:
    """Rounding allowed between two evaluations of a rate from the same summaries.

    The rate formulas are a few dozen float64 operations on positive summaries with no
    cancellation (psi's terms are all positive): 64 ulps of the largest magnitude cover them.
    """
    return 64 * EPS * max([1.0] + [abs(v) for v in values])


def transformed(data: DataConfig, parameter: str, factor: float, step: int) -> DataConfig | None:
    """The data model with ``parameter`` grown (signal times factor, n or d plus step)."""
    if parameter == "signal":
        if data.mean is not None:
            return replace(data, mean=tuple(factor * v for v in data.mean))
        return replace(data, signal=data.signal * factor)
    if parameter == "n":
        return replace(data, n=data.n + step)
    # d: only where growing d keeps the problem the same but for extra isotropic noise.
    if data.covariance.family != "isotropic" or data.mean is not None or data.mean_direction != "e1":
        return None
    return replace(data, d=data.d + step)


def monotone_property(bound: DeclaredBound, parameter: str, direction: str, make):
    """The value moves in the declared direction when ``parameter`` grows."""
    # Growing d is a statement about isotropic data with mu along e_1 (see `transformed`).
    instances = strategies.rate_instances(isotropic=True, mean_direction="e1") if parameter == "d" \
        else strategies.any_rate_instances()
    strategy = st.tuples(instances, strategies.finite_floats(1.0, 4.0), st.integers(1, 1000))

    def check(drawn: tuple[RateInstance, float, int]) -> bool:
        instance, factor, step = drawn
        grown_data = transformed(instance.data, parameter, factor, step)
        if grown_data is None:
            return False
        grown = RateInstance(grown_data)
        if not (applies(bound, instance) and applies(bound, grown)):
            return False
        before, after = float(finite_value(bound, instance)), float(finite_value(bound, grown))
        slack = rate_slack(before, after)
        change = f"{parameter} {'x' + format(factor, '.6g') if parameter == 'signal' else '+' + str(step)}"
        if direction == "nonincreasing" and after > before + slack:
            raise Falsified(f"value rose from {before!r} to {after!r} when {change}, but the "
                            "statement implies it is nonincreasing")
        if direction == "nondecreasing" and after < before - slack:
            raise Falsified(f"value fell from {before!r} to {after!r} when {change}, but the "
                            "statement implies it is nondecreasing")
        return True

    return make(bound, f"monotone_in_{parameter}",
                f"{direction} in {parameter} (as the statement implies)", check, strategy)


def rotation_property(bound: DeclaredBound, make):
    """Rotating :math:`\\mu` leaves the value unchanged (isotropic or mean-spiked covariance)."""
    def check(instance: RateInstance) -> bool:
        data = instance.data
        rotatable = data.covariance.family == "isotropic" or (
            data.covariance.family == "spiked" and data.covariance.spike_direction == "mean")
        if data.mean is not None or not rotatable:
            return False
        other = "ones" if data.mean_direction == "e1" else "e1"
        rotated = RateInstance(replace(data, mean_direction=other))
        if not (applies(bound, instance) and applies(bound, rotated)):
            return False
        first, second = float(finite_value(bound, instance)), float(finite_value(bound, rotated))
        # The "ones" direction carries d roundings in ||mu||^2: (d + 64) ulps.
        slack = (instance.data.d + 64) * EPS * max(1.0, abs(first), abs(second)) * 4
        if abs(first - second) > slack:
            raise Falsified(f"value {first!r} with mu along e1-type direction {data.mean_direction!r} "
                            f"but {second!r} along {other!r}: a rotation of isotropic data changed it")
        return True

    return make(bound, "rotation_invariant", "invariant when mu is rotated (isotropic or "
                "mean-spiked covariance)", check, strategies.any_rate_instances())


def restatements(data: DataConfig, permutation: list[int], scale: float):
    """The same law written differently: ``(label, data, needs_dense_family)`` triples.

    EXACT: an explicit mean equal to ``mean_vector()``; the covariance as its explicit matrix
    (``user`` family); the coordinates permuted (:math:`P\\mu`, :math:`P\\Sigma P^\\top`); the
    joint scaling :math:`(c\\mu, c^2\\Sigma)`. The dense ones only for d <= `MAX_DENSE_DIMENSION`.
    """
    mu = data.mean_vector()
    explicit_mean = ("the mean as an explicit vector", replace(data, mean=tuple(float(v) for v in mu)),
                     False)
    if data.d > MAX_DENSE_DIMENSION:
        return [explicit_mean]
    sigma = covariance_matrix(data)
    perm = np.array(permutation)

    def dense(mean: np.ndarray, matrix: np.ndarray) -> DataConfig:
        matrix = 0.5 * (matrix + matrix.T)
        return replace(data, mean=tuple(float(v) for v in mean), covariance=CovarianceConfig(
            family="user", matrix=tuple(tuple(float(v) for v in row) for row in matrix)))

    return [
        explicit_mean,
        ("Sigma as an explicit matrix", dense(mu, sigma), True),
        ("coordinates permuted", dense(mu[perm], sigma[np.ix_(perm, perm)]), True),
        (f"(mu, Sigma) -> (c mu, c^2 Sigma), c = {scale!r}", dense(scale * mu, scale * scale * sigma),
         True),
    ]


def _restatement_slack(data: DataConfig, *values: float) -> float:
    # Every summary (||mu||^2, mu' Sigma mu, Tr Sigma^2, ...) of a dense restatement comes from an
    # eigendecomposition, accurate to d eps ||Sigma|| absolute per eigenvalue: relative to the
    # quadratic form mu' Sigma mu that is d eps ||Sigma|| ||mu||^2 / mu' Sigma mu (at most the
    # condition number); a rate is a few dozen operations on these, each moving log-values by at
    # most their magnitude times the relative error: 64 times covers the operations.
    summary = covariance_summary(data)
    form = summary.mean_sigma_mean
    condition = summary.operator_norm * summary.mean_norm_sq / form if form > 0 else 1.0
    return 64.0 * (data.d + 2) * EPS * (1.0 + condition) * max([1.0] + [abs(v) for v in values])


@st.composite
def _rates_with_restatements(draw):
    instance = draw(strategies.any_rate_instances(max_d=MAX_DENSE_DIMENSION))
    permutation = draw(st.permutations(list(range(instance.data.d))))
    scale = draw(strategies.log_uniform(1e-30, 1e30))
    return instance, permutation, scale


def restatement_property(bound: DeclaredBound, make):
    """The same law written differently gives the same value (see `restatements`)."""
    def check(drawn) -> bool:
        instance, permutation, scale = drawn
        if not applies(bound, instance):
            return False
        value = float(finite_value(bound, instance))
        for label, data, dense in restatements(instance.data, permutation, scale):
            other = RateInstance(data)
            if not applies(bound, other):
                if dense:
                    continue  # the statement's hypotheses may name the covariance family
                raise Falsified(f"the statement applies to the instance but not to {label}")
            moved = float(finite_value(bound, other))
            slack = _restatement_slack(instance.data, value, moved)
            if abs(moved - value) > slack:
                raise Falsified(f"value {value!r} became {moved!r} with {label} (the same law); "
                                f"allowed rounding {slack:.3g}")
        return True

    return make(bound, "same_law_same_value", "the same law written differently (explicit mean, "
                "dense Sigma, permuted coordinates, (c mu, c^2 Sigma)) gives the same value", check,
                _rates_with_restatements())
