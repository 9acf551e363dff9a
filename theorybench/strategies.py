"""Hypothesis strategies for theorybench: valid configurations, data, directions, covariances.

Public, for the property suite (`theorybench.proptest`, ``tests/test_properties.py``) and for users
who test their own bounds. Every strategy generates *valid objects by construction* (a
configuration that `theorybench.config` accepts, a covariance that is positive semi-definite
because it is built as :math:`BB^\\top + \\operatorname{diag}(\\delta)`), with bounded finite
float64 values, and shrinks towards small, round instances (few samples, low dimension, unit
scales) so that a counterexample is readable.

Regime variants (docs/theory.md §3–§5) are *targeted* through the population parameters; whether a
sample-level condition (Case 1, Case 2) holds on a particular draw is then likely, not certain, and
properties that need it check it on the instance:

- ``weak`` / ``strong``: the regime indicator :math:`r = n\\mu^\\top\\Sigma\\mu/\\operatorname{Tr}\\Sigma^2`
  is set in :math:`[10^{-3}, 1/4]` or :math:`[4, 100]` by solving for ``signal``;
- ``case1``: :math:`\\|\\mu\\|^2 = c\\sqrt{2\\operatorname{Tr}\\Sigma^2\\log(n^2)}` with
  :math:`c \\in [3, 8]` (positive correlation of all pairs, typically);
- ``case2``: isotropic, :math:`d = c\\max(n\\|\\mu\\|^2, n^2\\log n)` with :math:`c \\in [4, 8]`
  (near orthogonality, typically);
- ``heavy_tails``: Student-t noise with :math:`\\nu \\in [2.5, 30]` (finite variance; infinite
  fourth moment for :math:`\\nu \\le 4`).
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from bounds.catalogue import DirectionInstance, RateInstance, StepInstance
from theorybench.config import (
    Config,
    CovarianceConfig,
    DataConfig,
    EvaluationConfig,
    NetworkConfig,
    NoiseConfig,
    TrainingConfig,
)
from theorybench.covariance import covariance_summary
from theorybench.sampling import sample_run

REGIMES = ("any", "weak", "strong", "case1", "case2", "heavy_tails")
MAX_SEED = 2**32 - 1
# The largest dimension of a direction instance (2^d Rademacher sign vectors stay cheap).
MAX_DIRECTION_DIMENSION = 8
# x = t/s with x^2/2 in [700, 750]: exp(-x^2/2) is subnormal or 0 in float64 while its log is
# an ordinary number, the band where a formula that forms exp before log loses precision.
SUBNORMAL_EXPONENT_BAND = (math.sqrt(2.0 * 700.0), math.sqrt(2.0 * 750.0))
# x = t/s beyond 1e150, where (t/s)^2 is near overflow and the §2.4 bounds switch to log(t/s)
# (bounds.error_functionals.LARGE_RATIO); x^2 < 1e306 stays finite.
HUGE_RATIO_BAND = (1e150, 1e153)


def finite_floats(min_value: float, max_value: float) -> st.SearchStrategy[float]:
    """Finite float64 in ``[min_value, max_value]``: no nan, no inf, no subnormals."""
    return st.floats(min_value=min_value, max_value=max_value, allow_nan=False,
                     allow_infinity=False, allow_subnormal=False)


def log_uniform(low: float, high: float) -> st.SearchStrategy[float]:
    """``10**e`` with ``e`` uniform-ish in ``[log10 low, log10 high]``: scale parameters.

    Shrinks towards ``10**0 = 1`` when the range contains 1, else towards the end nearer to 1.
    """
    lo, hi = math.log10(low), math.log10(high)
    return finite_floats(lo, hi).map(lambda e: min(max(10.0**e, low), high))


def vectors(d: int, bound: float = 4.0, *, tiny: float = 1e-6) -> st.SearchStrategy[np.ndarray]:
    """float64 vectors of length d with entries 0 or of magnitude in ``[tiny, bound]``.

    Magnitudes below ``tiny`` are mapped to 0, so that squared norms never underflow (an instance
    whose norm is not representable is not a statement about the theory); shrinks towards 0.
    """
    entry = finite_floats(-bound, bound).map(lambda v: v if abs(v) >= tiny else 0.0)
    return st.lists(entry, min_size=d, max_size=d).map(lambda values: np.array(values, dtype=np.float64))


def nonzero_vectors(d: int, bound: float = 4.0) -> st.SearchStrategy[np.ndarray]:
    """Like `vectors`, never the zero vector (shrinks towards ``e_1``-like vectors)."""
    return vectors(d, bound).filter(lambda v: bool(np.any(v != 0.0)))


@st.composite
def psd_square_roots(draw, d: int, *, isotropic: bool | None = None) -> np.ndarray:
    """A symmetric positive definite ``S = C C^T + diag(delta)``, ``delta_i in [0.1, 2]``.

    Used as :math:`\\Sigma^{1/2}` (so :math:`\\Sigma = S^2` has S as its exact symmetric square root,
    with no eigendecomposition). ``isotropic=True`` gives the identity; None mixes both.
    """
    if isotropic is None:
        isotropic = draw(st.booleans())
    if isotropic:
        return np.eye(d)
    rank = draw(st.integers(0, d))
    C = np.array(draw(st.lists(vectors(rank, 1.0), min_size=d, max_size=d)), dtype=np.float64)
    C = C.reshape(d, rank)
    delta = np.array(draw(st.lists(finite_floats(0.1, 2.0), min_size=d, max_size=d)))
    S = C @ C.T + np.diag(delta)
    # Exact symmetry: the two triangles of C @ C.T may differ in the last bit.
    return 0.5 * (S + S.T)


@st.composite
def covariance_matrices(draw, d: int) -> np.ndarray:
    """A symmetric positive definite :math:`\\Sigma = BB^\\top + \\operatorname{diag}(\\delta)`."""
    S = draw(psd_square_roots(d, isotropic=False))
    sigma = S @ S
    return 0.5 * (sigma + sigma.T)


@st.composite
def direction_instances(draw, *, max_d: int = 8, noises: tuple[str, ...] = ("gaussian", "rademacher"),
                        isotropic: bool | None = None) -> DirectionInstance:
    """A `DirectionInstance`: w, mu, Sigma^{1/2}, noise family (docs/theory.md §2.4).

    ``mu`` is scaled by a factor in ``[1e-2, 1e2]`` so that :math:`x = t/s` ranges from the bulk to
    the far tail (log errors down to about -1e5); in three draws of four w is the unit vector along
    ``mu`` plus a perturbation scaled by a factor in ``[1e-3, 1]``,
    so that :math:`t > 0` (where the §2.4 bounds apply) is common. ``max_d`` <= 12 keeps the
    Rademacher enumeration of :math:`2^d` sign vectors cheap.
    """
    d = draw(st.integers(1, max_d))
    noise = draw(st.sampled_from(noises))
    mu = draw(nonzero_vectors(d)) * draw(log_uniform(1e-2, 1e2))
    perturbation = draw(vectors(d)) * draw(log_uniform(1e-3, 1.0))
    w = mu / np.linalg.norm(mu) + perturbation if draw(st.integers(0, 3)) else perturbation
    if not np.any(w != 0.0):
        w = mu.copy()
    return DirectionInstance(w=w, mu=mu, sqrt_sigma=draw(psd_square_roots(d, isotropic=isotropic)),
                             noise=noise)


@st.composite
def tail_direction_instances(draw, *, max_d: int = MAX_DIRECTION_DIMENSION,
                             noises: tuple[str, ...] = ("gaussian", "rademacher")) -> DirectionInstance:
    """Direction instances in the tails, where the §2.4 formulas change branch or precision.

    The signal-to-noise ratio :math:`x = t/s` is set exactly (by rescaling mu) to a log-uniform
    value in :math:`[10^{-4}, 10^{5}]`, inside `SUBNORMAL_EXPONENT_BAND`, or in `HUGE_RATIO_BAND`;
    then the data model :math:`(\\mu, S)` is scaled by :math:`10^u` and w by :math:`10^v`, u and v
    uniform in [-100, 100] with :math:`|u + v| \\le 140` (x is unchanged: the quantity is
    scale-free, docs/theory.md §2.4; s and t stay representable with their squares).
    """
    d = draw(st.integers(1, max_d))
    noise = draw(st.sampled_from(noises))
    S = draw(psd_square_roots(d))
    mu = draw(nonzero_vectors(d))
    w = mu / float(np.max(np.abs(mu))) + draw(vectors(d)) * draw(log_uniform(1e-6, 1.0))
    t, s = float(w @ mu), float(np.linalg.norm(S @ w))
    if not (t > 0 and s > 0):
        w = mu.copy()
        t, s = float(w @ mu), float(np.linalg.norm(S @ w))
    x = draw(st.one_of(log_uniform(1e-4, 1e5), finite_floats(*SUBNORMAL_EXPONENT_BAND),
                       log_uniform(*HUGE_RATIO_BAND)))
    u = draw(finite_floats(-100.0, 100.0))
    v = min(max(draw(finite_floats(-100.0, 100.0)), -140.0 - u), 140.0 - u)
    data_scale, direction_scale = 10.0**u, 10.0**v
    return DirectionInstance(w=w * direction_scale, mu=mu * (x * s / t) * data_scale,
                             sqrt_sigma=S * data_scale, noise=noise)


def _signal_for_regime_indicator(data: DataConfig, r: float) -> float:
    # r = n mu'Sigma mu / Tr Sigma^2 is quadratic in signal: solve at signal = 1 and rescale.
    unit = covariance_summary(DataConfig(**{**_fields(data), "signal": 1.0}))
    return math.sqrt(r * unit.trace_of_square / (data.n * unit.mean_sigma_mean))


def _fields(data: DataConfig) -> dict:
    return {name: getattr(data, name) for name in data.__dataclass_fields__}


@st.composite
def covariance_configs(draw, *, isotropic: bool | None = None) -> CovarianceConfig:
    """Isotropic, power-law (alpha in [0, 2]) or spiked (theta in [0, 10]) covariance families."""
    if isotropic or (isotropic is None and draw(st.booleans())):
        return CovarianceConfig()
    if draw(st.booleans()):
        return CovarianceConfig(family="power_law", alpha=draw(finite_floats(0.0, 2.0)))
    return CovarianceConfig(family="spiked", spike_strength=draw(finite_floats(0.0, 10.0)),
                            spike_direction=draw(st.sampled_from(("mean", "e1"))))


@st.composite
def noise_configs(draw, *, heavy_tails: bool = False) -> NoiseConfig:
    """Gaussian (half the draws: most statements are Gaussian), Rademacher, uniform or Student-t
    noise; ``heavy_tails`` gives Student-t only. Shrinks towards Gaussian."""
    family = "student_t" if heavy_tails else draw(
        st.sampled_from(("gaussian", "gaussian", "gaussian", "rademacher", "uniform", "student_t")))
    if family == "student_t":
        return NoiseConfig(family=family, nu=draw(finite_floats(2.5, 30.0)))
    return NoiseConfig(family=family)


@st.composite
def data_configs(draw, regime: str = "any", *, max_n: int = 200, max_d: int = 10_000,
                 isotropic: bool | None = None, noise: str | None = None,
                 mean_direction: str | None = None) -> DataConfig:
    """A valid `DataConfig` in the requested regime (see the module docstring).

    ``noise`` fixes the noise family (Student-t draws nu); otherwise it is drawn (``heavy_tails``:
    Student-t). ``mean_direction`` fixes ``e1`` or ``ones``. Label noise is always 0: every
    encoded theorem assumes clean labels (§8).
    """
    if regime not in REGIMES:
        raise ValueError(f"regime = {regime!r}: it must be one of {', '.join(REGIMES)}")
    # Case 2 needs d ~ n^2 log n: n <= 20 keeps d below ~10^4.
    n = draw(st.integers(2, min(max_n, 20) if regime == "case2" else max_n))
    if noise is not None:
        noise_config = NoiseConfig(family=noise, nu=8.0 if noise == "student_t" else None)
    else:
        noise_config = draw(noise_configs(heavy_tails=regime == "heavy_tails"))
    direction = mean_direction or draw(st.sampled_from(("e1", "ones")))
    if regime == "case2":
        signal = draw(finite_floats(0.0, 3.0))
        d = math.ceil(draw(finite_floats(4.0, 8.0)) * max(n * signal**2, n * n * math.log(n), 1.0))
        return DataConfig(n=n, d=d, signal=signal, mean_direction=direction,
                          noise=noise_config)
    d = draw(st.integers(1, max_d))
    covariance = draw(covariance_configs(isotropic=isotropic))
    data = DataConfig(n=n, d=d, signal=1.0, mean_direction=direction, covariance=covariance,
                      noise=noise_config)
    if regime == "weak":
        signal = _signal_for_regime_indicator(data, draw(log_uniform(1e-3, 0.25)))
    elif regime == "strong":
        signal = _signal_for_regime_indicator(data, draw(log_uniform(4.0, 100.0)))
    elif regime == "case1":
        trace_of_square = covariance_summary(data).trace_of_square
        signal = math.sqrt(draw(finite_floats(3.0, 8.0))
                           * math.sqrt(2.0 * trace_of_square * math.log(n * n)))
    else:
        signal = draw(log_uniform(1e-2, 30.0))
    return DataConfig(**{**_fields(data), "signal": signal})


@st.composite
def network_configs(draw, *, max_m: int = 8, balanced: bool | None = None) -> NetworkConfig:
    """m in [1, max_m] (even when balanced), gamma in [0.05, 0.95], init scale in [0, 1]."""
    if balanced is None:
        balanced = draw(st.booleans())
    if balanced:
        m = 2 * draw(st.integers(1, max(max_m // 2, 1)))
        m_positive = None
    else:
        m = draw(st.integers(1, max_m))
        m_positive = draw(st.integers(0, m))
    return NetworkConfig(m=m, m_positive=m_positive, gamma=draw(finite_floats(0.05, 0.95)),
                         init_scale=draw(st.one_of(st.just(0.0), log_uniform(1e-6, 1.0))))


@st.composite
def configs(draw, regime: str = "any", *, max_n: int = 12, max_d: int = 60, max_m: int = 8,
            balanced: bool | None = None) -> Config:
    """A small valid `Config` (cheap to sample and to train a few steps) in the given regime.

    The initialisation scale is drawn *relative to the first step's size*: with
    :math:`\\rho \\in [10^{-3}, 10]`, :math:`\\omega = \\rho\\,\\eta\\gamma R/(n\\sqrt m)` and
    :math:`R^2 = \\|\\mu\\|^2 + \\operatorname{Tr}\\Sigma`, so both sides of the step-one criterion
    (docs/theory.md §3) are exercised, including the borderline where some pairs flip.
    """
    data = draw(data_configs(regime, max_n=max_n, max_d=max_d))
    network = draw(network_configs(max_m=max_m, balanced=balanced))
    eta = draw(log_uniform(1e-3, 1.0))
    radius = math.sqrt(data.signal**2 + covariance_summary(data).trace)
    ratio = draw(log_uniform(1e-3, 10.0))
    omega = ratio * eta * network.gamma * radius / (data.n * math.sqrt(network.m))
    network = NetworkConfig(m=network.m, m_positive=network.m_positive, gamma=network.gamma,
                            init_scale=omega)
    training = TrainingConfig(step_size=eta, max_steps=draw(st.integers(1, 20)), checkpoints=2,
                              implementation="gram")
    return Config(data=data, network=network, training=training,
                  evaluation=EvaluationConfig(test_points=1000),
                  seed=draw(st.integers(0, MAX_SEED)))


def sample_step_instance(config: Config) -> StepInstance:
    """The `StepInstance` that ``config`` and its seed produce through `theorybench.sampling`."""
    training_set, W0 = sample_run(config.data, config.network, config.seed)
    return StepInstance(X=training_set.X, y=training_set.y, a=config.network.second_layer(), W0=W0,
                        gamma=config.network.gamma, eta=config.training.step_size, config=config)


def training_problems(regime: str = "any", **sizes) -> st.SearchStrategy[StepInstance]:
    """Training sets with initialisations, sampled from a `configs` draw (reproducible by its TOML)."""
    return configs(regime, **sizes).map(sample_step_instance)


@st.composite
def raw_training_problems(draw, *, max_n: int = 5, max_d: int = 4, max_m: int = 4) -> StepInstance:
    """Hand-built training problems: hypothesis chooses every coordinate (adversarial corners).

    Entries of X in [-3, 3], of W0 in [-1, 1] times a scale in [1e-4, 1]; any signs of the second
    layer (a_j = ±1/sqrt m). |f(x; W0)| <= 3 d sqrt(m) stays far from exp overflow (docs/theory.md §2.6).
    """
    n = draw(st.integers(2, max_n))
    d = draw(st.integers(1, max_d))
    m = draw(st.integers(1, max_m))
    X = np.array(draw(st.lists(vectors(d, 3.0), min_size=n, max_size=n))).reshape(n, d)
    y = np.array(draw(st.lists(st.sampled_from((1.0, -1.0)), min_size=n, max_size=n)))
    signs = np.array(draw(st.lists(st.sampled_from((1.0, -1.0)), min_size=m, max_size=m)))
    W0 = np.array(draw(st.lists(vectors(d, 1.0), min_size=m, max_size=m))).reshape(m, d)
    W0 = W0 * draw(log_uniform(1e-4, 1.0))
    return StepInstance(X=X, y=y, a=signs / math.sqrt(m), W0=W0,
                        gamma=draw(finite_floats(0.05, 0.95)), eta=draw(log_uniform(1e-3, 1.0)))


@st.composite
def tail_training_problems(draw, *, max_n: int = 6, max_d: int = 5, max_m: int = 5) -> StepInstance:
    """Hand-built training problems in the corners where the step-one statements change branch.

    gamma log-uniform down to 1e-6; very unequal classes (all labels equal but possibly one) and
    neurons (all second-layer signs equal but possibly one); near-duplicate points (a point
    repeated with a relative perturbation down to 1e-12) or points in general position; the
    initialisation scale log-uniform over [1e-8, 1] and the step over [1e-6, 10].
    """
    n = draw(st.integers(2, max_n))
    d = draw(st.integers(1, max_d))
    m = draw(st.integers(1, max_m))
    X = np.array(draw(st.lists(nonzero_vectors(d, 3.0), min_size=n, max_size=n))).reshape(n, d)
    if draw(st.booleans()):
        source, target = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
        X[target] = X[source] * (1.0 + draw(log_uniform(1e-12, 1e-3)))
    majority = draw(st.sampled_from((1.0, -1.0)))
    y = np.full(n, majority)
    if draw(st.booleans()):
        y[draw(st.integers(0, n - 1))] = -majority
    signs = np.full(m, draw(st.sampled_from((1.0, -1.0))))
    if m > 1 and draw(st.booleans()):
        signs[draw(st.integers(0, m - 1))] *= -1.0
    W0 = np.array(draw(st.lists(vectors(d, 1.0), min_size=m, max_size=m))).reshape(m, d)
    W0 = W0 * draw(log_uniform(1e-8, 1.0))
    return StepInstance(X=X, y=y, a=signs / math.sqrt(m), W0=W0,
                        gamma=draw(log_uniform(1e-6, 0.95)), eta=draw(log_uniform(1e-6, 10.0)))


def step_instances() -> st.SearchStrategy[StepInstance]:
    """Sampled (`training_problems`, any regime or Case 1), hand-built and tail problems, mixed."""
    return st.one_of(training_problems("any"), training_problems("case1"), raw_training_problems(),
                     tail_training_problems())


def rate_instances(regime: str = "any", **kwargs) -> st.SearchStrategy[RateInstance]:
    """Population settings for rate statements (no sampling: d up to 2000 by default, d >> n)."""
    return data_configs(regime, **{"max_d": 2000, **kwargs}).map(RateInstance)


def any_rate_instances(**kwargs) -> st.SearchStrategy[RateInstance]:
    """Rate settings across every regime variant (``kwargs`` as for `data_configs`)."""
    return st.one_of(*(rate_instances(regime, **kwargs) for regime in REGIMES))
