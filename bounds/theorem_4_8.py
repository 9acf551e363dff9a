"""Theorem 4.8 — directional convergence of gradient descent (docs/theory.md §3).

Conclusion (PAPER): after the first step every neuron is correctly activated,
:math:`a_j y_i \\langle x_i, w_j(1)\\rangle > 0`; the pattern persists, the network is a linear
classifier of the lifted points :math:`\\tilde x_i` (§2.1), and :math:`W(t)/\\|W(t)\\|_F` converges to
the lifted hard-margin direction :math:`\\hat W/\\|\\hat W\\|_F` (§2.2); the decision boundary is
linear for balanced neurons (§2.3).

Hypotheses, each a `bounds.contract.HypothesisResult`:

- **H0** (PAPER): :math:`0<\\gamma<1`; :math:`a_j = \\pm 1/\\sqrt m` fixed with :math:`m_+ = m_-`
  (docs/theory.md §1; an unbalanced second layer is BEYOND, §8); labels from the mixture (no label noise);
  plain gradient descent on the exponential loss.
- **Case 1** (EXACT on the sample): :math:`\\min_{i,k} y_i y_k\\langle x_i, x_k\\rangle \\ge 0`. Typical
  case (RECONSTRUCTED, docs/theory.md §3, corrected 2026-11-29): :math:`\\|\\mu\\|^2 \\ge C_1 X` with
  :math:`X = 2\\sqrt{\\operatorname{Tr}\\Sigma^2\\log n} + 2\\sqrt{2\\mu^\\top\\Sigma\\mu\\log n}`, the
  typical maximum over the :math:`\\sim n^2/2` pairs of the noise and cross terms.
- **Case 2** (RECONSTRUCTED, constant :math:`C_2`, corrected 2026-11-29 with the factor
  :math:`\\gamma`): :math:`\\gamma\\|x_i\\|^2 \\ge C_2\\, n \\max_{k\\ne i}|\\langle x_i, x_k\\rangle|` for
  all i. Typical case: :math:`\\gamma(\\|\\mu\\|^2 + \\operatorname{Tr}\\Sigma - X) \\ge C_2 n
  (\\|\\mu\\|^2 + X)`. DERIVED first-step version (informational):
  :math:`\\gamma\\min_i\\|x_i\\|^2 > (n-1)\\rho\\max_{i\\ne k}|K_{ik}|`,
  :math:`\\rho = \\max_i\\ell_i(0)/\\min_i\\ell_i(0)`.
- **Certificate** (EXACT, on a sample only): the lifted hard-margin problem of §2.2 has a certified
  solution whose activation pattern is self-consistent. Without it the direction GD would converge
  to is not the one the theorem names, whatever the other rows say.
- **Small initialisation**: EXACT step-one criterion on the draw (the verdict row),

  .. math:: s_j y_k\\langle x_k, w_j(1)\\rangle = s_j y_k H_{kj}(0)
            + \\frac{\\eta}{n}|a_j|\\sum_i \\ell_i(0)\\,\\phi'(H_{ij}(0))\\, y_i y_k K_{ki} > 0
            \\quad\\forall k, j;

  DERIVED sufficient condition (informational), valid in both cases:
  :math:`\\max_{k,j}|H_{kj}(0)| < \\frac{\\eta}{n\\sqrt m} S_{\\min}` with
  :math:`S_{\\min} = \\min_k\\big(\\gamma\\ell_k(0)\\|x_k\\|^2 - \\sum_{i\\ne k}\\ell_i(0)
  (y_iy_kK_{ki})_-\\big)`; in Case 1 the negative parts vanish. Typical case (RECONSTRUCTED):
  :math:`C\\,\\omega\\sqrt{2\\log(2nm)}\\sqrt{\\|\\mu\\|^2+\\operatorname{Tr}\\Sigma} <
  \\eta\\gamma(\\|\\mu\\|^2+\\operatorname{Tr}\\Sigma)/(n\\sqrt m)`.
- **Step size** (DERIVED, proved in docs/theory.md §3): while the pattern holds the lifted loss does
  not increase under one GD step if **either** (a) :math:`\\eta L(W(1))\\lambda_{\\max}(Q) \\le 2` or
  (b) :math:`\\eta L(W(1))\\max_i\\|\\tilde x_i\\|^2 \\le u^*` (:math:`e^{u^*} = 1 + 2u^*`,
  :math:`u^* = 1.2564\\ldots`); since L then never increases, checking at :math:`W(1)` covers every
  later step. Either suffices (requirement group ``step_lambda`` / ``step_radius``); in Case 1 no
  step-size condition is needed (EXACT: every increment of every margin is :math:`\\ge 0`). A failed
  row means "sufficient condition not met", never "GD diverges". Typical case: :math:`L(W(1))
  \\approx \\exp(-\\eta((1+\\gamma)/2)^2(\\operatorname{Tr}\\Sigma/n + \\|\\mu\\|^2))` (each initial slope
  is 1 or :math:`\\gamma` with probability 1/2), :math:`\\max_i\\|\\tilde x_i\\|^2` and
  :math:`\\lambda_{\\max}(Q)` at their typical values (`bounds.symbolic`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from bounds.contract import (Conclusion, HypothesisResult, Sample, Theorem, evaluate, flag,
                             from_statement)
from bounds.limit_direction import LimitDirection, limit_direction_from_gram
from bounds.rates import parameter_values
from theorybench.config import Config
from theorybench.errors import UserInputError
from theorybench.network import leaky_relu

SECTION = "§3"
# |a_j| sqrt(m) is 1 up to the rounding of 1/sqrt(m) and of the product (two roundings, < 3e-16
# relative); 1e-12 accepts every a built as +-1/sqrt(m) in float64 and rejects any real deviation.
SECOND_LAYER_TOLERANCE = 1e-12


@dataclass(frozen=True)
class StepOne:
    """EXACT quantities of the first gradient step on a sample (docs/theory.md §2.5, §3).

    Attributes
    ----------
    gram : (n, n) array
        :math:`K = XX^\\top`.
    log_losses : (n,) array
        :math:`\\log\\ell_i(0) = -y_i f(x_i; W(0))`.
    preactivations : (n, m) array
        :math:`H(0) = XW(0)^\\top`.
    activation_margins : (n, m) array
        :math:`s_j y_k\\langle x_k, w_j(1)\\rangle` divided by :math:`\\max_i\\ell_i(0)` (a positive
        factor, so signs are exact and nothing overflows).
    log_scale : float
        :math:`\\log\\max_i\\ell_i(0)`, the factor removed from ``activation_margins``.
    log_loss_1 : float
        :math:`\\log L(W(1))`.
    lifted_gram : (n, n) array
        :math:`Q_{ik} = y_iy_kK_{ik}\\sum_j a_j^2c_{ij}c_{kj} = \\langle\\tilde x_i,\\tilde x_k\\rangle`.
    step_min : float
        :math:`S_{\\min}` of the DERIVED small-initialisation condition.
    """

    gram: np.ndarray
    log_losses: np.ndarray
    preactivations: np.ndarray
    activation_margins: np.ndarray
    log_scale: float
    log_loss_1: float
    lifted_gram: np.ndarray
    step_min: float

    def margins(self) -> np.ndarray:
        """:math:`s_j y_k\\langle x_k, w_j(1)\\rangle` itself: ``activation_margins`` times
        :math:`\\max_i\\ell_i(0)` (inf where that overflows). The one place the factor is restored."""
        with np.errstate(over="ignore"):
            return self.activation_margins * np.exp(self.log_scale)


def step_one(sample: Sample) -> StepOne:
    """The first GD step in Gram form, :math:`H(1) = H(0) + (\\eta/n) K D` (EXACT, docs/theory.md §2.5).

    :math:`D_{ij} = \\ell_i y_i a_j \\phi'(H_{ij}(0))`. Losses are handled relative to their maximum
    (docs/theory.md §2.6): ``exp(log l - max log l)`` never overflows.
    """
    X, y, W0, a, gamma, eta = sample.X, sample.y, sample.W0, sample.a, sample.gamma, sample.eta
    n = X.shape[0]
    with np.errstate(over="ignore"):
        K = X @ X.T
    if not np.all(np.isfinite(K)):
        # ||x_i||^2 beyond 1.8e308 (e.g. signal = 1e200): no first-step quantity is representable.
        raise UserInputError("the training Gram matrix X X^T overflows float64 (some ||x_i||^2 > "
                             "1.8e308): rescale the data (a smaller signal or covariance).")
    H0 = X @ W0.T
    log_losses = -y * (leaky_relu(H0, gamma) @ a)
    top = float(log_losses.max())
    relative = np.exp(log_losses - top)
    slopes = np.where(H0 > 0, 1.0, gamma)
    s = np.sign(a)
    D_relative = (relative * y)[:, None] * a[None, :] * slopes
    step_relative = (eta / n) * (K @ D_relative)
    # s_j y_k H_kj(1) / max l = s_j y_k (H_kj(0) e^{-top} + step_relative): a positive rescaling.
    margins = (y[:, None] * s[None, :]) * (H0 * np.exp(-top) + step_relative)
    with np.errstate(over="ignore", invalid="ignore"):
        # Finite whenever the initial losses are (top < 709); an overflow shows as inf, never hidden.
        H1 = H0 + np.exp(top) * step_relative
        f1 = leaky_relu(H1, gamma) @ a
    log_loss_1 = float(logsumexp(-y * f1) - math.log(n))
    c = np.where(y[:, None] == s[None, :], 1.0, gamma)
    lifted = (np.outer(y, y) * K) * ((c * a**2) @ c.T)
    correlation = np.outer(y, y) * K
    negative = np.minimum(correlation, 0.0)
    np.fill_diagonal(negative, 0.0)
    step_terms = gamma * relative * np.diag(K) + negative @ relative
    smallest = float(step_terms.min())
    with np.errstate(over="ignore"):
        # 0 * inf would be nan: a zero relative term stays zero at any loss scale.
        step_min = 0.0 if smallest == 0.0 else float(smallest * np.exp(top))
    return StepOne(K, log_losses, H0, margins, top, log_loss_1, lifted, step_min)


def _memoised(sample: Sample, name: str, compute):
    # A Sample is immutable, so what is computed from it once holds for good; several theorems ask
    # for the same statistics and certificate (Theorem 5.1 and 6.x evaluate Theorem 4.8's data
    # condition), and a check over 200 draws would otherwise repeat each SVM solve five times.
    cache = sample.__dict__.setdefault("_memo", {})
    if name not in cache:
        cache[name] = compute(sample)
    return cache[name]


def sample_step_one(sample: Sample) -> StepOne:
    """`step_one` of the draw, computed once per sample."""
    return _memoised(sample, "step_one", step_one)


def sample_statistics(sample: Sample) -> dict[str, float]:
    """Values of the sample symbols of `bounds.symbolic` (EXACT functions of the draw, §3)."""
    return dict(_memoised(sample, "statistics", _sample_statistics))


def sample_limit_direction(sample: Sample) -> LimitDirection:
    """The certified limit direction of the draw (EXACT, §2.2), computed once per sample."""
    return _memoised(sample, "limit_direction",
                     lambda s: limit_direction_from_gram(sample_step_one(s).gram, s.y, s.a, s.gamma, X=s.X))


def sample_values(sample: Sample) -> dict[str, float]:
    """The values at which the sample conditions of `bounds.symbolic` are evaluated (EXACT, §3):
    the statistics of `sample_statistics` with gamma, eta, n and m of the draw. `Theorem48`'s rows
    and the catalogue's declared bounds (`bounds.catalogue`) both evaluate the statements here."""
    return {**sample_statistics(sample), "gamma": float(sample.gamma), "eta": float(sample.eta),
            "n": float(sample.X.shape[0]), "m": float(sample.a.size)}


def certificate_row(sample: Sample, *, section: str = SECTION) -> HypothesisResult:
    """The limit direction's certificate as a hypothesis row (EXACT, §2.2, §3; corrected 2026-11-29).

    Holds when the lifted hard-margin problem is separable, its KKT conditions and duality gap are
    met, and its activation pattern is self-consistent (:math:`s_j y_i\\langle x_i,\\hat w_j\\rangle
    > 0` for every i, j, evaluated through the real :math:`\\phi`). Without it GD's pattern is not the
    one the theorem reduces to (the review's counterexample: Case 2 without :math:`\\gamma` at
    n = 20, d = 6000, :math:`\\gamma` = 0.1, whose pattern broke at t = 7).
    """
    direction = sample_limit_direction(sample)
    ok = direction.refusal is None
    detail = direction.certificate.reason if ok else direction.refusal
    return flag("certificate", "limit direction certified, pattern self-consistent", ok, detail,
                provenance="EXACT", section="§2.2", depends_on_sample=True, evaluated_on="sample")


def _sample_statistics(sample: Sample) -> dict[str, float]:
    one = sample_step_one(sample)
    K, y = one.gram, sample.y
    n = K.shape[0]
    off = np.abs(K - np.diag(np.diag(K)))
    off_diagonal = off[~np.eye(n, dtype=bool)].reshape(n, n - 1)
    # x / 0 = inf (a point orthogonal to all others); 0 / 0 = nan (a zero point, for which the
    # ratio is undefined): the Case 2 rows then read as not holding, never as holding.
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.diag(K) / off_diagonal.max(axis=1)
    # A large initialisation can push a loss past exp(709): rho and L(W(1)) then read inf, which
    # the conditions below report as failing, rather than raising.
    with np.errstate(over="ignore"):
        rho = float(np.exp(one.log_losses.max() - one.log_losses.min()))
        loss_1 = float(np.exp(one.log_loss_1))
        step_one_min = float(one.margins().min())
    return {
        "min_corr": float((np.outer(y, y) * K).min()),
        "orth_ratio": float(ratios.min()),
        "norm_sq_min": float(np.diag(K).min()),
        "off_max": float(off_diagonal.max()),
        "rho": rho,
        "init_max": float(np.abs(one.preactivations).max()),
        "step_min": one.step_min,
        "step_one_min": step_one_min,
        "loss_1": loss_1,
        "lift_radius_sq": float(np.diag(one.lifted_gram).max()),
        "lift_lambda_max": float(np.linalg.eigvalsh(one.lifted_gram)[-1]),
        "step_one_failures": float(np.count_nonzero(one.activation_margins <= 0)),
        "step_one_pairs": float(one.activation_margins.size),
        "negative_pairs": float(np.count_nonzero(np.outer(y, y) * K < 0)),
        "log_loss_1": one.log_loss_1,
    }


class Theorem48(Theorem):
    """Theorem 4.8 (PAPER; conditions RECONSTRUCTED / DERIVED / EXACT as labelled), docs/theory.md §3.

    Constants: ``C_1`` (typical Case 1), ``C_2`` (Case 2), ``C_init`` (typical small init).
    """

    key = "4.8"
    title = "Theorem 4.8 (directional convergence)"
    section = SECTION
    provenance = "PAPER"
    requirements = (("h0",), ("case1", "case2"), ("certificate",), ("init",),
                    ("case1", "step_lambda", "step_radius"))
    default_constants = {"C_1": 1.0, "C_2": 1.0, "C_init": 1.0}

    def _h0(self, config: Config, sample: Sample | None) -> list[HypothesisResult]:
        common = dict(provenance="PAPER", section=SECTION, depends_on_sample=False,
                      evaluated_on="parameters")
        training = config.training
        plain = training.loss == "exponential" and not training.normalized
        gamma = config.network.gamma if sample is None else sample.gamma
        rows = [
            flag("h0", "H0: 0 < gamma < 1", 0 < gamma < 1, f"gamma = {gamma:g}", **common),
            flag("h0", "H0: labels from the mixture", config.data.label_flip == 0,
                 f"label-flip rate {config.data.label_flip:g} (label noise is BEYOND, §8)", **common),
            flag("h0", "H0: plain GD on the exponential loss", plain,
                 f"loss {training.loss!r}, normalized = {training.normalized} (others are BEYOND)",
                 **common),
        ]
        a = config.network.second_layer() if sample is None else sample.a
        deviation = float(np.abs(np.abs(a) * math.sqrt(a.size) - 1.0).max())
        rows.append(evaluate("h0", "H0: a_j = +-1/sqrt(m)", deviation, SECOND_LAYER_TOLERANCE, "<=",
                             detail="max | |a_j| sqrt(m) - 1 |", **common))
        positive, negative = int(np.count_nonzero(a > 0)), int(np.count_nonzero(a < 0))
        rows.append(flag("h0", "H0: balanced neurons m_+ = m_-", positive == negative,
                         f"m_+ = {positive}, m_- = {negative} (an unbalanced second layer is "
                         "BEYOND, §8)", **common))
        return rows

    def hypotheses(self, config: Config, sample: Sample | None = None) -> list[HypothesisResult]:
        values = {**parameter_values(config), **self.constants}
        rows = self._h0(config, sample)
        if sample is None:
            typical = dict(depends_on_sample=True, evaluated_on="typical case")
            rows += [
                from_statement("case1", "Case 1: positive correlation", "case1_typical", values, **typical),
                from_statement("case2", "Case 2: near orthogonality", "case2_typical", values, **typical),
                from_statement("init", "small initialisation", "small_init_typical", values, **typical),
                from_statement("step_lambda", "step size (a): eta L lambda_max(Q) <= 2",
                               "step_size_typical_lambda", values, provenance="DERIVED",
                               detail="typical L(W(1)) and lambda_max(Q)", **typical),
                from_statement("step_radius", "step size (b): eta L max ||x~_i||^2 <= u*",
                               "step_size_typical", values, provenance="DERIVED",
                               detail="typical L(W(1)) and max_i ||x~_i||^2", **typical),
            ]
            return rows
        values.update(sample_values(sample))
        on_sample = dict(depends_on_sample=True, evaluated_on="sample")
        failures = f"{values['step_one_failures']:.0f} of {values['step_one_pairs']:.0f} (k, j) pairs fail"
        rows += [
            from_statement("case1", "Case 1: positive correlation", "case1_sample", values,
                           log_scale=False, detail=f"{values['negative_pairs']:.0f} negative pairs",
                           **on_sample),
            from_statement("case2", "Case 2: near orthogonality", "case2_sample", values, **on_sample),
            certificate_row(sample),
            from_statement("case2_first_step", "Case 2, first step (rho)", "case2_first_step", values,
                           verdict=False, **on_sample),
            from_statement("init", "small initialisation: step-one criterion", "step_one_exact",
                           values, log_scale=False, detail=failures, **on_sample),
            self._small_init_sufficient(values, on_sample),
            from_statement("step_lambda", "step size (a): eta L(W(1)) lambda_max(Q) <= 2",
                           "step_size_lambda", values, **on_sample),
            from_statement("step_radius", "step size (b): eta L(W(1)) max ||x~_i||^2 <= u*",
                           "step_size_sample", values, **on_sample),
        ]
        return rows

    @staticmethod
    def _small_init_sufficient(values: dict, on_sample: dict) -> HypothesisResult:
        if values["step_min"] <= 0:
            # S_min <= 0: the derived bound cannot be met by any initialisation (no log scale).
            return from_statement("init_sufficient", "small initialisation (sufficient)",
                                  "small_init_sample", values, log_scale=False, verdict=False,
                                  detail="S_min <= 0: the sufficient condition is void", **on_sample)
        return from_statement("init_sufficient", "small initialisation (sufficient)",
                              "small_init_sample", values, verdict=False, **on_sample)

    def conclusions(self, config: Config, sample: Sample | None = None) -> list[Conclusion]:
        out = [
            Conclusion("pattern", "after step 1 every neuron is correctly activated and the "
                       "pattern persists", "PAPER", SECTION),
            Conclusion("direction", "W(t)/||W(t)|| converges to the lifted hard-margin direction "
                       "W_hat/||W_hat|| of §2.2 (rate O(1/log t))", "PAPER", SECTION),
            Conclusion("boundary", "the limit decision boundary is linear, sign <w_bar, x>"
                       + ("" if config.network.balanced else " (not exactly: neurons unbalanced)"),
                       "EXACT" if config.network.balanced else "PAPER", "§2.3"),
        ]
        if sample is not None:
            stats = sample_statistics(sample)
            fraction = 1.0 - stats["step_one_failures"] / stats["step_one_pairs"]
            out.append(Conclusion("step-one pattern", "fraction of (k, j) correctly activated after "
                                  "step 1 on this draw", "EXACT", SECTION, value=fraction))
            out.append(Conclusion("log L(W(1))", "log of the training loss after step 1", "EXACT",
                                  "§2.6", value=stats["log_loss_1"]))
        return out


def correct_activation_after_one_step(sample: Sample) -> np.ndarray:
    """Boolean (n, m): neuron j correctly activated on sample k after one step (EXACT, §3)."""
    return sample_step_one(sample).activation_margins > 0

