"""The property runner: hypothesis searches for an instance that falsifies a declared bound.

Each *property* is a claim that must hold for every instance a strategy can generate
(`theorybench.strategies`); the runner asks hypothesis for a counterexample, and on failure
reports the shrunk one (its raw values and, when it maps to a configuration, a TOML file that
``theorybench check`` accepts). Properties come in two groups.

Per declared bound (`bounds.catalogue.DeclaredBound`), according to its kind and quantity:

- ``finite``: the value is a finite float (or array) wherever the statement applies: no bare
  0 (log = -inf), inf or nan over the whole strategy space;
- ordering against the exact value of the quantity (EXACT, docs/theory.md §2.4, §3): ``upper`` bounds
  sit above it, ``lower`` bounds below, ``exact`` statements equal it, ``sufficient`` conditions
  imply its event; the exact value is ``log_ndtr`` for Gaussian noise, enumeration of the
  :math:`2^d` sign vectors for Rademacher noise, and one GD step performed in weight space;
- ``mpmath``: the float64 value against the bound's mpmath reference at 30 and 60 digits (the
  reference must first agree with itself: escalating precision, the idea of scipy's
  ``_mptestutils``);
- the monotonicity and symmetries the statement declares; exact statements inherit every
  invariance of their quantity (sign symmetry, rotation of isotropic data, permutation of samples,
  joint rescaling of data, initialisation and step).

Library properties (EXACT statements of the toolkit itself, pointwise): Gram-space = weight-space
GD; the trajectory's invariance under permutation of samples, the sign symmetry
:math:`(y, a) \\to (-y, -a)` (equivalently :math:`(y,\\mu)\\to(-y,-\\mu)` with the neurons
relabelled), joint rescaling and rotation; the limit direction's certificate re-checked in weight
space; the linear decision boundary (§2.3); the Bayes error as a floor for every direction's
exact Gaussian error (§2.4); ``log_ndtr`` against mpmath; the Clopper–Pearson interval's exact
coverage.

Tolerances: every comparison allows the rounding of float64 arithmetic and no more; each slack is
derived where it is computed.
"""

from __future__ import annotations

import importlib
import importlib.util
import itertools
import math
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import mpmath
import numpy as np
from hypothesis import HealthCheck, given, reject, seed as hypothesis_seed, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisException, Unsatisfiable
from scipy.special import log_ndtr
from scipy.stats import binom

from bounds.catalogue import (
    BOUNDS,
    DeclaredBound,
    DirectionInstance,
    RateInstance,
    StepInstance,
)
from bounds.error_functionals import log_bayes_error, log_gaussian_error_of_direction
from bounds.limit_direction import limit_direction
from theorybench import strategies
from theorybench.config import Config, DataConfig, TrainingConfig, config_to_toml
from theorybench.errors import UserInputError
from theorybench.stats import clopper_pearson
from theorybench.training import train

EPS = float(np.finfo(np.float64).eps)
PROFILES = {"quick": 25, "thorough": 400}
# Digits of the two mpmath evaluations: the reference is trusted only when both agree to
# REFERENCE_AGREEMENT relative (far below float64's 1e-16, so the comparison is with the truth).
REFERENCE_DIGITS = (30, 60)
REFERENCE_AGREEMENT = 1e-25
# Rademacher enumeration of 2^d sign vectors is exact and cheap up to this dimension.
MAX_ENUMERATION_DIMENSION = 16

for _name, _examples in PROFILES.items():
    settings.register_profile(
        _name, max_examples=_examples, deadline=None, database=None, derandomize=False,
        report_multiple_bugs=False, print_blob=False,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                               HealthCheck.data_too_large])


class Falsified(AssertionError):
    """A property failed on the current instance; the message says how."""


@dataclass(frozen=True)
class Counterexample:
    """A shrunk instance that falsifies a property.

    ``detail`` says how it fails, ``raw`` holds the instance's values, ``toml`` the configuration
    it maps to (None when it maps to none), and ``instance`` the object itself (for replaying).
    """

    detail: str
    raw: dict
    toml: str | None
    instance: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class PropertyOutcome:
    """The result of one property over one strategy run.

    ``status``: ``passed``, ``falsified``, ``vacuous`` (no generated instance satisfied the
    statement's hypotheses), or ``error`` (the search itself failed, e.g. a flaky bound).
    """

    subject: str
    name: str
    provenance: str
    section: str
    status: str
    examples: int
    applicable: int
    message: str
    counterexample: Counterexample | None = None


@dataclass(frozen=True)
class Property:
    """A claim checked on every generated instance.

    ``check(instance)`` returns True when it applied and held, False when the instance is outside
    the statement's hypotheses, and raises `Falsified` when it fails.
    """

    subject: str
    name: str
    provenance: str
    section: str
    description: str
    strategy: st.SearchStrategy
    check: Callable[[Any], bool]


# ---------------------------------------------------------------------------------------------
# Exact values of the quantities


def direction_relative_error(instance: DirectionInstance) -> float:
    """A bound on the relative rounding error of :math:`x = t/s` as computed in float64.

    :math:`t = \\langle w, \\mu\\rangle` and :math:`b = Sw` are dot products of length d, each
    accurate to :math:`d\\,\\epsilon` times :math:`\\sum_i |w_i\\mu_i|` (resp. :math:`(|S||w|)_k`),
    i.e. relatively to :math:`d\\epsilon\\kappa` with the condition numbers below; the norm and the
    division add a few ulps. The factor 4(d + 2) covers both and the unit-roundoff convention.
    """
    w, mu = instance.w, instance.mu
    kappa_t = float(np.abs(w) @ np.abs(mu)) / abs(instance.t)
    b = instance.b
    kappa_b = float(np.linalg.norm(np.abs(instance.sqrt_sigma) @ np.abs(w))) / float(np.linalg.norm(b))
    # s may also be formed as sqrt(w' Sigma w) with Sigma = S S rounded: relative error
    # d eps |w|'|S||S||w| / s^2 = d eps kappa_b^2 (for s^2; half of it for s).
    return 4.0 * (instance.d + 2) * EPS * (kappa_t + kappa_b + kappa_b**2 + 1.0)


def direction_slack(instance: DirectionInstance, *log_values: float) -> float:
    """Absolute slack for comparing log-probabilities of a direction instance.

    Functions of :math:`x` here (``log Phi(-x)``, the §2.4 bounds) have
    :math:`|d\\log F/d\\log x| \\le x^2 + |x| + 2(1 + |\\log F|)` (for ``log Phi(-x)``,
    :math:`x\\varphi(x)/\\Phi(-x) \\le x^2 + x`; for the bounds, at most 4 or :math:`2|\\log F|`),
    so a relative error r of x moves them by at most that times r; 16 ulps of the value cover the
    final additions.
    """
    x = abs(instance.t) / instance.s
    magnitude = max([1.0] + [abs(v) for v in log_values if math.isfinite(v)])
    return (x * x + x + 2.0 * (1.0 + magnitude)) * direction_relative_error(instance) + 16 * EPS * magnitude


def rademacher_log_error_interval(instance: DirectionInstance) -> tuple[float, float]:
    """Exact :math:`\\log P(\\langle b, \\xi\\rangle \\le -t)` for Rademacher :math:`\\xi`, as an interval.

    EXACT: the :math:`2^d` sign vectors are equally likely. A sign vector whose sum lies within
    the rounding bound of :math:`-t` (``tie``) could fall either way, so the result is the interval
    between counting none and all of them (log 0 = -inf: the error is exactly 0).
    """
    d = instance.d
    signs = np.array(list(itertools.product((1.0, -1.0), repeat=d)))
    b, t = instance.b, instance.t
    sums = signs @ b
    # Rounding of the sums (length-d dot products) plus that of b and t themselves.
    loading = np.abs(instance.sqrt_sigma) @ np.abs(instance.w)
    tie = 4.0 * (d + 2) * EPS * (float(np.sum(loading)) + float(np.abs(instance.w) @ np.abs(instance.mu)))
    low = int(np.count_nonzero(sums < -t - tie))
    high = int(np.count_nonzero(sums <= -t + tie))
    total = d * math.log(2.0)
    return (math.log(low) - total if low else -math.inf,
            math.log(high) - total if high else -math.inf)


def gaussian_log_error(instance: DirectionInstance) -> float:
    """:math:`\\log\\Phi(-t/s)` with :math:`s = \\|Sw\\|` (EXACT, docs/theory.md §2.4): the reference,
    computed independently of `bounds.error_functionals` (which forms :math:`w^\\top\\Sigma w`)."""
    return float(log_ndtr(-instance.t / instance.s))


def exact_log_error_interval(instance: DirectionInstance) -> tuple[float, float] | None:
    """The exact log error of the direction as an interval, or None where none is computable."""
    if instance.noise == "gaussian":
        if instance.s == 0.0:
            return None
        value = gaussian_log_error(instance)
        slack = direction_slack(instance, value)
        return value - slack, value + slack
    if instance.noise == "rademacher" and instance.d <= MAX_ENUMERATION_DIMENSION:
        return rademacher_log_error_interval(instance)
    return None


def one_step_margins(instance: StepInstance) -> tuple[np.ndarray, np.ndarray]:
    """:math:`s_j y_k \\langle x_k, w_j(1)\\rangle` by performing one GD step in weight space.

    EXACT reference (docs/theory.md §2.5): :math:`W(1) = W(0) + (\\eta/n) D^\\top X` with
    :math:`D_{ij} = \\ell_i(0) y_i a_j \\varphi'(H_{ij}(0))`. Returns the margins and an entrywise
    rounding slack: every entry is a sum of dot products of length at most n + d whose absolute
    terms sum to ``scale``, so float64 evaluation (this one or the Gram form) errs by at most
    :math:`(n + d + 4)\\epsilon` times ``scale``, times :math:`1 + \\max|\\log\\ell|` for the
    rounding of the exponentials; the factor 8 covers both evaluations.
    """
    X, y, a, W0 = instance.X, instance.y, instance.a, instance.W0
    H0 = X @ W0.T
    log_losses = instance.initial_log_losses()
    losses = np.exp(log_losses)
    slope = np.where(H0 > 0, 1.0, instance.gamma)
    D = (losses * y)[:, None] * a[None, :] * slope
    W1 = W0 + (instance.eta / instance.n) * (D.T @ X)
    margins = y[:, None] * np.sign(a)[None, :] * (X @ W1.T)
    absX = np.abs(X)
    scale = absX @ np.abs(W0).T + (instance.eta / instance.n) * (absX @ absX.T) @ np.abs(D) \
        + absX @ np.abs(W1).T
    exponent_factor = 1.0 + float(np.max(np.abs(log_losses)))
    slack = 8.0 * (instance.n + X.shape[1] + 4) * EPS * exponent_factor * scale
    return margins, slack


# ---------------------------------------------------------------------------------------------
# Helpers


class ContractViolation(UserInputError):
    """A declared bound broke the contract when called (`bounds.catalogue`): ``applies`` did not
    return ``(holds, reason)``, or ``value`` did not return a number (an (n, m) array for an exact
    ``step_one_margins`` statement). The user's declaration is at fault, not the mathematics, so
    the command line reports it as bad input (exit status 2) rather than as a falsified bound."""


def _call(bound: DeclaredBound, what: str, function: Callable[..., Any], *args: Any) -> Any:
    """``function(*args)``; an exception raised inside a user's bound (not a shipped one) is a
    `ContractViolation` carrying the user's traceback, not a falsified bound: the declaration
    failed to compute, the mathematics was never tested."""
    try:
        return function(*args)
    except Exception as error:
        if any(bound is shipped for shipped in BOUNDS):
            raise
        detail = "".join(traceback.format_exception(error))
        raise ContractViolation(f"bound {bound.name!r}: {what}(instance) raised {type(error).__name__}: "
                                f"{str(error)[:200]}. The error is in the bound's own code (traceback "
                                "below), not a counterexample.", detail=detail) from None


def _finite_value(bound: DeclaredBound, instance: Any) -> Any:
    value = _call(bound, "value", bound.value, instance)
    try:
        if value is None:  # np.asarray(None, dtype=float) would be a silent nan
            raise TypeError
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ContractViolation(f"bound {bound.name!r}: value(instance) must return a number, "
                                f"it returned {value!r}.") from None
    if bound.quantity == "step_one_margins" and bound.kind == "exact":
        if array.shape != (instance.n, instance.m):
            raise ContractViolation(f"bound {bound.name!r}: value(instance) must return the "
                                    f"(n, m) = {(instance.n, instance.m)} array of margins, it "
                                    f"returned shape {array.shape}.")
    elif array.size != 1:
        raise ContractViolation(f"bound {bound.name!r}: value(instance) must return one number, "
                                f"it returned shape {array.shape}.")
    if not np.all(np.isfinite(array)):
        raise Falsified(f"{bound.name} returned a non-finite value {value!r} where it applies "
                        "(a log-probability of -inf is a bare 0)")
    return value


def _rate_slack(*values: float) -> float:
    # The rate formulas are a few dozen float64 operations on positive summaries with no
    # cancellation (psi's terms are all positive): 64 ulps of the largest magnitude cover them.
    return 64 * EPS * max([1.0] + [abs(v) for v in values])


def _applies(bound: DeclaredBound, instance: Any) -> bool:
    result = _call(bound, "applies", bound.applies, instance)
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        raise ContractViolation(f"bound {bound.name!r}: applies(instance) must return (holds, "
                                f"reason), a pair; it returned {result!r}.")
    return bool(result[0])


def _householder(vector: np.ndarray) -> np.ndarray:
    """The orthogonal reflection :math:`I - 2vv^\\top/\\|v\\|^2` (the identity for v = 0).

    v is scaled by its largest entry first, so that its squared norm neither underflows nor
    overflows; the reflection is then orthogonal to a few ulps.
    """
    top = float(np.max(np.abs(vector))) if vector.size else 0.0
    if top == 0.0:
        return np.eye(vector.size)
    unit = vector / top
    return np.eye(vector.size) - 2.0 * np.outer(unit, unit) / float(unit @ unit)


def _compare_arrays(label: str, first: np.ndarray, second: np.ndarray, slack: np.ndarray) -> None:
    first, second = np.asarray(first, dtype=np.float64), np.asarray(second, dtype=np.float64)
    if first.shape != second.shape:
        raise Falsified(f"{label}: shapes differ, {first.shape} vs {second.shape}")
    excess = np.abs(first - second) - slack
    if np.any(excess > 0):
        index = np.unravel_index(int(np.argmax(excess)), excess.shape)
        raise Falsified(f"{label}: entry {tuple(int(i) for i in index)} differs, "
                        f"{float(first[index])!r} vs {float(second[index])!r} (allowed rounding "
                        f"{np.broadcast_to(slack, excess.shape)[index]:.3g})")


# ---------------------------------------------------------------------------------------------
# Properties of one declared bound


def _strategy_for(bound: DeclaredBound) -> st.SearchStrategy:
    if bound.quantity == "log_error_of_direction":
        return strategies.direction_instances()
    if bound.quantity == "step_one_margins":
        return strategies.step_instances()
    return strategies.any_rate_instances()


def _property(bound: DeclaredBound, name: str, description: str, check, strategy=None) -> Property:
    return Property(bound.name, name, bound.provenance, bound.section, description,
                    strategy if strategy is not None else _strategy_for(bound), check)


def _finite_property(bound: DeclaredBound) -> Property:
    def check(instance: Any) -> bool:
        if not _applies(bound, instance):
            return False
        _finite_value(bound, instance)
        return True

    return _property(bound, "finite", "finite value wherever the statement applies", check)


def _ordering_property(bound: DeclaredBound) -> Property | None:
    if bound.quantity == "log_error_of_direction" and bound.kind in ("upper", "lower", "exact"):
        def check(instance: DirectionInstance) -> bool:
            if not _applies(bound, instance):
                return False
            exact = exact_log_error_interval(instance)
            if exact is None:
                return False
            value = float(_finite_value(bound, instance))
            low, high = exact
            slack = direction_slack(instance, value, low, high)
            if bound.kind in ("upper", "exact") and value < low - slack:
                raise Falsified(f"log bound {value!r} < exact log error {low!r} "
                                f"(rounding slack {slack:.3g}); the bound is below the error")
            if bound.kind in ("lower", "exact") and value > high + slack:
                raise Falsified(f"log bound {value!r} > exact log error {high!r} "
                                f"(rounding slack {slack:.3g}); the bound is above the error")
            return True

        name = {"upper": "upper_bounds_exact", "lower": "lower_bounds_exact",
                "exact": "equals_exact"}[bound.kind]
        return _property(bound, name, f"{bound.kind} statement against the exact error "
                         "(Gaussian: log_ndtr; Rademacher: 2^d enumeration)", check)
    if bound.quantity == "step_one_margins" and bound.kind == "exact":
        def check(instance: StepInstance) -> bool:
            if not _applies(bound, instance):
                return False
            margins, slack = one_step_margins(instance)
            _compare_arrays("step-one margins vs one weight-space GD step",
                            _finite_value(bound, instance), margins, slack)
            return True

        return _property(bound, "equals_exact", "equals the margins after one GD step performed "
                         "in weight space", check)
    if bound.quantity == "step_one_margins" and bound.kind == "sufficient":
        def check(instance: StepInstance) -> bool:
            if not _applies(bound, instance):
                return False
            value = float(_finite_value(bound, instance))
            margins, slack = one_step_margins(instance)
            # The condition's own value is a sum of the same kind of terms as the margins.
            if not value > float(np.max(slack)):
                # The condition does not hold (or not beyond rounding): the statement says nothing
                # here, so the example is replaced rather than counted as a confirmation (about
                # 1 draw in 8 of `step_instances` satisfies the shipped small-init condition).
                return False
            if np.any(margins < -slack):
                k, j = np.unravel_index(int(np.argmin(margins + slack)), margins.shape)
                raise Falsified(
                    f"the condition holds (margin {value:.6g} > 0) but neuron {j} is not correctly "
                    f"activated on sample {k} after one step: s_j y_k <x_k, w_j(1)> = "
                    f"{float(margins[k, j])!r}")
            return True

        return _property(bound, "sufficient_implies_activation", "the condition implies every "
                         "neuron correctly activated after one GD step", check)
    return None


def _reference_property(bound: DeclaredBound) -> Property | None:
    if bound.reference is None:
        return None

    def check(instance: Any) -> bool:
        if not _applies(bound, instance):
            return False
        value = float(_finite_value(bound, instance))
        references = []
        for digits in REFERENCE_DIGITS:
            with mpmath.workdps(digits):
                references.append(mpmath.mpf(_call(bound, "reference", bound.reference, instance, mpmath.mp)))
        coarse, fine = references
        with mpmath.workdps(REFERENCE_DIGITS[-1]):
            if abs(coarse - fine) > REFERENCE_AGREEMENT * (1 + abs(fine)):
                raise Falsified(f"the mpmath reference has not converged: {coarse} at "
                                f"{REFERENCE_DIGITS[0]} digits vs {fine} at {REFERENCE_DIGITS[1]}")
        truth = float(fine)
        if isinstance(instance, DirectionInstance):
            slack = direction_slack(instance, value, truth)
        else:
            slack = _rate_slack(value, truth)
        if abs(value - truth) > slack:
            raise Falsified(f"float64 value {value!r} vs mpmath {truth!r}: difference "
                            f"{abs(value - truth):.3g} exceeds the rounding slack {slack:.3g}")
        return True

    return _property(bound, "mpmath", f"float64 value against its mpmath reference at "
                     f"{REFERENCE_DIGITS[0]} and {REFERENCE_DIGITS[1]} digits", check)


def _transformed(data: DataConfig, parameter: str, factor: float, step: int) -> DataConfig | None:
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


def _monotone_property(bound: DeclaredBound, parameter: str, direction: str) -> Property:
    # Growing d is a statement about isotropic data with mu along e_1 (see _transformed).
    instances = strategies.rate_instances(isotropic=True, mean_direction="e1") if parameter == "d" \
        else strategies.any_rate_instances()
    strategy = st.tuples(instances, strategies.finite_floats(1.0, 4.0), st.integers(1, 1000))

    def check(drawn: tuple[RateInstance, float, int]) -> bool:
        instance, factor, step = drawn
        grown_data = _transformed(instance.data, parameter, factor, step)
        if grown_data is None:
            return False
        grown = RateInstance(grown_data)
        if not (_applies(bound, instance) and _applies(bound, grown)):
            return False
        before, after = float(_finite_value(bound, instance)), float(_finite_value(bound, grown))
        slack = _rate_slack(before, after)
        change = f"{parameter} {'x' + format(factor, '.6g') if parameter == 'signal' else '+' + str(step)}"
        if direction == "nonincreasing" and after > before + slack:
            raise Falsified(f"value rose from {before!r} to {after!r} when {change}, but the "
                            "statement implies it is nonincreasing")
        if direction == "nondecreasing" and after < before - slack:
            raise Falsified(f"value fell from {before!r} to {after!r} when {change}, but the "
                            "statement implies it is nondecreasing")
        return True

    return _property(bound, f"monotone_in_{parameter}",
                     f"{direction} in {parameter} (as the statement implies)", check, strategy)


def _rate_rotation_property(bound: DeclaredBound) -> Property:
    def check(instance: RateInstance) -> bool:
        data = instance.data
        rotatable = data.covariance.family == "isotropic" or (
            data.covariance.family == "spiked" and data.covariance.spike_direction == "mean")
        if data.mean is not None or not rotatable:
            return False
        other = "ones" if data.mean_direction == "e1" else "e1"
        rotated = RateInstance(replace(data, mean_direction=other))
        if not (_applies(bound, instance) and _applies(bound, rotated)):
            return False
        first, second = float(_finite_value(bound, instance)), float(_finite_value(bound, rotated))
        # The "ones" direction carries d roundings in ||mu||^2: (d + 64) ulps.
        slack = (instance.data.d + 64) * EPS * max(1.0, abs(first), abs(second)) * 4
        if abs(first - second) > slack:
            raise Falsified(f"value {first!r} with mu along e1-type direction {data.mean_direction!r} "
                            f"but {second!r} along {other!r}: a rotation of isotropic data changed it")
        return True

    return _property(bound, "rotation_invariant", "invariant when mu is rotated (isotropic or "
                     "mean-spiked covariance)", check)


def _direction_symmetry_property(bound: DeclaredBound) -> Property:
    # The reflection axis has the largest dimension direction_instances draws; a prefix is used.
    strategy = st.tuples(strategies.direction_instances(max_d=8), strategies.nonzero_vectors(8))

    def check(drawn: tuple[DirectionInstance, np.ndarray]) -> bool:
        instance, axis = drawn
        flipped = DirectionInstance(-instance.w, -instance.mu, instance.sqrt_sigma, instance.noise)
        candidates = [("(w, mu) -> (-w, -mu)", flipped)]
        if instance.noise == "gaussian" and np.array_equal(instance.sqrt_sigma, np.eye(instance.d)):
            Q = _householder(axis[: instance.d])
            candidates.append(("rotation (w, mu) -> (Qw, Q mu)",
                               DirectionInstance(Q @ instance.w, Q @ instance.mu, instance.sqrt_sigma,
                                                 instance.noise)))
        if not _applies(bound, instance):
            return False
        value = float(_finite_value(bound, instance))
        # A rotated <Qw, Q mu> errs by at most 16 (d + 2) eps ||w|| ||mu|| (Cauchy-Schwarz, as in
        # `near_kink`); a t that small may change sign under the rotation by rounding alone, so a
        # statement whose hypothesis is t > 0 may then legitimately stop applying.
        t_undecided = abs(instance.t) <= 16.0 * (instance.d + 2) * EPS \
            * float(np.linalg.norm(instance.w) * np.linalg.norm(instance.mu))
        for label, other in candidates:
            if not _applies(bound, other):
                if t_undecided and label.startswith("rotation"):
                    continue
                raise Falsified(f"the statement applies to the instance but not after {label}")
            moved = float(_finite_value(bound, other))
            # Both instances carry their own rounding of x = t/s (Q adds d ulps per coordinate).
            slack = direction_slack(instance, value, moved) + direction_slack(other, value, moved)
            if abs(moved - value) > slack:
                raise Falsified(f"value {value!r} changed to {moved!r} under {label}")
        return True

    return _property(bound, "symmetric", "invariant under (w, mu) -> (-w, -mu) and, for isotropic "
                     "Gaussian noise, rotations", check, strategy)


def near_kink(instance: StepInstance) -> bool:
    """Whether some :math:`H_{ij}(0)` lies within the rounding error of a rotated evaluation of 0.

    :math:`\\varphi'` jumps at 0 (1 for u > 0, gamma otherwise), so the step is discontinuous there:
    a transformation that changes H(0) by rounding (rotation, rescaling) may then legitimately
    change the margins by O(1). A rotated or rescaled length-d dot product errs by at most
    :math:`4(d+2)\\epsilon\\,\\|x_k\\|\\|w_j\\|` (Cauchy–Schwarz bounds the sum of absolute terms
    by the product of norms, whatever the rotation); the factor 4 more covers Q's own rounding.
    """
    d = instance.X.shape[1]
    H0 = instance.X @ instance.W0.T
    norms = np.outer(np.linalg.norm(instance.X, axis=1), np.linalg.norm(instance.W0, axis=1))
    return bool(np.any(np.abs(H0) <= 16.0 * (d + 2) * EPS * norms))


def _step_variants(instance: StepInstance, permutation: list[int], scale: float, axis: np.ndarray):
    """Instances with the same step-one margins up to the stated relabelling (EXACT, §2.5).

    Permutation and the sign symmetry leave every H(0) entry bit-identical; rescaling and rotation
    change it by rounding, so they are left out when an entry sits at the kink of phi (`near_kink`).
    """
    perm = np.array(permutation)
    d = instance.X.shape[1]
    Q = _householder(axis[:d])
    variants = [
        ("permutation of samples", perm, StepInstance(
            instance.X[perm], instance.y[perm], instance.a, instance.W0, instance.gamma, instance.eta)),
        ("sign symmetry (y, a) -> (-y, -a)", slice(None), StepInstance(
            instance.X, -instance.y, -instance.a, instance.W0, instance.gamma, instance.eta)),
    ]
    if near_kink(instance):
        return variants
    return variants + [
        (f"joint rescaling by s = {scale!r} (X s, W0 / s, eta / s^2)", slice(None),
         StepInstance(instance.X * scale, instance.y, instance.a, instance.W0 / scale,
                      instance.gamma, instance.eta / scale**2)),
        ("rotation (X Q, W0 Q)", slice(None), StepInstance(
            instance.X @ Q, instance.y, instance.a, instance.W0 @ Q, instance.gamma, instance.eta)),
    ]


@st.composite
def _step_with_transforms(draw):
    instance = draw(strategies.step_instances())
    permutation = draw(st.permutations(list(range(instance.n))))
    scale = draw(strategies.log_uniform(0.1, 10.0))
    axis = draw(strategies.vectors(instance.X.shape[1], 1.0))
    return instance, permutation, scale, axis


def _step_symmetry_property(bound: DeclaredBound) -> Property:
    def check(drawn) -> bool:
        instance, permutation, scale, axis = drawn
        if not _applies(bound, instance):
            return False
        value = np.asarray(_finite_value(bound, instance), dtype=np.float64)
        _, slack = one_step_margins(instance)
        for label, rows, other in _step_variants(instance, permutation, scale, axis):
            moved = np.asarray(_finite_value(bound, other), dtype=np.float64)
            _, other_slack = one_step_margins(other)
            # Two independent evaluations, each within its own rounding slack of the truth;
            # the rotation adds a length-d product to X and W0 (covered by the factor 2).
            _compare_arrays(f"margins under {label}", value[rows], moved,
                            2.0 * (slack[rows] + other_slack))
        return True

    return _property(bound, "invariances", "equivariant under permutation of samples; invariant "
                     "under (y, a) -> (-y, -a), joint rescaling and rotation", check,
                     _step_with_transforms())


def bound_properties(bound: DeclaredBound) -> list[Property]:
    """Every property that applies to ``bound`` (see the module docstring)."""
    properties = [_finite_property(bound)]
    for candidate in (_ordering_property(bound), _reference_property(bound)):
        if candidate is not None:
            properties.append(candidate)
    for parameter, direction in bound.monotone.items():
        properties.append(_monotone_property(bound, parameter, direction))
    if bound.quantity == "log_error_rate" and "rotation" in bound.symmetries:
        properties.append(_rate_rotation_property(bound))
    if bound.quantity == "log_error_of_direction" and bound.kind == "exact":
        properties.append(_direction_symmetry_property(bound))
    if bound.quantity == "step_one_margins" and bound.kind == "exact":
        properties.append(_step_symmetry_property(bound))
    return properties


# ---------------------------------------------------------------------------------------------
# Library properties: EXACT statements of the toolkit itself


def _moderate_step(config: Config) -> tuple[StepInstance, TrainingConfig]:
    """The sampled problem and a training configuration with a moderate step.

    The step is capped so that :math:`\\eta \\max_i \\|x_i\\|^2 \\le 1/2` (with losses near 1 this
    keeps the first-order step map close to the identity), where rounding differences between two
    evaluations of the same trajectory grow at most geometrically by a factor below 2 per step
    instead of chaotically (docs/theory.md §2.5).
    """
    instance = strategies.sample_step_instance(config)
    radius = float(np.max(np.einsum("ij,ij->i", instance.X, instance.X)))
    eta = min(config.training.step_size, 0.5 / radius) if radius > 0 else config.training.step_size
    steps = min(config.training.max_steps, 12)
    return replace(instance, eta=eta), TrainingConfig(step_size=eta, max_steps=steps, checkpoints=2,
                                                      log_loss_floor=-1e300)


def _trajectory_slack(instance: StepInstance, steps: int, H: np.ndarray) -> np.ndarray:
    # Per step each pre-activation gains a rounding of (n + d + 4) eps times its absolute scale;
    # with the moderate step the accumulated error is at most 2^steps times the per-step error
    # (see _moderate_step), and the absolute scale is bounded by |X||W0| + |H| + 1.
    n, d = instance.X.shape
    base = np.abs(instance.X) @ np.abs(instance.W0).T + np.abs(H) + 1.0
    return 8.0 * (n + d + 4) * EPS * (2.0 ** steps) * steps * base


def _run(instance: StepInstance, training: TrainingConfig, implementation: str = "gram"):
    return train(instance.X, instance.y, instance.a, instance.W0, instance.gamma,
                 replace(training, implementation=implementation))


def _gram_weight_property() -> Property:
    def check(config: Config) -> bool:
        instance, training = _moderate_step(config)
        gram, weight = _run(instance, training, "gram"), _run(instance, training, "weight")
        H = weight.preactivations(instance.X)
        slack = _trajectory_slack(instance, weight.steps_taken, H)
        _compare_arrays("pre-activations, Gram vs weight space", gram.preactivations(instance.X), H,
                        slack)
        # log L = logsumexp(-y f) - log n is 1-Lipschitz in max_i |f_i|, and |f_i| moves by at
        # most sum_j |a_j| |delta H_ij|.
        loss_slack = float(np.max(slack @ np.abs(instance.a))) + 16 * EPS * (1.0 + abs(weight.final.log_loss))
        if abs(gram.final.log_loss - weight.final.log_loss) > loss_slack:
            raise Falsified(f"final log loss {gram.final.log_loss!r} (Gram) vs "
                            f"{weight.final.log_loss!r} (weight space), allowed {loss_slack:.3g}")
        if gram.steps_taken != weight.steps_taken or gram.stop_reason != weight.stop_reason:
            raise Falsified(f"Gram run took {gram.steps_taken} steps ({gram.stop_reason}), weight run "
                            f"{weight.steps_taken} ({weight.stop_reason})")
        return True

    return Property("library", "gram_equals_weight_gd", "EXACT", "§2.5",
                    "Gram-space GD and weight-space GD give the same trajectory",
                    strategies.configs(), check)


@st.composite
def _configs_with_transforms(draw):
    config = draw(strategies.configs())
    permutation = draw(st.permutations(list(range(config.data.n))))
    scale = draw(strategies.log_uniform(0.1, 10.0))
    axis = draw(strategies.vectors(config.data.d, 1.0))
    return config, permutation, scale, axis


def _trajectory_invariance_property() -> Property:
    def check(drawn) -> bool:
        config, permutation, scale, axis = drawn
        instance, training = _moderate_step(config)
        base = _run(instance, training)
        H = base.preactivations(instance.X)
        slack = _trajectory_slack(instance, base.steps_taken, H)
        for label, rows, other in _step_variants(instance, permutation, scale, axis):
            moved_training = replace(training, step_size=other.eta)
            moved = _run(other, moved_training)
            _compare_arrays(f"final pre-activations under {label}", H[rows], moved.preactivations(other.X),
                            2.0 * slack[rows])
            loss_slack = 2.0 * float(np.max(slack)) * (1.0 + abs(base.final.log_loss))
            if abs(moved.final.log_loss - base.final.log_loss) > loss_slack:
                raise Falsified(f"final log loss {base.final.log_loss!r} became "
                                f"{moved.final.log_loss!r} under {label}")
        return True

    return Property("library", "trajectory_invariances", "EXACT", "§2.5",
                    "GD trajectory invariant under permutation of samples, (y, a) -> (-y, -a), "
                    "joint rescaling (X s, W0 / s, eta / s^2) and rotation", _configs_with_transforms(),
                    check)


def _limit_direction_property() -> Property:
    def check(instance: StepInstance) -> bool:
        result = limit_direction(instance.X, instance.y, instance.a, instance.gamma)
        if result.refusal is not None:
            if not isinstance(result.refusal, str) or not result.refusal:
                raise Falsified("a refused limit direction must say why")
            return False
        W = result.weights()
        H = instance.X @ W.T
        network = np.where(H > 0, H, instance.gamma * H) @ instance.a
        margins = instance.y * network
        absX = np.abs(instance.X)
        n, d = instance.X.shape
        # Re-evaluation in weight space differs from the Gram-space certificate by rounding of
        # length-(n + d) products of absolute size |X||W|.
        rounding = 8.0 * (n + d + 4) * EPS * (absX @ np.abs(W).T)
        tolerance = result.certificate.tolerance
        if np.any(result.dual < -tolerance * float(np.max(np.abs(result.dual)))):
            raise Falsified(f"dual infeasible: min lambda = {float(result.dual.min())!r}")
        worst = float(np.min(margins + np.abs(instance.a) @ rounding.T))
        if worst < 1.0 - tolerance:
            raise Falsified(f"certified, but min_i y_i f(x_i; W_hat) = {float(margins.min())!r} < 1 "
                            "when evaluated in weight space")
        pattern = instance.y[:, None] * np.sign(instance.a)[None, :] * H
        if np.any(pattern < -rounding):
            raise Falsified("certified, but s_j y_i <x_i, w_hat_j> < 0 for some (i, j) in weight space")
        total = float(result.dual.sum())
        # The certificate bounds the relative duality gap by `tolerance` (default 1e-9), evaluated
        # in Gram form (sum B * K B); the weight form ||B^T X||_F^2 here differs from it only by
        # the rounding of length-(n + d) sums, a few (n + d) eps relative (d <= 60 here): the
        # extra 1e3 n eps (>= 4e-13) covers it and is far below the tolerance.
        if abs(float(np.sum(W * W)) - total) > (tolerance + 1e3 * n * EPS) * total:
            raise Falsified(f"strong duality fails: ||W_hat||^2 = {float(np.sum(W * W))!r} vs "
                            f"sum lambda = {total!r}")
        return True

    return Property("library", "limit_direction_certificate", "EXACT", "§2.2",
                    "a certified limit direction re-checked in weight space through the real network",
                    strategies.step_instances(), check)


@st.composite
def _balanced_with_points(draw):
    config = draw(strategies.configs(balanced=True))
    instance = strategies.sample_step_instance(config)
    points = draw(st.lists(strategies.vectors(config.data.d, 4.0), min_size=1, max_size=5))
    return instance, np.array(points).reshape(len(points), config.data.d)


def _linear_boundary_property() -> Property:
    def check(drawn) -> bool:
        instance, points = drawn
        result = limit_direction(instance.X, instance.y, instance.a, instance.gamma)
        if result.refusal is not None:
            return False
        W, w_bar = result.weights(), result.linear_direction
        candidates = np.vstack([instance.X, points])
        H = candidates @ W.T
        f = np.where(H > 0, H, instance.gamma * H) @ instance.a
        linear = candidates @ w_bar
        d = instance.X.shape[1]
        # sign f = sign <w_bar, x> is exact; only points within rounding of the boundary
        # (|<w_bar, x>| below (d + n + 8) eps |x||w_bar| times a factor 8) are left undecided.
        undecided = np.abs(linear) <= 8.0 * (d + instance.n + 8) * EPS * (np.abs(candidates) @ np.abs(w_bar))
        wrong = (np.sign(f) != np.sign(linear)) & ~undecided
        if np.any(wrong):
            k = int(np.argmax(wrong))
            raise Falsified(f"point {k}: f(x; W_hat) = {float(f[k])!r} but <w_bar, x> = "
                            f"{float(linear[k])!r}")
        return True

    return Property("library", "linear_boundary", "EXACT", "§2.3",
                    "balanced neurons: sign f(x; W_hat) = sign <w_bar, x> at every point",
                    _balanced_with_points(), check)


@st.composite
def _gaussian_directions_and_bayes(draw):
    instance = draw(strategies.direction_instances(noises=("gaussian",)))
    if draw(st.booleans()):
        # The Bayes direction Sigma^{-1} mu attains the floor: the sharpest case of the inequality.
        S = instance.sqrt_sigma
        instance = DirectionInstance(np.linalg.solve(S @ S, instance.mu), instance.mu, S, "gaussian")
    return instance


def _bayes_floor_property() -> Property:
    def check(instance: DirectionInstance) -> bool:
        # For t <= 0 the error is at least 1/2, trivially above the Bayes error.
        if instance.s == 0.0 or not instance.t > 0:
            return False
        sigma = instance.sigma
        error = log_gaussian_error_of_direction(instance.w, instance.mu, sigma)
        bayes = log_bayes_error(instance.mu, sigma)
        eigenvalues = np.linalg.eigvalsh(sigma)
        mahalanobis = float(instance.mu @ np.linalg.solve(sigma, instance.mu))
        # The Mahalanobis norm from an eigendecomposition is accurate to a relative
        # 16 d eps cond(Sigma); log Phi(-sqrt M) moves by at most (M + sqrt M + 2) times that
        # (as in direction_slack, with x^2 = M); the direction's own error adds direction_slack.
        condition = float(eigenvalues[-1] / eigenvalues[0])
        slack = (mahalanobis + math.sqrt(mahalanobis) + 2.0 * (1.0 + abs(bayes))) \
            * 16.0 * (instance.d + 2) * EPS * condition + direction_slack(instance, error, bayes)
        if error < bayes - slack:
            raise Falsified(f"log error of the direction {error!r} is below the log Bayes error "
                            f"{bayes!r} (slack {slack:.3g})")
        return True

    return Property("library", "bayes_floor", "EXACT", "§2.4",
                    "every direction's exact Gaussian error is at least the Bayes error "
                    "(bounds.error_functionals; Cauchy-Schwarz)", _gaussian_directions_and_bayes(),
                    check)


def _log_ndtr_property() -> Property:
    def check(x: float) -> bool:
        value = float(log_ndtr(-x))
        references = []
        for digits in REFERENCE_DIGITS:
            with mpmath.workdps(digits):
                references.append(mpmath.log(mpmath.erfc(mpmath.mpf(x) / mpmath.sqrt(2)) / 2))
        with mpmath.workdps(REFERENCE_DIGITS[-1]):
            if abs(references[0] - references[1]) > REFERENCE_AGREEMENT * (1 + abs(references[1])):
                raise Falsified("mpmath reference did not converge")
        truth = float(references[1])
        # scipy's log_ndtr is accurate to a few ulps of its value over the whole line.
        if not math.isfinite(value) or abs(value - truth) > 16 * EPS * max(1.0, abs(truth)):
            raise Falsified(f"log_ndtr(-{x!r}) = {value!r}, mpmath gives {truth!r}")
        return True

    return Property("library", "log_ndtr_vs_mpmath", "EXACT", "§2.4",
                    "log Phi(-x) from scipy.special.log_ndtr against mpmath at escalating precision",
                    strategies.finite_floats(-30.0, 1e5), check)


def _clopper_pearson_property() -> Property:
    strategy = st.tuples(st.integers(1, 300), strategies.finite_floats(1e-6, 1.0 - 1e-6),
                         strategies.finite_floats(0.5, 0.999))

    def check(drawn) -> bool:
        n, p, confidence = drawn
        intervals = [clopper_pearson(k, n, confidence) for k in range(n + 1)]
        ends = np.array(intervals)
        # beta.ppf is accurate to ~1e-12 relative; a p that close to an end point is undecidable.
        if np.any(np.abs(ends - p) <= 1e-10 * p):
            return False
        covered = [k for k, (low, high) in enumerate(intervals) if low <= p <= high]
        coverage = float(binom.pmf(covered, n, p).sum()) if covered else 0.0
        # Summing at most 301 probabilities: (n + 1) eps of rounding; 1e-12 is far above it.
        if coverage < confidence - 1e-12:
            raise Falsified(f"exact coverage {coverage!r} < nominal {confidence!r} at n = {n}, p = {p!r}")
        return True

    return Property("library", "clopper_pearson_coverage", "EXACT", "§7",
                    "exact coverage (by summation over k) of the Clopper-Pearson interval >= nominal",
                    strategy, check)


def library_properties() -> list[Property]:
    """The EXACT properties of the toolkit itself (see the module docstring)."""
    return [_gram_weight_property(), _trajectory_invariance_property(), _limit_direction_property(),
            _linear_boundary_property(), _bayes_floor_property(), _log_ndtr_property(),
            _clopper_pearson_property()]


# ---------------------------------------------------------------------------------------------
# Running


def _describe(instance: Any) -> tuple[dict, str | None]:
    """Raw values of an instance, and the TOML of the configuration it maps to (if any)."""
    if isinstance(instance, tuple):
        raws, toml = [], None
        for part in instance:
            raw, part_toml = _describe(part)
            raws.append(raw)
            toml = toml or part_toml
        return {"parts": raws}, toml
    if isinstance(instance, Config):
        return {"config": "see TOML"}, config_to_toml(instance)
    if isinstance(instance, np.ndarray):
        return {"array": instance.tolist()}, None
    if isinstance(instance, (int, float, str, list)):
        return {"value": instance}, None
    raw = instance.raw() if hasattr(instance, "raw") else {"repr": repr(instance)}
    if isinstance(instance, StepInstance):
        config = instance.config
        return raw, None if config is None else config_to_toml(config)
    if isinstance(instance, DirectionInstance):
        header = "# The data model of the counterexample; the direction w is in the raw values.\n"
        return raw, header + config_to_toml(instance.to_config())
    if isinstance(instance, RateInstance):
        return raw, config_to_toml(instance.to_config())
    return raw, None


def validate_run_options(profile: str, seed: Any) -> None:
    if profile not in PROFILES:
        raise UserInputError(f"--profile = {profile!r} is not allowed: it must be one of "
                             f"{', '.join(PROFILES)}.")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise UserInputError(f"--seed = {seed!r} is not allowed: it must be an integer >= 0.")


def run_property(prop: Property, *, profile: str = "quick", seed: int = 0) -> PropertyOutcome:
    """Search for a counterexample to ``prop``; deterministic for a given profile and seed."""
    validate_run_options(profile, seed)
    counts = {"examples": 0, "applicable": 0}
    last: dict[str, Any] = {}

    @settings(settings.get_profile(profile))
    @hypothesis_seed(seed)
    @given(prop.strategy)
    def search(instance):
        # Hypothesis replays the shrunk failing example last, so `last` ends on it.
        last["instance"] = instance
        counts["examples"] += 1
        if not prop.check(instance):
            # Outside the statement's hypotheses: ask for another instance, so that the profile's
            # example count is spent on instances the statement speaks about.
            reject()
        counts["applicable"] += 1

    def outcome(status: str, message: str, counterexample: Counterexample | None = None):
        return PropertyOutcome(prop.subject, prop.name, prop.provenance, prop.section, status,
                               counts["examples"], counts["applicable"], message, counterexample)

    def counterexample(detail: str) -> Counterexample:
        raw, toml = _describe(last.get("instance"))
        return Counterexample(detail, raw, toml, last.get("instance"))

    try:
        search()
    except ContractViolation:
        raise  # bad input (the declaration), reported by the command line with exit status 2
    except Falsified as failure:
        return outcome("falsified", prop.description, counterexample(str(failure)))
    except Unsatisfiable:
        return outcome("vacuous", f"{prop.description}: no generated instance satisfied the "
                       "statement's hypotheses, nothing was tested")
    except HypothesisException as error:
        return outcome("error", f"the search failed: {type(error).__name__}: {error}")
    except Exception as error:  # a bound that raises on a valid instance is itself falsified
        return outcome("falsified", prop.description,
                       counterexample(f"raised {type(error).__name__}: {error}"))
    if counts["applicable"] == 0:
        return outcome("vacuous", f"{prop.description}: no generated instance satisfied the "
                       "statement's hypotheses, nothing was tested")
    return outcome("passed", prop.description)


def run_properties(bounds: list[DeclaredBound], *, library: bool, profile: str = "quick",
                   seed: int = 0,
                   on_outcome: Callable[[PropertyOutcome], None] | None = None) -> list[PropertyOutcome]:
    """Run every property of every bound (and the library properties when ``library``).

    ``on_outcome`` is called with each outcome as soon as it is known (for streaming output).
    """
    validate_run_options(profile, seed)
    properties = [p for bound in bounds for p in bound_properties(bound)]
    if library:
        properties += library_properties()
    outcomes = []
    for prop in properties:
        outcome = run_property(prop, profile=profile, seed=seed)
        outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)
    return outcomes


def load_bounds_module(spec: str) -> list[DeclaredBound]:
    """The ``BOUNDS`` list of a user module, given as a file path or a dotted module name."""
    path = Path(spec)
    try:
        if path.suffix == ".py" or path.exists():
            if path.is_dir():
                raise UserInputError(f"--module = {spec!r} is a directory: give a Python file "
                                     "(.py) or a dotted module name.")
            if not path.is_file():
                raise UserInputError(f"--module = {spec!r}: no such file.")
            name = f"theorybench_user_bounds_{abs(hash(str(path.resolve())))}"
            module_spec = importlib.util.spec_from_file_location(name, path)
            if module_spec is None:  # no import loader for this file type
                raise UserInputError(f"--module = {spec!r} is not a Python file (.py).")
            module = importlib.util.module_from_spec(module_spec)
            sys.modules[name] = module
            module_spec.loader.exec_module(module)
        else:
            module = importlib.import_module(spec)
    except UserInputError:
        raise
    except ModuleNotFoundError as error:
        raise UserInputError(f"--module = {spec!r} cannot be imported: {error}.") from None
    except Exception as error:  # the user's module failed while loading
        raise UserInputError(f"--module = {spec!r} failed while loading: {type(error).__name__}: "
                             f"{error}.") from None
    bounds = getattr(module, "BOUNDS", None)
    if not isinstance(bounds, (list, tuple)) or not bounds:
        raise UserInputError(f"--module = {spec!r} must define BOUNDS, a non-empty list of "
                             "bounds.catalogue.DeclaredBound.")
    for item in bounds:
        if not isinstance(item, DeclaredBound):
            raise UserInputError(f"--module = {spec!r}: BOUNDS contains {item!r}, which is not a "
                                 "bounds.catalogue.DeclaredBound.")
    names = [b.name for b in bounds]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise UserInputError(f"--module = {spec!r}: bound names must be unique; repeated: "
                             f"{', '.join(duplicates)}.")
    return list(bounds)


def select_bound(bounds: list[DeclaredBound], name: str) -> list[DeclaredBound]:
    """The bound called ``name`` (UserInputError listing the available names otherwise)."""
    for bound in bounds:
        if bound.name == name:
            return [bound]
    raise UserInputError(f"--bound = {name!r} is not a declared bound; available: "
                         f"{', '.join(b.name for b in bounds)}.")


def shipped_bounds() -> list[DeclaredBound]:
    return list(BOUNDS)


def format_outcome(outcome: PropertyOutcome) -> str:
    """One line per property, and the counterexample (detail, raw values, TOML) under a failure."""
    label = {"passed": "PASS", "falsified": "FAIL", "vacuous": "VACUOUS", "error": "ERROR"}[outcome.status]
    line = (f"{label:8s}{outcome.subject} :: {outcome.name}  [{outcome.provenance}, docs/theory.md "
            f"{outcome.section}]  {outcome.applicable}/{outcome.examples} examples applied")
    if outcome.status in ("vacuous", "error"):
        line += f"\n        {outcome.message}"
    example = outcome.counterexample
    if example is None:
        return line
    lines = [line, f"        property: {outcome.message}", f"        falsified: {example.detail}",
             "        shrunk counterexample, raw values:"]
    lines += [f"          {key} = {value!r}" for key, value in example.raw.items()]
    if example.toml is not None:
        lines.append("        as a configuration (theorybench check accepts it):")
        lines += ["          " + row for row in example.toml.rstrip().splitlines()]
    return "\n".join(lines)
