"""The proptest contract for a bound, its instance types, and the shipped bounds it declares.

A *declared bound* is one statement about one *quantity* of one *instance*, in a form that the
property runner (`theorybench.proptest`) can confront with computation:

- ``kind = "upper"``: ``value(instance)`` is the natural logarithm of an upper bound on the
  quantity (quantities that are probabilities are compared in log space);
- ``kind = "lower"``: the logarithm of a lower bound;
- ``kind = "exact"``: the quantity itself (a float, or an array for ``step_one_margins``);
- ``kind = "sufficient"``: a margin whose positivity is claimed to imply the quantity's event
  (for ``step_one_margins``: every neuron correctly activated after one step).

``applies(instance) -> (bool, reason)`` states the bound's hypotheses; the runner confronts only
the instances where they hold. ``monotone`` declares the monotonicity the statement implies
(``{"signal": "nonincreasing", ...}``) and ``symmetries`` the invariances it implies
(``("rotation",)``); exact statements inherit every symmetry of their quantity. ``reference``,
when given, is the same formula written in mpmath (``reference(instance, mp) -> mpf``), against
which the float64 value is checked at escalating precision.

Quantities and their instances (docs/theory.md sections in brackets):

========================== ==================== =====================================================
quantity                   instance             exact value available to the runner
========================== ==================== =====================================================
``log_error_of_direction`` `DirectionInstance`  Gaussian: ``log_ndtr`` (§2.4); Rademacher: enumeration
                                                of the :math:`2^d` sign vectors
``step_one_margins``       `StepInstance`       one gradient-descent step performed in weight space
                                                (§2.5, §3)
``log_error_rate``         `RateInstance`       none (a population rate, RECONSTRUCTED §4–§6):
                                                monotonicity and symmetry only
========================== ==================== =====================================================

A user's module declares ``BOUNDS = [DeclaredBound(...), ...]`` with the same contract and is run
with ``theorybench proptest --module PATH`` (docs/proptest.md).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bounds import symbolic
from bounds.contract import Sample
from bounds.error_functionals import (
    log_best_conditional_bound,
    log_cantelli_bound,
    log_fourth_moment_bound,
    log_gaussian_error_of_direction,
    log_sub_gaussian_bound,
)
from bounds.rates import absolute_moment, default_moment_order, parameter_values
from bounds.theorem_4_8 import sample_values, step_one
from theorybench.config import Config, CovarianceConfig, DataConfig, NoiseConfig
from theorybench.covariance import CovarianceSummary, covariance_summary
from theorybench.errors import UserInputError
from theorybench.network import leaky_relu

PROVENANCES = ("EXACT", "PAPER", "RECONSTRUCTED", "PRIOR", "BEYOND", "DERIVED")
KINDS = ("upper", "lower", "exact", "sufficient")
QUANTITIES = ("log_error_of_direction", "step_one_margins", "log_error_rate")
MONOTONE_PARAMETERS = ("signal", "n", "d")
MONOTONE_DIRECTIONS = ("nonincreasing", "nondecreasing")
SYMMETRIES = ("rotation",)

_HALF_LOG_TWO_PI = 0.5 * math.log(2.0 * math.pi)


# ---------------------------------------------------------------------------------------------
# Instances


@dataclass(frozen=True, eq=False)
class DirectionInstance:
    """A linear classifier ``g(x) = <w, x>`` and the law of a fresh pair (docs/theory.md §1, §2.4).

    The pair is ``x = y mu + S xi`` with ``y = ±1`` equally likely, ``S = Sigma^{1/2}`` symmetric
    positive semi-definite and ``xi`` i.i.d. zero-mean unit-variance coordinates of the named family.
    The quantity ``log_error_of_direction`` is :math:`\\log P(y\\langle w, x\\rangle \\le 0)`; for
    a symmetric noise law it equals :math:`\\log P(\\langle b, \\xi\\rangle \\le -t)` with
    :math:`t = \\langle w, \\mu\\rangle` and :math:`b = S w`.

    Attributes
    ----------
    w, mu : numpy.ndarray
        (d,) float64.
    sqrt_sigma : numpy.ndarray
        (d, d) symmetric PSD ``S``; ``Sigma = S @ S``.
    noise : str
        ``gaussian`` or ``rademacher`` (both symmetric, with exact errors available).
    """

    w: np.ndarray
    mu: np.ndarray
    sqrt_sigma: np.ndarray
    noise: str = "gaussian"

    @property
    def d(self) -> int:
        return int(self.w.size)

    @property
    def t(self) -> float:
        """:math:`t = \\langle w, \\mu\\rangle`, the signal of the direction."""
        return float(self.w @ self.mu)

    @property
    def b(self) -> np.ndarray:
        """:math:`b = \\Sigma^{1/2} w`, the noise loading: :math:`\\langle w, z\\rangle = \\langle b, \\xi\\rangle`."""
        return self.sqrt_sigma @ self.w

    @property
    def s(self) -> float:
        """:math:`s = \\|\\Sigma^{1/2} w\\|`, the noise standard deviation of the direction."""
        return float(np.linalg.norm(self.b))

    @property
    def sigma(self) -> np.ndarray:
        return self.sqrt_sigma @ self.sqrt_sigma

    def noise_config(self) -> NoiseConfig:
        return NoiseConfig(family=self.noise)

    def kurtosis(self) -> float:
        """E xi^4 of the noise family (EXACT, docs/theory.md §1)."""
        return self.noise_config().kurtosis()

    def variance_proxy(self) -> float | None:
        """The sub-Gaussian variance proxy of the noise family (EXACT, docs/theory.md §1)."""
        return self.noise_config().sub_gaussian_variance_proxy()

    def to_config(self) -> Config:
        """The data model of the instance as a configuration (n, m and training at defaults)."""
        sigma = self.sigma
        # Exact symmetry for the configuration's check: S @ S is symmetric only up to rounding.
        sigma = 0.5 * (sigma + sigma.T)
        data = DataConfig(
            d=self.d,
            mean=tuple(float(v) for v in self.mu),
            covariance=CovarianceConfig(family="user",
                                        matrix=tuple(tuple(float(v) for v in row) for row in sigma)),
            noise=self.noise_config(),
        )
        return Config(data=data)

    def raw(self) -> dict[str, Any]:
        return {"noise": self.noise, "w": self.w.tolist(), "mu": self.mu.tolist(),
                "sqrt_sigma": self.sqrt_sigma.tolist(), "t": self.t, "s": self.s}


@dataclass(frozen=True, eq=False)
class StepInstance:
    """A training set, a second layer, an initialisation and a step (docs/theory.md §2.5, §3).

    The quantity ``step_one_margins`` is the (n, m) array
    :math:`s_j y_k \\langle x_k, w_j(1)\\rangle` after one full-batch GD step on the exponential
    loss; neuron j is correctly activated on sample k after step one iff its entry is > 0.

    Attributes
    ----------
    X : numpy.ndarray
        (n, d) points.
    y : numpy.ndarray
        (n,) labels in {+1, -1}.
    a : numpy.ndarray
        (m,) second layer, entries ±1/sqrt(m).
    W0 : numpy.ndarray
        (m, d) initialisation.
    gamma, eta : float
        Leaky-ReLU slope and step size.
    config : Config or None
        The configuration whose seed reproduces ``X, y, W0`` through `theorybench.sampling`, when
        the instance was drawn that way; None for hand-built instances.
    """

    X: np.ndarray
    y: np.ndarray
    a: np.ndarray
    W0: np.ndarray
    gamma: float
    eta: float
    config: Config | None = None

    @property
    def n(self) -> int:
        return int(self.X.shape[0])

    @property
    def m(self) -> int:
        return int(self.a.size)

    def initial_log_losses(self) -> np.ndarray:
        """:math:`\\log \\ell_i(0) = -y_i f(x_i; W(0))` (docs/theory.md §2.6)."""
        H = self.X @ self.W0.T
        f = leaky_relu(H, self.gamma) @ self.a
        return -self.y * f

    def case_one(self) -> bool:
        """Case 1 of Theorem 4.8 on the sample: :math:`\\langle y_i x_i, y_k x_k\\rangle \\ge 0`."""
        signed = self.y[:, None] * self.X
        return bool(np.all(signed @ signed.T >= 0.0))

    def raw(self) -> dict[str, Any]:
        return {"X": self.X.tolist(), "y": self.y.tolist(), "a": self.a.tolist(),
                "W0": self.W0.tolist(), "gamma": self.gamma, "eta": self.eta}


@dataclass(frozen=True, eq=False)
class RateInstance:
    """A population setting for a rate statement (docs/theory.md §4–§6): the data model alone."""

    data: DataConfig

    def summary(self) -> CovarianceSummary:
        return covariance_summary(self.data)

    def to_config(self) -> Config:
        return Config(data=self.data)

    def raw(self) -> dict[str, Any]:
        s = self.summary()
        return {"n": self.data.n, "d": self.data.d, "mean_norm_sq": s.mean_norm_sq,
                "mean_sigma_mean": s.mean_sigma_mean, "trace": s.trace,
                "trace_of_square": s.trace_of_square, "operator_norm": s.operator_norm}


INSTANCE_TYPES: dict[str, type] = {
    "log_error_of_direction": DirectionInstance,
    "step_one_margins": StepInstance,
    "log_error_rate": RateInstance,
}


# ---------------------------------------------------------------------------------------------
# The contract


def always_applies(instance: Any) -> tuple[bool, str]:
    """The hypotheses of a statement that has none."""
    return True, "no hypotheses"


@dataclass(frozen=True)
class DeclaredBound:
    """One statement in the proptest contract (see the module docstring and docs/proptest.md).

    Attributes
    ----------
    name : str
        Unique identifier (``--bound NAME``).
    kind : str
        ``upper``, ``lower``, ``exact`` or ``sufficient``.
    provenance : str
        docs/theory.md §0 label.
    section : str
        docs/theory.md section, e.g. ``"§2.4"``.
    quantity : str
        One of `QUANTITIES`.
    statement : str
        The mathematics in one line.
    value : callable
        ``value(instance)``: a float (log of a bound, or the exact quantity, or a margin) or, for
        an exact ``step_one_margins`` statement, the (n, m) array.
    applies : callable
        ``applies(instance) -> (bool, reason)``: the statement's hypotheses.
    monotone : mapping
        Parameter (``signal``, ``n``, ``d``) -> ``nonincreasing`` | ``nondecreasing``: the
        monotonicity the statement implies (``log_error_rate`` only; ``d`` for isotropic data).
    symmetries : tuple of str
        Invariances the statement implies (``rotation``: of isotropic data).
    reference : callable or None
        ``reference(instance, mp) -> mpmath number``: the same formula in mpmath.
    constants : mapping
        The universal constants used, by name (docs/theory.md §0: explicit, default 1).
    """

    name: str
    kind: str
    provenance: str
    section: str
    quantity: str
    statement: str
    value: Callable[[Any], Any]
    applies: Callable[[Any], tuple[bool, str]] = always_applies
    monotone: Mapping[str, str] = field(default_factory=dict)
    symmetries: tuple[str, ...] = ()
    reference: Callable[[Any, Any], Any] | None = None
    constants: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        where = f"bound {self.name!r}"
        if not isinstance(self.name, str) or not self.name:
            raise UserInputError(f"a declared bound's name = {self.name!r} must be a non-empty string.")
        for attribute, allowed in (("kind", KINDS), ("provenance", PROVENANCES),
                                   ("quantity", QUANTITIES)):
            given = getattr(self, attribute)
            if given not in allowed:
                raise UserInputError(
                    f"{where}: {attribute} = {given!r} is not allowed: it must be one of "
                    f"{', '.join(allowed)}.")
        if not callable(self.value) or not callable(self.applies):
            raise UserInputError(f"{where}: value and applies must be callables of one instance.")
        if self.reference is not None and not callable(self.reference):
            raise UserInputError(f"{where}: reference = {self.reference!r} must be a callable or None.")
        # Mappings and tuples are iterated below: a list or a bare string there would be read
        # element by element (a string as its letters) and give a misleading message.
        for attribute, example in (("monotone", "{'signal': 'nonincreasing'}"),
                                   ("constants", "{'C': 1.0}")):
            if not isinstance(getattr(self, attribute), Mapping):
                raise UserInputError(f"{where}: {attribute} = {getattr(self, attribute)!r} must be "
                                     f"a mapping, e.g. {example}.")
        if isinstance(self.symmetries, str) or not isinstance(self.symmetries, (tuple, list)):
            raise UserInputError(f"{where}: symmetries = {self.symmetries!r} must be a tuple of "
                                 "names, e.g. ('rotation',).")
        for parameter, direction in self.monotone.items():
            if parameter not in MONOTONE_PARAMETERS or direction not in MONOTONE_DIRECTIONS:
                raise UserInputError(
                    f"{where}: monotone = {{{parameter!r}: {direction!r}}} is not allowed: parameters "
                    f"are {', '.join(MONOTONE_PARAMETERS)} and directions "
                    f"{', '.join(MONOTONE_DIRECTIONS)}.")
        if self.monotone and self.quantity != "log_error_rate":
            raise UserInputError(f"{where}: monotone is only meaningful for quantity 'log_error_rate'.")
        for symmetry in self.symmetries:
            if symmetry not in SYMMETRIES:
                raise UserInputError(
                    f"{where}: symmetry {symmetry!r} is not allowed: it must be one of "
                    f"{', '.join(SYMMETRIES)}.")
        if self.kind in ("upper", "lower") and self.quantity == "step_one_margins":
            raise UserInputError(
                f"{where}: kind = {self.kind!r} does not fit quantity 'step_one_margins'; use "
                "'exact' (the margins) or 'sufficient' (a condition that implies activation).")
        if self.kind == "sufficient" and self.quantity != "step_one_margins":
            raise UserInputError(f"{where}: kind 'sufficient' needs quantity 'step_one_margins'.")


# ---------------------------------------------------------------------------------------------
# Gaussian tails and the conditional bounds of §2.4 (EXACT), in log space


def _positive_signal(instance: DirectionInstance) -> tuple[bool, str]:
    t, s = instance.t, instance.s
    if not t > 0:
        return False, f"<w, mu> = {t:.3g} is not > 0"
    if not s > 0:
        return False, "||Sigma^{1/2} w|| = 0 (the direction carries no noise)"
    return True, f"<w, mu> = {t:.3g} > 0 and ||Sigma^(1/2) w|| = {s:.3g} > 0"


def _gaussian_positive_signal(instance: DirectionInstance) -> tuple[bool, str]:
    if instance.noise != "gaussian":
        return False, f"noise is {instance.noise}, not gaussian"
    return _positive_signal(instance)


def _sub_gaussian_positive_signal(instance: DirectionInstance) -> tuple[bool, str]:
    if instance.variance_proxy() is None:
        return False, f"noise {instance.noise} is not sub-Gaussian"
    return _positive_signal(instance)


def log_gaussian_error(instance: DirectionInstance) -> float:
    """:math:`\\log \\Phi(-t/s)` by `bounds.error_functionals.log_gaussian_error_of_direction`.

    EXACT (docs/theory.md §2.4), from :math:`w`, :math:`\\mu` and :math:`\\Sigma = S^2`.
    """
    return log_gaussian_error_of_direction(instance.w, instance.mu, instance.sigma)


def _ratio(instance: DirectionInstance) -> float:
    return instance.t / instance.s


def log_mills_upper(instance: DirectionInstance) -> float:
    """:math:`\\log[\\varphi(x)/x]`, :math:`x = t/s > 0`: :math:`\\Phi(-x) \\le \\varphi(x)/x`.

    EXACT (textbook Mills-ratio bound, docs/theory.md §2.4 Gaussian case).
    """
    x = _ratio(instance)
    return -0.5 * x * x - _HALF_LOG_TWO_PI - math.log(x)


def log_mills_lower(instance: DirectionInstance) -> float:
    """:math:`\\log[\\varphi(x)\\,x/(1+x^2)] \\le \\log \\Phi(-x)` for :math:`x = t/s > 0`.

    EXACT (Gordon 1941, docs/theory.md §2.4 Gaussian case). ``log1p`` keeps :math:`\\log(1+x^2)` exact
    for small x.
    """
    x = _ratio(instance)
    return -0.5 * x * x - _HALF_LOG_TWO_PI + math.log(x) - math.log1p(x * x)


def log_chernoff_upper(instance: DirectionInstance) -> float:
    """:math:`\\log[\\tfrac12 e^{-x^2/2}] \\ge \\log\\Phi(-x)` for :math:`x = t/s \\ge 0`.

    EXACT (the Chernoff bound with the classical factor one half).
    """
    x = _ratio(instance)
    return -math.log(2.0) - 0.5 * x * x


def log_sub_gaussian_upper(instance: DirectionInstance) -> float:
    """:math:`-t^2 / (2 \\sigma_\\psi^2 s^2)` by `bounds.error_functionals.log_sub_gaussian_bound`.

    EXACT (docs/theory.md §2.4), for t > 0 and sub-Gaussian noise.
    """
    return log_sub_gaussian_bound(instance.t, instance.s, instance.variance_proxy()).log_value


def log_cantelli_upper(instance: DirectionInstance) -> float:
    """:math:`\\log[s^2/(s^2+t^2)]` by `bounds.error_functionals.log_cantelli_bound` (EXACT, §2.4)."""
    return log_cantelli_bound(instance.t, instance.s).log_value


def log_fourth_moment_upper(instance: DirectionInstance) -> float:
    """:math:`\\log[(3\\|b\\|_2^4 + (\\kappa_4-3)\\|b\\|_4^4)/t^4]`, Markov on the fourth moment,
    by `bounds.error_functionals.log_fourth_moment_bound` (EXACT, docs/theory.md §2.4)."""
    return log_fourth_moment_bound(instance.t, instance.b, instance.kurtosis()).log_value


def log_best_conditional_upper(instance: DirectionInstance) -> float:
    """The minimum of the valid §2.4 bounds, by `bounds.error_functionals.log_best_conditional_bound`.

    EXACT (docs/theory.md §2.4: "report the minimum of the valid bounds").
    """
    return log_best_conditional_bound(instance.t, instance.b, proxy=instance.variance_proxy(),
                                      kurtosis=instance.kurtosis())


# mpmath references: the same formulas from the stored float64 inputs at the context's precision.


def _mp_ratio(instance: DirectionInstance, mp: Any) -> Any:
    w = [mp.mpf(float(v)) for v in instance.w]
    mu = [mp.mpf(float(v)) for v in instance.mu]
    t = mp.fsum(wi * mi for wi, mi in zip(w, mu))
    b = _mp_loading(instance, mp)
    return t / mp.sqrt(mp.fsum(bi * bi for bi in b))


def _mp_loading(instance: DirectionInstance, mp: Any) -> list:
    w = [mp.mpf(float(v)) for v in instance.w]
    return [mp.fsum(mp.mpf(float(sij)) * wj for sij, wj in zip(row, w)) for row in instance.sqrt_sigma]


def mp_log_gaussian_error(instance: DirectionInstance, mp: Any) -> Any:
    """mpmath reference of `log_gaussian_error`: :math:`\\log(\\tfrac12\\operatorname{erfc}(x/\\sqrt2))`."""
    x = _mp_ratio(instance, mp)
    return mp.log(mp.erfc(x / mp.sqrt(2)) / 2)


def _mp_log_phi(x: Any, mp: Any) -> Any:
    return -x * x / 2 - mp.log(2 * mp.pi) / 2


def _mp_mills_upper(instance: DirectionInstance, mp: Any) -> Any:
    x = _mp_ratio(instance, mp)
    return _mp_log_phi(x, mp) - mp.log(x)


def _mp_mills_lower(instance: DirectionInstance, mp: Any) -> Any:
    x = _mp_ratio(instance, mp)
    return _mp_log_phi(x, mp) + mp.log(x) - mp.log(1 + x * x)


def _mp_chernoff_upper(instance: DirectionInstance, mp: Any) -> Any:
    x = _mp_ratio(instance, mp)
    return mp.log(mp.mpf(1) / 2) - x * x / 2


def _mp_sub_gaussian_upper(instance: DirectionInstance, mp: Any) -> Any:
    x = _mp_ratio(instance, mp)
    return -x * x / (2 * mp.mpf(instance.variance_proxy()))


def _mp_cantelli_upper(instance: DirectionInstance, mp: Any) -> Any:
    x = _mp_ratio(instance, mp)
    return -mp.log(1 + x * x)


def _mp_fourth_moment_upper(instance: DirectionInstance, mp: Any) -> Any:
    b = _mp_loading(instance, mp)
    two = mp.fsum(bi**2 for bi in b)
    four = mp.fsum(bi**4 for bi in b)
    t = mp.fsum(mp.mpf(float(wi)) * mp.mpf(float(mi)) for wi, mi in zip(instance.w, instance.mu))
    return mp.log(3 * two * two + (mp.mpf(instance.kurtosis()) - 3) * four) - 4 * mp.log(t)


def _mp_best_conditional_upper(instance: DirectionInstance, mp: Any) -> Any:
    candidates = [_mp_cantelli_upper(instance, mp), _mp_fourth_moment_upper(instance, mp)]
    if instance.variance_proxy() is not None:
        candidates.append(_mp_sub_gaussian_upper(instance, mp))
    return min(candidates)


# ---------------------------------------------------------------------------------------------
# The step-one activation criterion (docs/theory.md §3), from `bounds.theorem_4_8`


def _sample(instance: StepInstance) -> Sample:
    return Sample(X=instance.X, y=instance.y, W0=instance.W0, a=instance.a, gamma=instance.gamma,
                  eta=instance.eta)


def step_one_criterion(instance: StepInstance) -> np.ndarray:
    """The EXACT step-one criterion of docs/theory.md §3 as computed by `bounds.theorem_4_8.step_one`.

    .. math:: s_j y_k \\langle x_k, w_j(1)\\rangle = s_j y_k H_{kj}(0)
              + \\frac{\\eta}{n}|a_j| \\sum_i \\ell_i(0)\\, \\varphi'(H_{ij}(0))\\, y_i y_k K_{ki}

    (:math:`|a_j| = 1/\\sqrt m`). `step_one` returns the margins divided by
    :math:`\\max_i \\ell_i(0)`; `bounds.theorem_4_8.StepOne.margins` restores the factor, as for the
    row ``init`` of `check` (``step_one_min`` is the smallest entry), so the value is the quantity.
    """
    return step_one(_sample(instance)).margins()


def small_initialisation_margin(instance: StepInstance) -> float:
    """The DERIVED small-initialisation condition of docs/theory.md §3 (`bounds.theorem_4_8`), as a margin.

    .. math:: \\frac{\\eta}{n\\sqrt m} S_{\\min} - \\max_{k,j}|\\langle x_k, w_j(0)\\rangle| > 0
              \\;\\Rightarrow\\; \\text{every neuron correctly activated after step one},

    :math:`S_{\\min} = \\min_k(\\gamma\\ell_k(0)\\|x_k\\|^2 - \\sum_{i\\ne k}\\ell_i(0)(y_iy_kK_{ki})_-)`,
    which in Case 1 is the specification's :math:`\\gamma\\min_k \\ell_k(0)\\|x_k\\|^2`. The declared
    statement ``small_init_sample`` of `bounds.symbolic`, evaluated at the values of
    `bounds.theorem_4_8.sample_values`, as `check`'s row ``init_sufficient`` evaluates it: one form.
    """
    lhs, rhs = symbolic.statement("small_init_sample").evaluate(sample_values(_sample(instance)))
    return float(rhs - lhs)


# ---------------------------------------------------------------------------------------------
# Rates of Theorems 5.1 / 6.2 / 6.3 and prior bounds (RECONSTRUCTED / PRIOR, docs/theory.md §4–§6),
# evaluated from the sympy statements of `bounds.symbolic` (the mpmath reference is the same
# expression lambdified for mpmath).


def _rate_values(instance: RateInstance, constants: Mapping[str, float]) -> dict[str, float]:
    values = parameter_values(instance.to_config())
    values["moment_order"] = default_moment_order(instance.data.noise)
    values.update(constants)
    return values


def _symbolic_value(statement_name: str, constants: Mapping[str, float], *, probability_cap: bool):
    # probability_cap: the statement bounds a probability, so min(1, bound) is the same statement;
    # it keeps the log finite where the formula is +inf (psi^(-q/2) at psi = 0, i.e. mu = 0).
    expression = symbolic.statement(statement_name)

    def value(instance: RateInstance) -> float:
        log_value = float(expression.evaluate(_rate_values(instance, constants)))
        return min(0.0, log_value) if probability_cap else log_value

    def reference(instance: RateInstance, mp: Any) -> Any:
        log_value = expression.evaluate_mp(_rate_values(instance, constants), digits=mp.dps)[0]
        return min(mp.mpf(0), log_value) if probability_cap else log_value

    return value, reference


def _alt_value(constants: Mapping[str, float]):
    exponent = symbolic.statement("psi_alt")

    def value(instance: RateInstance) -> float:
        values = _rate_values(instance, constants)
        return math.log(values["C_u"]) - values["c_u"] * float(exponent.evaluate(values))

    def reference(instance: RateInstance, mp: Any) -> Any:
        values = _rate_values(instance, constants)
        psi_alt = exponent.evaluate_mp(values, digits=mp.dps)[0]
        return mp.log(mp.mpf(values["C_u"])) - mp.mpf(values["c_u"]) * psi_alt

    return value, reference


def _gaussian_data(instance: RateInstance) -> tuple[bool, str]:
    family = instance.data.noise.family
    if family != "gaussian":
        return False, f"noise is {family}; the statement is for Gaussian mixtures"
    if instance.data.label_flip != 0.0:
        return False, "label noise is BEYOND the theorems (docs/theory.md §8)"
    return True, "Gaussian mixture without label noise"


def _sub_gaussian_data(instance: RateInstance) -> tuple[bool, str]:
    if instance.data.noise.sub_gaussian_variance_proxy() is None:
        return False, f"noise {instance.data.noise.family} is not sub-Gaussian"
    if instance.data.label_flip != 0.0:
        return False, "label noise is BEYOND the theorems (docs/theory.md §8)"
    return True, "sub-Gaussian noise without label noise"


def _isotropic_sub_gaussian(instance: RateInstance) -> tuple[bool, str]:
    holds, reason = _sub_gaussian_data(instance)
    if holds and instance.data.covariance.family != "isotropic":
        return False, "the prior bound is stated for isotropic noise"
    return holds, reason


def _isotropic_gaussian(instance: RateInstance) -> tuple[bool, str]:
    holds, reason = _gaussian_data(instance)
    if holds and instance.data.covariance.family != "isotropic":
        return False, "the Bayes-order statement is for isotropic noise"
    return holds, reason


def _finite_moment(instance: RateInstance) -> tuple[bool, str]:
    noise = instance.data.noise
    order = default_moment_order(noise)
    if not math.isfinite(absolute_moment(noise, order)):
        return False, f"E|xi|^{order:g} is infinite for noise {noise.family}"
    if instance.data.label_flip != 0.0:
        return False, "label noise is BEYOND the theorems (docs/theory.md §8)"
    return True, f"E|xi|^{order:g} finite"


# signal up => error bound down; n up => down; d up (isotropic) => up: docs/theory.md §4 (psi increases
# in ||mu|| and n and decreases in d for Sigma = I), likewise for every prior exponent of §6.
_RATE_MONOTONE = {"signal": "nonincreasing", "n": "nonincreasing", "d": "nondecreasing"}


def _rate_bound(name, kind, provenance, section, statement, statement_name, applies, constants,
                *, probability_cap: bool = False) -> DeclaredBound:
    if statement_name == "psi_alt":
        value, reference = _alt_value(constants)
    else:
        value, reference = _symbolic_value(statement_name, constants, probability_cap=probability_cap)
    return DeclaredBound(name=name, kind=kind, provenance=provenance, section=section,
                         quantity="log_error_rate", statement=statement, value=value,
                         applies=applies, monotone=dict(_RATE_MONOTONE), symmetries=("rotation",),
                         reference=reference, constants=dict(constants))


# ---------------------------------------------------------------------------------------------
# The shipped bounds


def _direction_bound(name, kind, statement, value, applies, reference) -> DeclaredBound:
    return DeclaredBound(name=name, kind=kind, provenance="EXACT", section="§2.4",
                         quantity="log_error_of_direction", statement=statement, value=value,
                         applies=applies, reference=reference)


BOUNDS: list[DeclaredBound] = [
    _direction_bound("gaussian_error_exact", "exact",
                     "err(w) = Phi(-<w,mu>/||Sigma^(1/2) w||) for Gaussian noise",
                     log_gaussian_error, _gaussian_positive_signal, mp_log_gaussian_error),
    _direction_bound("gaussian_mills_upper", "upper", "Phi(-x) <= phi(x)/x, x = t/s > 0",
                     log_mills_upper, _gaussian_positive_signal, _mp_mills_upper),
    _direction_bound("gaussian_mills_lower", "lower", "Phi(-x) >= phi(x) x/(1+x^2), x = t/s > 0",
                     log_mills_lower, _gaussian_positive_signal, _mp_mills_lower),
    _direction_bound("gaussian_chernoff_upper", "upper", "Phi(-x) <= exp(-x^2/2)/2, x = t/s >= 0",
                     log_chernoff_upper, _gaussian_positive_signal, _mp_chernoff_upper),
    _direction_bound("sub_gaussian_upper", "upper",
                     "err(w) <= exp(-t^2/(2 sigma_psi^2 s^2)), t > 0",
                     log_sub_gaussian_upper, _sub_gaussian_positive_signal, _mp_sub_gaussian_upper),
    _direction_bound("cantelli_upper", "upper", "err(w) <= s^2/(s^2+t^2), t > 0",
                     log_cantelli_upper, _positive_signal, _mp_cantelli_upper),
    _direction_bound("fourth_moment_upper", "upper",
                     "err(w) <= (3||b||_2^4 + (kappa_4-3)||b||_4^4)/t^4, b = Sigma^(1/2) w, t > 0",
                     log_fourth_moment_upper, _positive_signal, _mp_fourth_moment_upper),
    _direction_bound("best_conditional_upper", "upper", "err(w) <= min of the valid §2.4 bounds",
                     log_best_conditional_upper, _positive_signal, _mp_best_conditional_upper),
    DeclaredBound(
        name="step_one_criterion", kind="exact", provenance="EXACT", section="§3",
        quantity="step_one_margins",
        statement="s_j y_k <x_k, w_j(1)> = s_j y_k H_kj(0) + (eta/n)|a_j| sum_i l_i(0) "
                  "phi'(H_ij(0)) y_i y_k K_ki",
        value=step_one_criterion),
    DeclaredBound(
        name="small_initialisation", kind="sufficient", provenance="DERIVED", section="§3",
        quantity="step_one_margins",
        statement="max|<x_k, w_j(0)>| < eta/(n sqrt m) S_min => every neuron correctly "
                  "activated after step one",
        value=small_initialisation_margin),
    _rate_bound("theorem_5_1_upper", "upper", "RECONSTRUCTED", "§4",
                "err <= C_u exp(-c_u psi), psi = n||mu||^4/(n mu'Sigma mu + Tr Sigma^2)",
                "log_upper_5_1", _gaussian_data, {"C_u": 1.0, "c_u": 1.0}),
    _rate_bound("theorem_5_1_lower", "lower", "RECONSTRUCTED", "§4",
                "err >= c_l exp(-C_l psi) (Gaussian)", "log_lower_5_1", _gaussian_data,
                {"c_l": 1.0, "C_l": 1.0}),
    _rate_bound("theorem_5_1_alt_upper", "upper", "RECONSTRUCTED", "§4",
                "err <= C_u exp(-c_u psi_alt), psi_alt = n||mu||^4/(n||mu||^2 ||Sigma|| + "
                "||Sigma|| Tr Sigma)", "psi_alt", _gaussian_data, {"C_u": 1.0, "c_u": 1.0}),
    _rate_bound("theorem_6_2_upper", "upper", "RECONSTRUCTED", "§5",
                "err <= C_sg exp(-c_sg psi/sigma_psi^2) (sub-Gaussian; Theorem 6.2, likely)",
                "log_upper_6_2", _sub_gaussian_data, {"C_sg": 1.0, "c_sg": 1.0}),
    _rate_bound("theorem_6_3_upper", "upper", "RECONSTRUCTED", "§5",
                "err <= min(1, C_K psi^(-q/2)), E|xi|^q finite, q in (2, 4] (Theorem 6.3)",
                "log_upper_6_3", _finite_moment, {"C_K": 1.0}, probability_cap=True),
    _rate_bound("bayes_order_upper", "upper", "RECONSTRUCTED", "§5",
                "err <= C_B exp(-c_B ||mu||^2) (strong regime, isotropic Gaussian)",
                "log_bayes_order", _isotropic_gaussian, {"C_B": 1.0, "c_B": 1.0}),
    _rate_bound("chatterji_long_upper", "upper", "PRIOR", "§6",
                "err <= p + exp(-c ||mu||^4/d) (isotropic sub-Gaussian)", "log_chatterji_long",
                _isotropic_sub_gaussian, {"c_CL": 1.0}),
    _rate_bound("frei_upper", "upper", "PRIOR", "§6",
                "err <= p + exp(-n ||mu||^4/(C d)) (sub-Gaussian)", "log_frei",
                _isotropic_sub_gaussian, {"C_F": 1.0}),
    _rate_bound("cao_gu_belkin_upper", "upper", "PRIOR", "§6",
                "err <= exp(-C n||mu||^4/(n mu'Sigma mu + ||Sigma||_F^2 + n||Sigma||^2))",
                "log_cao_gu_belkin", _sub_gaussian_data, {"C_CGB": 1.0}),
]
