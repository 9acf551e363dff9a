"""Samplers of the data model (theorybench.noise, theorybench.sampling; docs/theory.md §1).

Moments are tested with intervals, never fixed tolerances. Each interval below has level
1 - 1e-6 (z = 4.8916 for a two-sided normal interval), so that all the checks of this file together
fail by chance with probability below ~1e-4 (Bonferroni over < 100 checks); exact (Clopper–Pearson
or chi-square) intervals are used wherever the statistic's law is known exactly.
"""

import math
import sys
import textwrap

import numpy as np
import pytest
from scipy.stats import chi2, norm
from scipy.stats import t as student_t

from theorybench.config import CovarianceConfig, DataConfig, NetworkConfig, NoiseConfig
from theorybench.errors import UserInputError
from theorybench.noise import sample_noise, student_t_scale
from theorybench.sampling import (
    sample_initialisation,
    sample_test_set,
    sample_training_set,
    streams,
)
from theorybench.stats import clopper_pearson

LEVEL = 1 - 1e-6
Z = norm.ppf(1 - (1 - LEVEL) / 2)


def _rng(*key):
    return np.random.default_rng(np.random.SeedSequence(list(key)))


def _assert_mean_in_clt_interval(samples, expected, variance):
    """|mean - expected| <= z sqrt(variance / N): the CLT interval at level LEVEL."""
    half_width = Z * math.sqrt(variance / samples.size)
    assert abs(samples.mean() - expected) <= half_width, (samples.mean(), expected, half_width)


# (family config, E xi^4): the fourth moment gives Var(xi^2) = E xi^4 - 1 for the variance check.
FAMILIES = [
    (NoiseConfig(), 3.0),
    (NoiseConfig(family="uniform"), 9 / 5),
    (NoiseConfig(family="student_t", nu=10.0), 3 + 6 / (10 - 4)),
    (NoiseConfig(family="rademacher"), 1.0),
]


@pytest.mark.parametrize("noise,kurtosis", FAMILIES, ids=lambda v: getattr(v, "family", ""))
def test_noise_has_zero_mean_and_unit_variance(noise, kurtosis):
    xi = sample_noise(noise, _rng(1, len(noise.family)), (400, 500))
    assert xi.dtype == np.float64 and xi.shape == (400, 500)
    _assert_mean_in_clt_interval(xi.ravel(), 0.0, 1.0)
    if noise.family == "rademacher":
        assert np.all(np.abs(xi) == 1.0)  # unit variance exactly
    else:
        _assert_mean_in_clt_interval(xi.ravel() ** 2, 1.0, kurtosis - 1.0)
    assert noise.kurtosis() == pytest.approx(kurtosis, rel=1e-15)


def test_rademacher_signs_are_fair_by_an_exact_interval():
    xi = sample_noise(NoiseConfig(family="rademacher"), _rng(2), (10**6,))
    lower, upper = clopper_pearson(int(np.count_nonzero(xi > 0)), xi.size, LEVEL)
    assert lower <= 0.5 <= upper


def test_uniform_support_and_student_t_standardisation():
    xi = sample_noise(NoiseConfig(family="uniform"), _rng(3), (10**5,))
    assert np.all(np.abs(xi) <= math.sqrt(3))
    for nu in (2.5, 3.0, 5.0, 30.0):
        # scipy's own variance of t_nu is nu / (nu - 2): the scale must make it exactly 1.
        assert student_t_scale(nu) ** 2 * student_t(nu).var() == pytest.approx(1.0, rel=1e-14)


def test_student_t_unit_variance_by_simulation_at_nu_5():
    # nu = 5: E xi^4 = 3 + 6/(5 - 4) = 9 is finite, so the CLT interval for mean(xi^2) is valid.
    xi = sample_noise(NoiseConfig(family="student_t", nu=5.0), _rng(4), (2 * 10**6,))
    _assert_mean_in_clt_interval(xi**2, 1.0, 9.0 - 1.0)


DATA = [
    DataConfig(n=40000, d=3, signal=1.5, mean_direction="ones", class_balance=0.3,
               covariance=CovarianceConfig(family="spiked", spike_strength=3.0),
               noise=NoiseConfig(family="rademacher")),
    DataConfig(n=40000, d=3, signal=2.0, covariance=CovarianceConfig(family="power_law", alpha=1.0),
               noise=NoiseConfig(family="uniform")),
    DataConfig(n=40000, d=3, mean=(0.5, -1.0, 0.25),
               covariance=CovarianceConfig(family="user", matrix=((2.0, 0.6, 0.0), (0.6, 1.0, -0.3),
                                                                  (0.0, -0.3, 0.5))),
               noise=NoiseConfig(family="student_t", nu=10.0)),
]


@pytest.mark.parametrize("data", DATA, ids=lambda d: d.covariance.family)
def test_points_have_class_means_and_covariance_of_the_model(data):
    X, y = sample_test_set(data, _rng(5, data.d), data.n)
    mu = data.mean_vector()
    sigma = np.array(_sigma_for(data))
    # The class balance: the number of +1 labels is Binomial(n, beta) exactly.
    lower, upper = clopper_pearson(int(np.count_nonzero(y > 0)), y.size, LEVEL)
    assert lower <= data.class_balance <= upper
    for label in (1.0, -1.0):
        Xc = X[y == label]
        for k in range(data.d):
            _assert_mean_in_clt_interval(Xc[:, k], label * mu[k], sigma[k, k])
    noise = X - np.outer(y, mu)
    for k in range(data.d):
        for l in range(k, data.d):
            products = noise[:, k] * noise[:, l]
            # Var(z_k z_l) is estimated by its sample value: an asymptotic CLT interval.
            _assert_mean_in_clt_interval(products, sigma[k, l], products.var(ddof=1))


def _sigma_for(data):
    cov = data.covariance
    if cov.family == "user":
        return cov.matrix
    if cov.family == "power_law":
        lam = np.array([1.0, 1 / 2, 1 / 3])
        return np.diag(3 * lam / lam.sum())
    u = np.ones(3) / math.sqrt(3)  # spike along mu / ||mu|| with mean_direction = "ones"
    return np.eye(3) + cov.spike_strength * np.outer(u, u)


def test_label_flips_touch_only_training_labels_and_are_recorded():
    clean = DataConfig(n=20000, d=2, signal=1.0)
    noisy = DataConfig(n=20000, d=2, signal=1.0, label_flip=0.2)
    a = sample_training_set(clean, _rng(6))
    b = sample_training_set(noisy, _rng(6))
    # Common random numbers: the flip indicators are drawn whatever p is, so only y changes.
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y_clean, b.y_clean)
    assert not a.flipped.any() and a.flip_count == 0
    np.testing.assert_array_equal(b.y, np.where(b.flipped, -b.y_clean, b.y_clean))
    lower, upper = clopper_pearson(b.flip_count, noisy.n, LEVEL)
    assert lower <= 0.2 <= upper
    # Test pairs are clean: their noise z = x - y mu is centred in each class.
    X, y = sample_test_set(noisy, _rng(7), 20000)
    _assert_mean_in_clt_interval(y * X[:, 0], 1.0, 1.0)


def test_training_points_follow_the_clean_labels():
    data = DataConfig(n=30000, d=2, signal=2.0, label_flip=0.3)
    ts = sample_training_set(data, _rng(8))
    # x = y_clean mu + z, so y_clean <x, e1> has mean ||mu|| = 2 and variance 1 ...
    _assert_mean_in_clt_interval(ts.y_clean * ts.X[:, 0], 2.0, 1.0)
    # ... and with the observed labels the mean drops to (1 - 2p) ||mu|| = 0.8.
    proj = ts.y * ts.X[:, 0]
    _assert_mean_in_clt_interval(proj, 0.8, proj.var(ddof=1))


def test_initialisation_variance_by_an_exact_chi_square_interval():
    network = NetworkConfig(m=20, init_scale=1e-3)
    W0 = sample_initialisation(network, 500, _rng(9))
    assert W0.shape == (20, 500)
    statistic = float(np.sum(W0**2)) / 1e-6  # chi-square with m d degrees of freedom, exactly
    dof = W0.size
    assert chi2.ppf((1 - LEVEL) / 2, dof) <= statistic <= chi2.ppf(1 - (1 - LEVEL) / 2, dof)
    _assert_mean_in_clt_interval(W0.ravel() / 1e-3, 0.0, 1.0)
    assert not sample_initialisation(NetworkConfig(init_scale=0.0), 5, _rng(9)).any()


def test_streams_follow_the_seed_contract():
    data, init, test = streams(42)
    expected = [np.random.default_rng(s) for s in np.random.SeedSequence(42).spawn(3)]
    for got, want in zip((data, init, test), expected):
        np.testing.assert_array_equal(got.random(5), want.random(5))
    first = sample_training_set(DataConfig(n=5, d=4), streams(42)[0])
    again = sample_training_set(DataConfig(n=5, d=4), streams(42)[0])
    np.testing.assert_array_equal(first.X, again.X)
    other = sample_training_set(DataConfig(n=5, d=4), streams(43)[0])
    assert not np.array_equal(first.X, other.X)


# --- user samplers ------------------------------------------------------------------------------

USER_MODULE = textwrap.dedent("""
    import numpy as np

    def good(rng, shape):
        return rng.standard_normal(shape)

    def single_precision(rng, shape):
        return rng.standard_normal(shape).astype(np.float32)

    def wrong_shape(rng, shape):
        return rng.standard_normal(shape[:1])

    def not_an_array(rng, shape):
        return 1.0

    def infinite(rng, shape):
        return np.full(shape, np.inf)

    def broken(rng, shape):
        raise RuntimeError("boom")

    constant = 3
""")


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    (tmp_path / "tb_user_noise.py").write_text(USER_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "tb_user_noise"
    sys.modules.pop("tb_user_noise", None)


def test_user_sampler_is_imported_and_used(user_module):
    noise = NoiseConfig(family="user", sampler=f"{user_module}:good")
    xi = sample_noise(noise, _rng(10), (3, 4))
    np.testing.assert_array_equal(xi, _rng(10).standard_normal((3, 4)))


@pytest.mark.parametrize("function,words", [
    ("single_precision", "float64"), ("wrong_shape", "shape (3, 4)"), ("not_an_array", "float"),
    ("infinite", "non-finite"), ("broken", "RuntimeError"), ("constant", "no callable"),
    ("missing", "no callable"),
])
def test_bad_user_samplers_are_refused(user_module, function, words):
    noise = NoiseConfig(family="user", sampler=f"{user_module}:{function}")
    with pytest.raises(UserInputError, match="data.noise.sampler") as info:
        sample_noise(noise, _rng(11), (3, 4))
    assert words in str(info.value)


def test_unimportable_user_sampler_is_refused():
    noise = NoiseConfig(family="user", sampler="tb_no_such_module_xyz:draw")
    with pytest.raises(UserInputError, match="cannot be imported"):
        sample_noise(noise, _rng(12), (2,))
