"""The encoded theorems: every hypothesis made to hold and to fail, with its reason; the bounds;
the step-size correction of docs/theory.md §3 (docs/theory.md)."""

import math
import warnings

import numpy as np
import pytest
from scipy.special import log_ndtr, logsumexp

from bounds import (Assumption61, CaoGuBelkin, ChatterjiLong, FreiEtAl, Sample,
                    StrongRegimeBayesOrder, Theorem48, Theorem51, Theorem62, Theorem63)
from bounds.limit_direction import limit_direction
from bounds.rates import absolute_moment, parameter_values
from bounds.theorem_4_8 import sample_statistics, step_one
from theorybench.config import (Config, ConfigError, CovarianceConfig, DataConfig, NetworkConfig,
                                NoiseConfig, TrainingConfig)
from theorybench.errors import UserInputError


def config(n=40, d=2000, signal=3.0, m=20, omega=1e-5, eta=0.02, flip=0.0, noise=None,
           covariance=None, loss="exponential", m_positive=None):
    data = DataConfig(n=n, d=d, signal=signal, label_flip=flip, noise=noise or NoiseConfig(),
                      covariance=covariance or CovarianceConfig())
    return Config(data=data, network=NetworkConfig(m=m, init_scale=omega, m_positive=m_positive),
                  training=TrainingConfig(step_size=eta, loss=loss))


def draw(cfg, seed=0):
    """A sample from the data model of docs/theory.md §1 (isotropic Gaussian), independent of the sampler."""
    rng = np.random.default_rng(seed)
    n, d = cfg.data.n, cfg.data.d
    y = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)
    X = np.outer(y, cfg.data.mean_vector()) + rng.standard_normal((n, d))
    W0 = cfg.network.init_scale * rng.standard_normal((cfg.network.m, d))
    return Sample(X=X, y=y, W0=W0, a=cfg.network.second_layer(), gamma=cfg.network.gamma,
                  eta=cfg.training.step_size)


def rows(theorem, cfg, sample=None):
    return {r.key if r.key not in ("h0",) else r.name: r for r in theorem.hypotheses(cfg, sample)}


# ---------------------------------------------------------------------------------------------
# Theorem 4.8, H0


def test_h0_holds_on_the_default_and_fails_with_label_noise_or_logistic_loss():
    good = rows(Theorem48(), config())
    assert all(good[k].holds for k in good if k.startswith("H0"))
    noisy = rows(Theorem48(), config(flip=0.1))
    assert not noisy["H0: labels from the mixture"].holds
    assert "label-flip rate 0.1" in noisy["H0: labels from the mixture"].reason
    logistic = rows(Theorem48(), config(loss="logistic"))
    assert "loss 'logistic'" in logistic["H0: plain GD on the exponential loss"].reason
    ok, reason = Theorem48().applies(config(flip=0.1))
    assert not ok and "H0: labels from the mixture fails" in reason


def test_h0_second_layer_and_gamma():
    cfg = config(n=6, d=30, m=4)
    sample = draw(cfg)
    assert rows(Theorem48(), cfg, sample)["H0: a_j = +-1/sqrt(m)"].holds
    bad = Sample(X=sample.X, y=sample.y, W0=sample.W0, a=sample.a * 1.5, gamma=0.5, eta=0.02)
    row = rows(Theorem48(), cfg, bad)["H0: a_j = +-1/sqrt(m)"]
    assert not row.holds and "fails" in row.reason
    # gamma outside (0, 1) never reaches the theorem: the configuration refuses it.
    with pytest.raises(ConfigError, match="network.gamma"):
        NetworkConfig(gamma=1.0)


def test_h0_balanced_neurons_holds_when_balanced_and_fails_when_not():
    # docs/theory.md §1: a_j = +-1/sqrt(m) with m_+ = m_-; an unbalanced second layer is BEYOND (§8), so no
    # encoded theorem may apply to it, Theorem 4.8 included.
    good = rows(Theorem48(), config())["H0: balanced neurons m_+ = m_-"]
    assert good.holds and "m_+ = 10, m_- = 10" in good.reason
    cfg = config(n=6, d=2000, signal=30.0, m=4, m_positive=3)
    sample = draw(cfg)
    bad = rows(Theorem48(), cfg, sample)["H0: balanced neurons m_+ = m_-"]
    assert not bad.holds and "m_+ = 3, m_- = 1" in bad.reason and "BEYOND" in bad.reason
    ok, reason = Theorem48().applies(cfg, sample)
    assert not ok and "H0: balanced neurons m_+ = m_- fails" in reason


# ---------------------------------------------------------------------------------------------
# Theorem 4.8, Case 1 and Case 2


def test_case1_typical_holds_for_large_signal_and_reports_the_critical_constant():
    strong = rows(Theorem48(), config(signal=30.0))["case1"]
    assert strong.holds and strong.evaluated_on == "typical case"
    weak = rows(Theorem48(), config())["case1"]
    assert not weak.holds and "fails by a factor" in weak.reason
    # C* = ||mu||^2 / (2 sqrt(Tr Sigma^2 log n) + 2 sqrt(2 mu'Sigma mu log n)) by hand (docs/theory.md
    # §3, corrected typical Case 1); rel 1e-14 (float64 of a few operations).
    log_n = math.log(40)
    by_hand = 9 / (2 * math.sqrt(2000 * log_n) + 2 * math.sqrt(2 * 9 * log_n))
    assert weak.critical_constant == pytest.approx(by_hand, rel=1e-14)


def test_typical_case1_no_longer_claims_what_draws_refute():
    # The review's counterexamples to the old form ||mu||^2 >~ sqrt(d log n): at (d = 100, ||mu|| =
    # 4.5) and (d = 2000, ||mu|| = 9.5) Case 1 held in 0 of 50 draws. The corrected typical form
    # must not say it holds there, and the draws (independent sampler) must agree.
    for d, signal in ((100, 4.5), (2000, 9.5)):
        cfg = config(d=d, signal=signal)
        assert not rows(Theorem48(), cfg)["case1"].holds
        held = sum(rows(Theorem48(), cfg, draw(cfg, seed))["case1"].holds for seed in range(20))
        assert held == 0


def test_case1_on_the_sample():
    strong_cfg = config(n=10, d=100, signal=50.0)
    row = rows(Theorem48(), strong_cfg, draw(strong_cfg))["case1"]
    assert row.holds and row.provenance == "EXACT"
    weak_cfg = config(n=10, d=2000, signal=1.0)
    row = rows(Theorem48(), weak_cfg, draw(weak_cfg))["case1"]
    assert not row.holds and "negative pairs" in row.reason


def test_case2_typical_and_on_the_sample():
    # Typical Case 2 with the factor gamma (docs/theory.md §3): at n = 40, ||mu|| = 3, gamma = 1/2,
    # d = 2e5 gives gamma (d - X) ~ 9.9e4 >= n (||mu||^2 + X) ~ 7.0e4; d = 2e4 does not.
    assert rows(Theorem48(), config(d=200000))["case2"].holds
    assert not rows(Theorem48(), config(d=20000))["case2"].holds
    assert not rows(Theorem48(), config())["case2"].holds
    near_orthogonal = config(n=6, d=20000, signal=1.0)
    sample = draw(near_orthogonal)
    got = rows(Theorem48(), near_orthogonal, sample)
    assert got["case2"].holds and got["case2_first_step"].holds
    crowded = config(n=40, d=500, signal=1.0)
    got = rows(Theorem48(), crowded, draw(crowded))
    assert not got["case2"].holds and "holds for constant <=" in got["case2"].reason
    assert not got["case2_first_step"].holds


# ---------------------------------------------------------------------------------------------
# Theorem 4.8, initialisation and the first step


def test_step_one_gram_form_equals_a_weight_space_step():
    cfg = config(n=8, d=50, m=6, omega=0.3, eta=0.5)
    sample = draw(cfg)
    X, y, W0, a, gamma, eta = sample.X, sample.y, sample.W0, sample.a, 0.5, 0.5
    H0 = X @ W0.T
    f0 = np.where(H0 > 0, H0, gamma * H0) @ a
    losses = np.exp(-y * f0)
    D = (losses * y)[:, None] * a[None, :] * np.where(H0 > 0, 1.0, gamma)
    W1 = W0 + (eta / len(y)) * D.T @ X
    direct = np.sign(a)[None, :] * y[:, None] * (X @ W1.T)
    one = step_one(sample)
    # Same sums in another order: relative error of a few hundred roundings, well below 1e-10.
    np.testing.assert_allclose(one.activation_margins * np.exp(one.log_scale), direct, rtol=1e-10,
                               atol=1e-12 * np.abs(direct).max())
    f1 = np.where(X @ W1.T > 0, X @ W1.T, gamma * (X @ W1.T)) @ a
    assert one.log_loss_1 == pytest.approx(float(logsumexp(-y * f1) - math.log(len(y))), rel=1e-12)


def test_initialisation_criterion_holds_small_and_fails_large():
    small = config(n=10, d=500, signal=30.0, omega=1e-6)
    got = rows(Theorem48(), small, draw(small))
    assert got["init"].holds and "0 of 200" in got["init"].reason
    assert got["init_sufficient"].holds
    large = config(n=10, d=500, signal=30.0, omega=0.1, eta=1e-4)
    got = rows(Theorem48(), large, draw(large))
    assert not got["init"].holds and "pairs fail" in got["init"].reason
    assert not got["init_sufficient"].holds
    assert rows(Theorem48(), small)["init"].holds
    assert not rows(Theorem48(), config(omega=1e-2))["init"].holds


def test_derived_initialisation_condition_implies_the_exact_criterion():
    # DERIVED (docs/theory.md §3, generalised): whenever the sufficient condition holds, every (k, j) pair is
    # correctly activated after one step. Checked over draws where it is close to binding.
    checked = 0
    for seed in range(30):
        for omega in (1e-4, 1e-3, 3e-3):
            cfg = config(n=8, d=400, signal=6.0, m=4, omega=omega, eta=0.05)
            stats = sample_statistics(draw(cfg, seed))
            if stats["step_min"] > 0 and stats["init_max"] < 0.05 / (8 * 2) * stats["step_min"]:
                checked += 1
                assert stats["step_one_failures"] == 0
    assert checked > 10


def test_step_size_conditions_hold_small_and_fail_large():
    cfg = config(n=10, d=500, signal=30.0, eta=1e-6)
    for key in ("step_radius", "step_lambda"):
        assert rows(Theorem48(), cfg, draw(cfg))[key].holds
        assert rows(Theorem48(), cfg)[key].holds
        big = config()  # eta = 0.02: eta R^2 ~ 25 and eta lambda_max(Q) ~ 30 while L(W(1)) ~ 0.5
        row = rows(Theorem48(), big, draw(big))[key]
        assert not row.holds and "fails by a factor" in row.reason and row.provenance == "DERIVED"


def test_step_size_typical_values_match_the_draws():
    # The review's counterexample: n = 16, d = 4000, ||mu|| = 5, m = 10, omega = 1e-6, eta = 0.03.
    # The old typical row replaced L(W(1)) by 1 and read 75.5 < 1 (fails) while every draw gives
    # about 0.83. The typical L(W(1)) = exp(-eta ((1+gamma)/2)^2 (Tr Sigma/n + ||mu||^2)) must put
    # the typical row within a factor 2 of the draws' median (a statement about typical values,
    # not a bound), and the step requirement must hold on at least 95 % of draws.
    cfg = config(n=16, d=4000, signal=5.0, m=10, omega=1e-6, eta=0.03)
    typical = rows(Theorem48(), cfg)["step_radius"]
    assert typical.holds
    drawn = [rows(Theorem48(), cfg, draw(cfg, seed)) for seed in range(40)]
    lhs = np.median([math.exp(r["step_radius"].lhs) for r in drawn])
    assert 0.5 < math.exp(typical.lhs) / lhs < 2.0
    held = sum(r["step_radius"].holds or r["step_lambda"].holds for r in drawn)
    assert held >= 38


def test_either_step_condition_meets_the_requirement():
    # (a) eta L lambda_max(Q) <= 2 and (b) eta L max ||x~||^2 <= u* are alternatives (docs/theory.md
    # §3): on near-orthogonal data (a) is the weaker one. Find a draw where (a) holds and (b) fails
    # and check that the theorem's step requirement is met; the reason of a failure names both.
    from bounds.contract import requirement_verdict
    found, neither = [], []
    for eta in np.geomspace(1e-5, 1e-2, 61):
        cfg = config(n=8, d=4000, signal=1.0, m=4, omega=1e-8, eta=float(eta))
        got = rows(Theorem48(), cfg, draw(cfg))
        if got["step_lambda"].holds and not got["step_radius"].holds:
            found.append(got)
        if not (got["step_lambda"].holds or got["step_radius"].holds):
            neither.append(got)
    assert found, "no step size separates (a) from (b) on this near-orthogonal draw"
    got = found[0]
    ok, reason = requirement_verdict(list(got.values()), (("case1", "step_lambda", "step_radius"),))
    assert ok, reason
    assert neither, "no step size fails both conditions on this draw"
    got = neither[0]
    ok, reason = requirement_verdict(list(got.values()), (("case1", "step_lambda", "step_radius"),))
    assert not ok and "step size (a)" in reason and "step size (b)" in reason


def test_case1_makes_every_margin_nondecreasing_whatever_the_step():
    # EXACT (docs/theory.md §3): in Case 1 each margin increment (eta/n) sum_k l_k Q_ik is >= 0.
    cfg = config(n=10, d=100, signal=50.0, eta=10.0)
    one = step_one(draw(cfg))
    assert (one.lifted_gram >= 0).all()


# ---------------------------------------------------------------------------------------------
# The step-size correction (docs/theory.md)


def random_lifted(rng, n, p):
    X = rng.standard_normal((n, p)) * np.exp(rng.uniform(-1, 1, (n, 1)))
    V = rng.standard_normal(p) * rng.uniform(0, 2)
    return X, V


def test_hessian_bounds_of_the_lifted_exponential_loss():
    rng = np.random.default_rng(3)
    for _ in range(200):
        n, p = rng.integers(2, 8), rng.integers(1, 10)
        X, V = random_lifted(rng, n, p)
        losses = np.exp(-X @ V)
        L = losses.mean()
        hessian = (X.T * losses) @ X / n
        top = np.linalg.eigvalsh(hessian)[-1]
        Q = X @ X.T
        # eigvalsh is backward stable: errors ~ p * eps * ||H||, far below rel 1e-12.
        assert top <= L * np.max(np.diag(Q)) * (1 + 1e-12)
        assert L * np.max(np.diag(Q)) <= L * np.linalg.eigvalsh(Q)[-1] * (1 + 1e-12)
        assert top <= losses.max() / n * np.linalg.eigvalsh(Q)[-1] * (1 + 1e-12)


def test_adding_one_over_n_to_theorys_hessian_bound_is_false():
    # Orthogonal lifted points of equal norm with one dominant loss: lambda_max(H) = R^2 l_1 / n
    # while (L/n) lambda_max(Q) = R^2 l_1 / n^2 (approximately): off by the factor n.
    n = 10
    X = np.eye(n)
    losses = np.array([1.0] + [1e-12] * (n - 1))
    L = losses.mean()
    top = np.linalg.eigvalsh((X.T * losses) @ X / n)[-1]
    assert top > 5 * L / n * np.linalg.eigvalsh(X @ X.T)[-1]
    assert top <= L * np.linalg.eigvalsh(X @ X.T)[-1] * (1 + 1e-12)


def test_derived_step_condition_guarantees_descent():
    # DERIVED: eta L(V) max_i ||x~_i||^2 < 1 implies L(V - eta grad L) < L(V), for any lifted points
    # (including negative correlations) and any V.
    rng = np.random.default_rng(4)
    for _ in range(500):
        n, p = rng.integers(2, 8), rng.integers(1, 6)
        X, V = random_lifted(rng, n, p)
        losses = np.exp(-X @ V)
        L = losses.mean()
        u = rng.uniform(0.01, 0.999)
        eta = u / (L * np.max(np.sum(X**2, axis=1)))
        gradient = -(X.T @ losses) / n
        new = np.exp(-X @ (V - eta * gradient)).mean()
        # The proved decrease: L_new <= L - eta (1 - u) ||grad||^2 (docs/theory.md), compared with
        # 1e-13 relative slack for the rounding of two means of n exponentials.
        assert new <= L - eta * (1 - u) * float(gradient @ gradient) + 1e-13 * L


def assert_no_step_increases_the_loss(rng, step_bound, draws=2000):
    """On random lifted problems, one GD step of any size up to ``step_bound(X, L)`` (the largest
    step a sufficient condition allows) never increases the loss."""
    for _ in range(draws):
        n, p = rng.integers(2, 6), rng.integers(1, 4)
        X, V = random_lifted(rng, n, p)
        losses = np.exp(-X @ V)
        L = losses.mean()
        eta = rng.uniform(0.01, 1.0) * step_bound(X, L)
        new = np.exp(-X @ (V + eta * (X.T @ losses) / n)).mean()
        # 1e-13 relative: rounding of two means of n exponentials.
        assert new <= L * (1 + 1e-13)


def test_step_condition_b_with_u_star_never_increases_the_loss():
    # DERIVED (docs/theory.md §3, proof (b)): u = eta L(V) max_i ||x~_i||^2 <= u*, e^u* = 1 + 2u*,
    # implies L(V - eta grad L) <= L(V). Random lifted problems, u drawn up to u*.
    from bounds.symbolic import STEP_RADIUS_LIMIT
    u_star = float(STEP_RADIUS_LIMIT)
    assert math.exp(u_star) == pytest.approx(1 + 2 * u_star, rel=1e-15)
    assert_no_step_increases_the_loss(np.random.default_rng(6),
                                      lambda X, L: u_star / (L * np.max(np.sum(X**2, axis=1))))


def test_theorem_4_8_applies_with_large_signal_small_step_and_small_init():
    cfg = config(n=10, d=500, signal=30.0, eta=1e-4, omega=1e-8)
    ok, reason = Theorem48().applies(cfg, draw(cfg))
    assert ok, reason
    ok, reason = Theorem48().applies(cfg)
    assert ok and "typical case" in reason
    ok, reason = Theorem48().applies(config())
    assert not ok and "none of the alternatives holds" in reason


# ---------------------------------------------------------------------------------------------
# Theorem 5.1


def test_theorem_5_1_hypotheses_hold_and_fail():
    cfg = config(d=200000)
    ok, reason = Theorem51().applies(cfg)
    assert ok, reason
    ok, reason = Theorem51().applies(config(d=200000, noise=NoiseConfig(family="rademacher")))
    assert not ok and "Gaussian noise fails: noise family 'rademacher'" in reason
    ok, reason = Theorem51().applies(config(d=200000, m_positive=15))
    assert not ok and "balanced neurons" in reason and "m_+ = 15" in reason
    ok, reason = Theorem51().applies(config())
    assert not ok and "neither Case 1 nor Case 2" in reason


def bound_values(theorem, cfg):
    return {c.name: c for c in theorem.conclusions(cfg)}


def test_theorem_5_1_bounds_by_hand():
    cfg = config()
    got = bound_values(Theorem51(C_u=2.0, c_u=0.5), cfg)
    psi = 40 * 81 / (40 * 9 + 2000)
    # log C_u - c_u psi by hand; rel 1e-14 for a few float64 operations.
    assert got["upper bound"].log_value == pytest.approx(math.log(2.0) - 0.5 * psi, rel=1e-14)
    assert got["psi"].value == pytest.approx(psi, rel=1e-14)
    assert got["regime"].value == "weak"
    assert bound_values(Theorem51(), config(signal=10.0))["regime"].value == "strong"
    assert got["Bayes error"].log_value == pytest.approx(math.log(0.0013498980316301), rel=1e-12)


@pytest.mark.parametrize("signal", [0.5, 3.0, 10.0, 100.0])
def test_lower_bound_below_upper_bound_for_consistent_constants(signal):
    for c_l, C_u, c_u, C_l in [(1, 1, 1, 1), (0.1, 2, 0.5, 3), (0.5, 0.5, 0.2, 0.2)]:
        got = bound_values(Theorem51(c_l=c_l, C_u=C_u, c_u=c_u, C_l=C_l), config(signal=signal))
        assert got["lower bound"].log_value <= got["upper bound"].log_value
    # Inconsistent constants (c_l > C_u, c_u = C_l) break the order: the test above can fail.
    got = bound_values(Theorem51(c_l=5.0, C_u=0.1, c_u=1.0, C_l=1.0), config(signal=signal))
    assert got["lower bound"].log_value > got["upper bound"].log_value


def test_bounds_never_underflow_to_zero():
    got = bound_values(Theorem51(), config(signal=200.0, d=100))
    for name in ("upper bound", "lower bound", "prediction", "Bayes error"):
        assert math.isfinite(got[name].log_value) and got[name].log_value < -700
        assert got[name].value == 0.0  # the probability itself underflows: the log is the answer


# ---------------------------------------------------------------------------------------------
# Assumption 6.1, Theorems 6.2 and 6.3, the strong-regime statement


def test_assumption_6_1():
    assert Assumption61().applies(config(d=20000))[0]
    ok, reason = Assumption61().applies(config(d=1000))
    assert not ok and "fails by a factor 1.6" in reason
    ok, reason = Assumption61().applies(config(covariance=CovarianceConfig(family="power_law")))
    assert not ok and "not recoverable" in reason


def test_theorem_6_2():
    ok, reason = Theorem62().applies(config(d=200000, noise=NoiseConfig(family="rademacher")))
    assert ok, reason
    ok, reason = Theorem62().applies(config(d=200000, noise=NoiseConfig(family="student_t", nu=5.0)))
    assert not ok and "has no known proxy" in reason
    got = bound_values(Theorem62(C_sg=3.0, c_sg=0.25), config(d=20000))
    psi = 40 * 81 / (40 * 9 + 20000)
    assert got["upper bound"].log_value == pytest.approx(math.log(3.0) - 0.25 * psi, rel=1e-14)


def test_strong_regime_statement():
    cfg = config(n=10, d=500, signal=30.0, eta=1e-4, omega=1e-8)
    ok, reason = StrongRegimeBayesOrder().applies(cfg)
    assert ok, reason
    ok, reason = StrongRegimeBayesOrder().applies(config())
    assert not ok and "strong regime r >= 1 fails by a factor 5.556" in reason
    got = bound_values(StrongRegimeBayesOrder(c_B=0.5), cfg)
    assert got["upper bound"].log_value == pytest.approx(-0.5 * 900, rel=1e-14)


def test_absolute_moments_by_hand():
    # E|Z|^3 = 2 sqrt(2/pi); standardised t_5 has E xi^4 = 3 + 6/(5-4) = 9; Rademacher 1;
    # Uniform[-sqrt3, sqrt3]: E xi^4 = 9/5. rel 1e-13: mpmath at 15 digits, rounded.
    assert absolute_moment(NoiseConfig(), 3.0) == pytest.approx(2 * math.sqrt(2 / math.pi), rel=1e-13)
    assert absolute_moment(NoiseConfig(family="student_t", nu=5.0), 4.0) == pytest.approx(9.0, rel=1e-13)
    assert absolute_moment(NoiseConfig(family="rademacher"), 3.5) == 1.0
    assert absolute_moment(NoiseConfig(family="uniform"), 4.0) == pytest.approx(9 / 5, rel=1e-13)
    assert absolute_moment(NoiseConfig(family="student_t", nu=3.0), 4.0) == math.inf


def test_theorem_6_3():
    heavy = NoiseConfig(family="student_t", nu=3.0)
    ok, reason = Theorem63().applies(config(d=200000, noise=heavy))  # default q = 2.5 < nu
    assert ok, reason
    cfg = config(d=20000, noise=heavy)
    ok, reason = Theorem63(moment_order=4.0).applies(cfg)
    assert not ok and "finite moment E|xi|^4 = K fails" in reason
    assert "K = inf, q = 4" in reason and "nan" not in reason
    assert "K = 2.121, q = 2.5" in Theorem63().hypotheses(cfg)[0].reason  # E|xi|^2.5, t_3 scaled
    got = bound_values(Theorem63(C_K=2.0), cfg)
    psi = 40 * 81 / (40 * 9 + 20000)
    assert got["upper bound"].log_value == pytest.approx(math.log(2.0) - 1.25 * math.log(psi), rel=1e-13)
    with pytest.raises(UserInputError, match="moment_order"):
        Theorem63(moment_order=5.0)


# ---------------------------------------------------------------------------------------------
# PRIOR bounds


def test_prior_bounds_hold_and_fail():
    assert ChatterjiLong().applies(config(d=20000))[0]
    # The review's counterexample: at n = 40, d = 10, ||mu|| = 3 the bound e^{-8.1} lies below the
    # Bayes error e^{-6.6}; Chatterji-Long's own conditions (docs/theory.md §6) exclude it.
    ok, reason = ChatterjiLong().applies(config(d=10))
    assert not ok and "dimension fails" in reason
    ok, reason = ChatterjiLong().applies(config(d=100000, signal=1.0))
    assert not ok and "signal fails" in reason
    ok, reason = ChatterjiLong(C_CL=50.0).applies(config(n=40, d=2 * 10 ** 6, signal=30.0))
    assert not ok and "sample size fails" in reason
    ok, reason = CaoGuBelkin().applies(config(d=10 ** 5, signal=1.0))
    assert not ok and "signal fails" in reason
    ok, reason = ChatterjiLong().applies(config(covariance=CovarianceConfig(family="spiked")))
    assert not ok and "isotropic covariance fails" in reason
    assert CaoGuBelkin().applies(config(d=20000))[0]
    ok, reason = CaoGuBelkin().applies(config())
    assert not ok and "Tr Sigma condition fails" in reason
    assert FreiEtAl().applies(config(d=20000))[0]
    ok, reason = FreiEtAl().applies(config(signal=1.0, d=20000))
    assert not ok and "signal fails" in reason
    ok, reason = FreiEtAl().applies(config())
    assert not ok and "dimension fails" in reason


def test_prior_bound_values_by_hand():
    cfg = config(flip=0.1)
    cl = bound_values(ChatterjiLong(), cfg)["upper bound"].log_value
    assert cl == pytest.approx(math.log(0.1 + math.exp(-81 / 2000)), rel=1e-14)
    frei = bound_values(FreiEtAl(C_F=2.0), cfg)["upper bound"].log_value
    assert frei == pytest.approx(math.log(0.1 + math.exp(-40 * 81 / (2 * 2000))), rel=1e-14)
    cgb = bound_values(CaoGuBelkin(), config())["upper bound"].log_value
    assert cgb == pytest.approx(-40 * 81 / (40 * 9 + 2000 + 40), rel=1e-14)
    values = parameter_values(config())
    assert values["tr_sigma2"] == 2000.0


def test_theory_step_condition_survives_a_random_search():
    # Step size (a), eta L lambda_max(Q) <= 2 (DERIVED, proof in docs/theory.md §3): checked on random
    # lifted problems with negative correlations, step sizes drawn up to the bound.
    assert_no_step_increases_the_loss(np.random.default_rng(5),
                                      lambda X, L: 2 / (L * np.linalg.eigvalsh(X @ X.T)[-1]))


def test_exact_error_of_the_limit_direction_on_a_draw():
    cfg = config(n=10, d=300, signal=4.0, eta=1e-4, omega=1e-8)
    sample = draw(cfg)
    got = {c.name: c for c in Theorem51().conclusions(cfg, sample)}
    w = limit_direction(sample.X, sample.y, sample.a, 0.5).linear_direction
    # Sigma = I: err = Phi(-<w, mu>/||w||), computed here without the covariance module; rel 1e-12
    # for two dot products and log_ndtr.
    expected = float(log_ndtr(-(w[0] * 4.0) / np.linalg.norm(w)))
    assert got["exact error"].log_value == pytest.approx(expected, rel=1e-12)
    assert got["implied c"].value == pytest.approx(-expected / got["psi"].value, rel=1e-12)
    # with a prefactor C_u the implied c is that of C_u exp(-c psi): (log C_u - log err) / psi
    prefactor = {c.name: c for c in Theorem51(C_u=2.0).conclusions(cfg, sample)}["implied c"]
    assert prefactor.value == pytest.approx((math.log(2.0) - expected) / got["psi"].value, rel=1e-12)
    unbalanced = config(n=10, d=300, signal=4.0, m_positive=15)
    got = {c.name: c for c in Theorem51().conclusions(unbalanced, draw(unbalanced))}
    assert got["exact error"].value is None and "not applicable" in got["exact error"].statement


def test_step_min_by_an_explicit_loop():
    # S_min = min_k (gamma l_k ||x_k||^2 - sum_{i != k} l_i (y_i y_k K_ki)_-), written as loops over
    # a near-orthogonal draw where the negative parts matter. rel 1e-12: sums of n terms.
    cfg = config(n=8, d=2000, signal=1.0, m=4, omega=1e-3)
    sample = draw(cfg)
    X, y, W0, a = sample.X, sample.y, sample.W0, sample.a
    H0 = X @ W0.T
    losses = np.exp(-y * (np.where(H0 > 0, H0, 0.5 * H0) @ a))
    terms = []
    for k in range(8):
        total = 0.5 * losses[k] * X[k] @ X[k]
        for i in range(8):
            if i != k:
                total -= losses[i] * max(-(y[i] * y[k] * X[i] @ X[k]), 0.0)
        terms.append(total)
    assert step_one(sample).step_min == pytest.approx(min(terms), rel=1e-12)
    assert any(y[i] * y[k] * X[i] @ X[k] < 0 for i in range(8) for k in range(8))


def test_huge_initialisation_is_evaluated_not_raised():
    # Initial losses beyond exp(709): first-step quantities overflow float64. Every hypothesis must
    # still be evaluated to True or False, without an exception or a floating-point warning.
    cfg = config(n=6, d=50, m=4, omega=300.0, eta=0.1)
    sample = draw(cfg)
    assert step_one(sample).log_scale > 709
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = Theorem48().hypotheses(cfg, sample)
    assert all(r.holds in (True, False) for r in got)


def test_phase_transition_conclusions():
    got = bound_values(Theorem51(), config())
    # Sigma = I, n = 40, d = 2000: knee at sqrt(d/n); psi = 1 where 40 mu^4 = 40 mu^2 + 2000, i.e.
    # mu^2 = (1 + sqrt(201))/2. rel 1e-12: sympy roots at 30 digits, rounded.
    assert got["knee signal"].value == pytest.approx(math.sqrt(50), rel=1e-12)
    assert got["benign signal"].value == pytest.approx(math.sqrt((1 + math.sqrt(201)) / 2), rel=1e-12)
    assert "benign signal" not in bound_values(Theorem51(), config(signal=0.0))


def _row(theorem, cfg, key, sample=None):
    return next(r for r in theorem.hypotheses(cfg, sample) if r.key == key)


def test_remaining_rows_hold_and_fail_with_their_reason():
    # The rows not already made to hold and to fail (with the reason read) by the tests above.
    small_step = config(n=10, d=500, signal=30.0, eta=1e-6)
    held = _row(Theorem48(), small_step, "step_lambda", draw(small_step))
    assert held.holds and held.reason.startswith("holds by a factor")
    failed = _row(Theorem48(), config(), "step_lambda", draw(config()))
    assert not failed.holds and failed.reason.startswith("fails by a factor")
    crowded = config(n=40, d=500, signal=1.0)
    row = _row(Theorem48(), crowded, "case2_first_step", draw(crowded))
    assert row.reason.startswith("fails by a factor") and row.provenance == "DERIVED"
    row = _row(Theorem48(), config(omega=1e-2), "init")
    assert not row.holds and row.reason.startswith("fails by a factor")
    assert row.reason.endswith("[typical case; depends on the sample]")
    assert "holds for constant <=" in row.reason  # C_init's critical value
    row = _row(Theorem48(), config(), "init")
    assert row.holds and row.reason.startswith("holds by a factor")
    for theorem in (Theorem51(), Theorem62(), Theorem63(), StrongRegimeBayesOrder()):
        assert _row(theorem, config(d=20000), "no_label_noise").holds
        row = _row(theorem, config(d=20000, flip=0.1), "no_label_noise")
        assert not row.holds and "label-flip rate 0.1" in row.reason
        assert _row(theorem, config(d=200000), "limit").holds
        row = _row(theorem, config(), "limit")
        assert not row.holds and "neither Case 1 nor Case 2" in row.reason
    spiked = config(noise=NoiseConfig(family="uniform"), covariance=CovarianceConfig(family="spiked"))
    assert not _row(StrongRegimeBayesOrder(), spiked, "gaussian").holds
    assert "noise family 'uniform'" in _row(StrongRegimeBayesOrder(), spiked, "gaussian").reason
    assert "covariance family 'spiked'" in _row(StrongRegimeBayesOrder(), spiked, "isotropic").reason
    assert _row(StrongRegimeBayesOrder(), config(), "isotropic").holds
    row = _row(ChatterjiLong(), config(noise=NoiseConfig(family="student_t", nu=5.0)), "sub_gaussian")
    assert not row.holds and "noise family 'student_t'" in row.reason
    assert _row(ChatterjiLong(), spiked, "sub_gaussian").holds  # uniform noise: proxy 1


def test_a_gram_matrix_beyond_float64_is_refused_with_a_message():
    # ||x_i||^2 = 1e400 is not a float64: the first step cannot be evaluated, and the user is told
    # so (UserInputError: exit status 2 in the CLI) instead of meeting LinAlgError in eigvalsh.
    cfg = config(n=4, d=10, m=2)
    sample = draw(cfg)
    huge = Sample(X=sample.X * 1e200, y=sample.y, W0=sample.W0, a=sample.a, gamma=0.5, eta=0.02)
    with pytest.raises(UserInputError, match="overflows float64"):
        Theorem48().hypotheses(cfg, huge)
