"""Covariance families (theorybench.covariance, docs/theory.md §1): square roots, products, summaries."""

import math

import numpy as np
import pytest

from theorybench.config import ConfigError, CovarianceConfig, DataConfig
from theorybench.covariance import (
    covariance_apply,
    covariance_matrix,
    covariance_sqrt_apply,
    covariance_summary,
    power_law_eigenvalues,
    spike_direction,
)

D = 7
# Each check is a product of a few d x d float64 matrices with entries of order ||Sigma|| <= 5:
# rounding stays below a small multiple of d * eps * ||Sigma||^2 ~ 1e-13.
ATOL = 1e-12


def _user_matrix(d=D, rank=None):
    rng = np.random.default_rng(np.random.SeedSequence(11))
    A = rng.standard_normal((d, rank or d))
    S = A @ A.T / d
    return tuple(tuple(row) for row in S)


def _reference_sigma(data):
    """Sigma built from the family definitions of docs/theory.md §1, independently of the module."""
    d = data.d
    cov = data.covariance
    if cov.family == "isotropic":
        return np.eye(d)
    if cov.family == "power_law":
        lam = np.array([k ** -cov.alpha for k in range(1, d + 1)])
        return np.diag(lam * d / lam.sum())
    if cov.family == "spiked":
        u = np.zeros(d)
        if cov.spike_direction == "e1":
            u[0] = 1
        else:
            mu = data.mean_vector()
            u = mu / np.linalg.norm(mu)
        return np.eye(d) + cov.spike_strength * np.outer(u, u)
    if cov.family == "orthogonal":
        mu = data.mean_vector()
        return np.eye(d) - np.outer(mu, mu) / (mu @ mu)
    return np.array(cov.matrix)


FAMILIES = [
    CovarianceConfig(),
    CovarianceConfig(family="power_law", alpha=1.3),
    CovarianceConfig(family="power_law", alpha=0.0),
    CovarianceConfig(family="spiked", spike_strength=4.0),
    CovarianceConfig(family="spiked", spike_strength=2.5, spike_direction="e1"),
    CovarianceConfig(family="orthogonal"),
    CovarianceConfig(family="user", matrix=_user_matrix()),
    CovarianceConfig(family="user", matrix=_user_matrix(rank=3)),
]


def _data(cov):
    return DataConfig(n=4, d=D, signal=1.7, mean_direction="ones", covariance=cov)


@pytest.mark.parametrize("cov", FAMILIES, ids=lambda c: c.family)
def test_matrix_sqrt_and_products_match_the_definition(cov):
    data = _data(cov)
    sigma = _reference_sigma(data)
    np.testing.assert_allclose(covariance_matrix(data), sigma, rtol=0, atol=ATOL)
    root = covariance_sqrt_apply(data, np.eye(D))
    np.testing.assert_allclose(root, root.T, rtol=0, atol=ATOL)
    np.testing.assert_allclose(root @ root, sigma, rtol=0, atol=ATOL)
    V = np.random.default_rng(np.random.SeedSequence(3)).standard_normal((5, D))
    np.testing.assert_allclose(covariance_apply(data, V), V @ sigma, rtol=0, atol=ATOL)
    np.testing.assert_allclose(covariance_sqrt_apply(data, V), V @ root, rtol=0, atol=ATOL)


@pytest.mark.parametrize("cov", FAMILIES, ids=lambda c: c.family)
def test_summary_matches_dense_linear_algebra(cov):
    data = _data(cov)
    sigma = _reference_sigma(data)
    mu = data.mean_vector()
    summary = covariance_summary(data)
    eig = np.linalg.eigvalsh(sigma)
    # Traces and quadratic forms: sums of <= d^2 terms of size <= 25, rounding << 1e-12 relative.
    assert summary.trace == pytest.approx(np.trace(sigma), rel=1e-12)
    assert summary.trace_of_square == pytest.approx(np.sum(sigma * sigma), rel=1e-12)
    assert summary.operator_norm == pytest.approx(eig[-1], rel=1e-12)
    assert summary.mean_norm_sq == pytest.approx(mu @ mu, rel=1e-12)
    # abs: for the orthogonal family mu^T Sigma mu is exactly 0 and the dense product is rounding
    # of terms of size ||mu||^2 ~ 3, so below 1e-14.
    assert summary.mean_sigma_mean == pytest.approx(mu @ sigma @ mu, rel=1e-12, abs=1e-14)
    in_range = np.linalg.lstsq(sigma, mu, rcond=None)[0]
    if np.allclose(sigma @ in_range, mu, atol=1e-9):
        # The pseudo-inverse amplifies rounding by the condition number of Sigma on its range
        # (< 1e3 for these matrices), so 1e-9 relative leaves a wide margin.
        assert summary.mahalanobis_sq == pytest.approx(mu @ np.linalg.pinv(sigma) @ mu, rel=1e-9)
    else:
        assert summary.mahalanobis_sq == math.inf


def test_power_law_is_normalised_and_decays_as_k_to_minus_alpha():
    lam = power_law_eigenvalues(1000, 1.5)
    assert lam.sum() == pytest.approx(1000, rel=1e-13)  # 1000 positive terms: rounding <= 1000 eps
    k = np.array([1, 10, 100, 1000])
    np.testing.assert_allclose(lam[0] / lam[k - 1], k ** 1.5, rtol=1e-13)


def test_mean_outside_the_range_gives_infinite_mahalanobis():
    matrix = ((1.0, 0.0), (0.0, 0.0))
    outside = DataConfig(n=2, d=2, mean=(0.0, 1.0), covariance=CovarianceConfig(family="user", matrix=matrix))
    inside = DataConfig(n=2, d=2, mean=(2.0, 0.0), covariance=CovarianceConfig(family="user", matrix=matrix))
    assert covariance_summary(outside).mahalanobis_sq == math.inf
    assert covariance_summary(inside).mahalanobis_sq == pytest.approx(4.0, rel=1e-15)


@pytest.mark.parametrize("matrix,word", [
    (((1.0, 0.5), (0.0, 1.0)), "not symmetric"),
    (((1.0, 2.0), (2.0, 1.0)), "not positive semi-definite"),
    (((1.0, 0.0), (0.0, -1e-3)), "not positive semi-definite"),
    (((1.0, float("nan")), (float("nan"), 1.0)), "[0][1] = nan is not allowed: it must be finite"),
    (((1.0, 0.0, 0.0),), "square"),
])
def test_a_user_covariance_that_is_not_symmetric_psd_is_refused(matrix, word):
    with pytest.raises(ConfigError, match="data.covariance.matrix") as info:
        CovarianceConfig(family="user", matrix=matrix)
    assert word in str(info.value)


def test_user_matrix_dimension_must_match_d():
    with pytest.raises(ConfigError, match="data.covariance.matrix is 2 x 2 but data.d = 3"):
        DataConfig(n=2, d=3, covariance=CovarianceConfig(family="user", matrix=((1.0, 0.0), (0.0, 1.0))))


def test_sqrt_apply_checks_the_width():
    with pytest.raises(ValueError, match="shape"):
        covariance_sqrt_apply(_data(CovarianceConfig()), np.ones((2, D + 1)))


def test_spiked_summary_overflows_to_inf_instead_of_raising():
    # theta and ||mu|| are unbounded in the configuration; (1 + theta)^2 and <u, mu>^2 beyond
    # 1.8e308 must come out as inf (which the theory layer reports as an overflow), not as a
    # Python OverflowError from float ** 2.
    huge_spike = DataConfig(n=2, d=3, covariance=CovarianceConfig(family="spiked", spike_strength=1e300))
    summary = covariance_summary(huge_spike)
    assert summary.trace_of_square == math.inf and summary.operator_norm == 1.0 + 1e300
    huge_mean = DataConfig(n=2, d=3, signal=1e200, covariance=CovarianceConfig(family="spiked"))
    with np.errstate(over="ignore"):  # mu @ mu overflows in numpy, by design of this case
        summary = covariance_summary(huge_mean)
    assert summary.mean_sigma_mean == math.inf


@pytest.mark.parametrize("theta", [4.0, 1e8, 1e12])
def test_spiked_mahalanobis_along_the_mean_keeps_full_precision(theta):
    # Spike along mu: mu^T Sigma^{-1} mu = ||mu||^2 / (1 + theta) exactly. The subtraction
    # ||mu||^2 - theta/(1+theta) ||mu||^2 would lose log10(1 + theta) digits (1e-4 relative at
    # theta = 1e12); the computed form is a few roundings: 1e-14 relative.
    data = DataConfig(n=2, d=5, signal=3.0, mean_direction="ones",
                      covariance=CovarianceConfig(family="spiked", spike_strength=theta))
    assert covariance_summary(data).mahalanobis_sq == pytest.approx(9.0 / (1.0 + theta), rel=1e-14)
    huge_mean = DataConfig(n=2, d=3, signal=1e200, covariance=CovarianceConfig(family="spiked"))
    with np.errstate(over="ignore"):
        assert covariance_summary(huge_mean).mahalanobis_sq == math.inf


def test_spike_direction_survives_a_mean_whose_norm_overflows():
    # ||mu|| = 1e200 * sqrt(3) squares past float64; u = mu/||mu|| must still be a unit vector.
    data = DataConfig(n=2, d=3, signal=1e200, mean_direction="ones",
                      covariance=CovarianceConfig(family="spiked", spike_strength=3.0))
    u = spike_direction(data)
    # Three equal entries 1/sqrt(3), each within a couple of roundings.
    np.testing.assert_allclose(u, np.full(3, 1 / math.sqrt(3)), rtol=1e-15)


def test_orthogonal_noise_has_no_component_along_the_mean_and_unit_variance_across_it():
    data = DataConfig(n=4, d=50, signal=2.0, mean_direction="ones",
                      covariance=CovarianceConfig(family="orthogonal"))
    u = data.mean_vector() / np.linalg.norm(data.mean_vector())
    xi = np.random.default_rng(np.random.SeedSequence(5)).standard_normal((20000, 50))
    z = covariance_sqrt_apply(data, xi)
    # <z, u> is one rounding of a sum of 50 terms of size ~1: below 1e-13 however many rows.
    assert np.max(np.abs(z @ u)) < 1e-13
    # Across u the noise is white: every direction v orthogonal to u has E <z, v>^2 = 1. With 20000
    # rows the sample variance has standard error sqrt(2/20000) = 0.01; 0.05 is five of them.
    v = np.zeros(50)
    v[0], v[1] = 1 / math.sqrt(2), -1 / math.sqrt(2)
    assert abs(np.mean((z @ v) ** 2) - 1.0) < 0.05
    summary = covariance_summary(data)
    assert (summary.trace, summary.operator_norm, summary.mahalanobis_sq) == (49.0, 1.0, math.inf)


def test_orthogonal_family_needs_a_non_zero_mean():
    with pytest.raises(ConfigError, match="'orthogonal' needs a non-zero mean"):
        DataConfig(n=2, d=3, signal=0.0, covariance=CovarianceConfig(family="orthogonal"))


def test_user_square_root_is_exactly_zero_on_a_numerically_null_direction():
    # I - u u^T given as a dense matrix: eigh returns ~1e-16 for the null eigenvalue, whose square
    # root (1e-8) would leak noise along u. Null eigenvalues are set to 0, so what is left along u
    # is the rounding of the eigenvectors, ~d eps.
    d = 40
    u = np.ones(d) / math.sqrt(d)
    matrix = tuple(tuple(row) for row in np.eye(d) - np.outer(u, u))
    data = DataConfig(n=2, d=d, signal=1.0, mean_direction="ones",
                      covariance=CovarianceConfig(family="user", matrix=matrix))
    z = covariance_sqrt_apply(data, np.random.default_rng(np.random.SeedSequence(2)).standard_normal((100, d)))
    assert np.max(np.abs(z @ u)) < 1e-13  # ~ d * eps * |xi| ~ 40 * 2e-16 * 4
