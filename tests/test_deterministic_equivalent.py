"""psi_DE of docs/theory.md §4 against an independent computation of kappa (mpmath bisection on the
full list of eigenvalues) and its reduction to psi for Sigma = I, d >> n."""

import math

import mpmath
import numpy as np
import pytest

from bounds.deterministic_equivalent import deterministic_equivalent, kappa_root
from bounds.rates import deterministic_equivalent_of, parameter_values, psi
from theorybench.config import Config, CovarianceConfig, DataConfig
from theorybench.covariance import covariance_matrix


def independent_psi_de(sigma, mu, n):
    """psi_DE from a dense Sigma: kappa by 200 bisection steps at 40 digits, then the formula."""
    lam, vectors = np.linalg.eigh(sigma)
    lam = np.clip(lam, 0.0, None)
    weights = (vectors.T @ mu) ** 2
    with mpmath.workdps(40):
        f = lambda k: sum(mpmath.mpf(l) / (mpmath.mpf(l) + k) for l in lam) - n
        low, high = mpmath.mpf("1e-30"), mpmath.mpf(float(lam.sum()) / n)
        for _ in range(200):
            mid = (low + high) / 2
            low, high = (mid, high) if f(mid) > 0 else (low, mid)
        kappa = float((low + high) / 2)
    shifted = lam + kappa
    df2 = float(np.sum(lam**2 / shifted**2))
    signal, noise = float(np.sum(weights / shifted)), float(np.sum(weights * lam / shifted**2))
    return signal**2 / (noise + df2 / (n - df2)), kappa


@pytest.mark.parametrize("covariance", [
    CovarianceConfig(family="power_law", alpha=1.0),
    CovarianceConfig(family="spiked", spike_strength=300.0, spike_direction="e1"),
    CovarianceConfig(family="spiked", spike_strength=50.0, spike_direction="mean"),
    CovarianceConfig(family="spiked", spike_strength=100.0, spike_direction="mean_45"),
])
def test_psi_de_matches_an_independent_kappa(covariance):
    config = Config(data=DataConfig(n=24, d=300, signal=10.0, mean_direction="ones", covariance=covariance))
    got = deterministic_equivalent_of(config)
    expected, kappa = independent_psi_de(covariance_matrix(config.data), config.data.mean_vector(), 24)
    # kappa to 1e-10 relative: brentq stops at 1e-13 in log kappa; the dense eigh of the reference
    # perturbs eigenvalues by ~d eps ||Sigma|| ~ 1e-11 relative to the largest.
    assert got.kappa == pytest.approx(kappa, rel=1e-10)
    assert got.psi == pytest.approx(expected, rel=1e-9)


def test_psi_de_reduces_to_psi_for_isotropic_noise_in_high_dimension():
    # Sigma = I, d >> n: kappa = d/n - 1, df_2 = n^2/d, and psi_DE -> n||mu||^4/(n||mu||^2 + d)
    # up to O(n/d) relative terms; at n = 20, d = 2e5 they are below 1e-3.
    config = Config(data=DataConfig(n=20, d=200000, signal=8.0))
    got = deterministic_equivalent_of(config)
    assert got.kappa == pytest.approx(200000 / 20 - 1, rel=1e-12)
    assert got.psi == pytest.approx(psi(parameter_values(config)), rel=1e-3)
    assert got.indicator == pytest.approx(20 * 64 / 200000, rel=1e-3)


def test_no_kappa_when_rank_does_not_exceed_n():
    assert kappa_root(np.ones(10), np.ones(10), 10) is None
    assert deterministic_equivalent(np.array([2.0, 0.0]), np.array([5.0, 95.0]), np.ones(2), 5) is None
