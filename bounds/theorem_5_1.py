"""Theorem 5.1 — test error of the limit direction for Gaussian mixtures (docs/theory.md §4).

PAPER: a closed-form bound on the test error of the limit direction with a phase transition between
a weak- and a strong-signal regime, and matching upper and lower bounds for Gaussian mixtures.
RECONSTRUCTED form (constants ``C_u, c_u, c_l, C_l``, default 1):

.. math::
    c_l\\, e^{-C_l\\psi} \\;\\le\\; \\mathrm{err}(\\bar w) \\;\\le\\; C_u\\, e^{-c_u\\psi},\\qquad
    \\psi = \\frac{n\\|\\mu\\|^4}{n\\,\\mu^\\top\\Sigma\\mu + \\operatorname{Tr}\\Sigma^2},\\qquad
    r = \\frac{n\\,\\mu^\\top\\Sigma\\mu}{\\operatorname{Tr}\\Sigma^2},

weak regime :math:`r < 1` (:math:`\\psi \\asymp n\\|\\mu\\|^4/\\operatorname{Tr}\\Sigma^2`), strong
regime :math:`r \\ge 1` (:math:`\\psi \\asymp \\|\\mu\\|^4/\\mu^\\top\\Sigma\\mu`), and the calibrated
point prediction :math:`\\Phi(-\\sqrt\\psi)` (RECONSTRUCTED, §4). For consistent constants
(:math:`c_l \\le C_u`, :math:`c_u \\le C_l`) the lower bound never exceeds the upper one. The
Bayes error :math:`\\Phi(-\\sqrt{\\mu^\\top\\Sigma^{+}\\mu})` is EXACT (§2.4).

Hypotheses: Gaussian noise (PAPER), balanced neurons (EXACT requirement of the linear boundary,
§2.3), no label noise, and the data condition of Theorem 4.8 (Case 1 or Case 2), under which the
limit direction is the lifted hard-margin direction. The initialisation and step-size conditions of
Theorem 4.8 concern whether gradient descent *reaches* that direction, not its error, and are not
required here (the verifier evaluates the limit direction exactly).
"""

from __future__ import annotations

import math

from bounds import symbolic
from bounds.boundaries import benign_boundary, phase_boundary
from bounds.error_functionals import log_bayes_error_from_mahalanobis, log_gaussian_error
from bounds.contract import (Conclusion, HypothesisResult, Sample, Theorem, flag, from_statement,
                             requirement_verdict)
from bounds.rates import CANDIDATE_EXPONENTS, parameter_values, regime
from bounds.theorem_4_8 import Theorem48, certificate_row, sample_limit_direction
from theorybench.config import Config
from theorybench.numerics import exp_of_log
from theorybench.covariance import covariance_apply

SECTION = "§4"


# The constants of Theorem 4.8's data condition (Case 1, Case 2), which the error theorems require:
# each of them carries these too, so that `--constant C_2=0.5` changes Theorem 4.8 and every theorem
# that relies on it alike (default 1, docs/theory.md §0).
DATA_CONDITION_CONSTANTS = {"C_1": 1.0, "C_2": 1.0, "C_r": 1.0}


def limit_direction_hypotheses(config: Config, sample: Sample | None, *, section: str,
                               theorem: Theorem) -> list[HypothesisResult]:
    """Rows shared by the error theorems: balanced neurons, no label noise, psi's validity domain,
    Theorem 4.8's data condition (and, on a sample, the limit direction's certificate).

    ``theorem`` is the error theorem asking: its ``C_r`` decides psi's domain, and its ``C_1, C_2``
    Theorem 4.8's Case 1 / Case 2 rows (`data_condition`).
    """
    common = dict(section=section, depends_on_sample=False, evaluated_on="parameters")
    network = config.network
    values = {**parameter_values(config), "C_r": theorem.constants["C_r"]}
    rows = [
        # The bounds are written in psi, which is the wrong exponent below this effective rank
        # (docs/theory.md §4, corrected 2026-11-29).
        from_statement("psi_domain", "psi in its validity domain (effective rank >= C n)",
                       "psi_domain", values, depends_on_sample=False, evaluated_on="parameters"),
        flag("balanced", "balanced neurons (linear boundary, §2.3)", network.balanced,
             f"m_+ = {network.positive_neurons}, m_- = {network.m - network.positive_neurons}",
             provenance="EXACT", **common),
        flag("no_label_noise", "labels from the mixture", config.data.label_flip == 0,
             f"label-flip rate {config.data.label_flip:g} (label noise is BEYOND, §8)",
             provenance="PAPER", **common),
    ]
    direction = data_condition(theorem).hypotheses(config, sample)
    ok, _ = requirement_verdict(direction, (("case1", "case2"),))
    rows.append(flag("limit", "data condition of Theorem 4.8 (Case 1 or Case 2)", ok,
                     "Case 1 or Case 2 of Theorem 4.8 holds" if ok else
                     "neither Case 1 nor Case 2 of Theorem 4.8 holds (see its rows)",
                     provenance="PAPER", section="§3", depends_on_sample=True,
                     evaluated_on="typical case" if sample is None else "sample"))
    if sample is not None:
        # The error is that of the certified limit direction: without a certificate there is no
        # such direction on this draw (docs/theory.md §2.2, §3, corrected 2026-11-29).
        rows.append(certificate_row(sample, section=section))
    return rows


def log_bayes_error(values: dict) -> float:
    """log Phi(-sqrt(mu^T Sigma^+ mu)), EXACT for Gaussian noise (§2.4); -inf when mu is outside
    range(Sigma) (perfect separation)."""
    return log_bayes_error_from_mahalanobis(values["mahalanobis_sq"])


def rate_conclusions(values: dict, section: str) -> list[Conclusion]:
    """psi, every candidate exponent, the regime indicator, the regime, and the ||mu|| of the phase
    boundary (r = 1) and of the benign boundary (psi = 1), closed forms solved by sympy ahead of time
    (`bounds.boundaries`; RECONSTRUCTED, §4)."""
    out = []
    for name, (exponent, _) in CANDIDATE_EXPONENTS.items():
        s = symbolic.statement(exponent)
        out.append(Conclusion(name, s.description, s.provenance, s.section,
                              value=float(s.evaluate(values)), symbol=exponent))
    r = float(symbolic.statement("regime_indicator").evaluate(values))
    out.append(Conclusion("r", "regime indicator n mu'Sigma mu / Tr Sigma^2", "RECONSTRUCTED",
                          section, value=r, symbol="regime_indicator"))
    out.append(Conclusion("regime", f"{regime(r)} signal (knee at r = 1)", "RECONSTRUCTED", section,
                          value=regime(r)))
    if values["mu_norm"] > 0:
        # The boundaries hold the direction of mu fixed, which needs a direction (||mu|| > 0).
        # With kappa = mu'Sigma mu/||mu||^2, r = n kappa ||mu||^2 / Tr Sigma^2 reaches 1 at one
        # ||mu|| iff kappa > 0 and Tr Sigma^2 > 0; psi = n||mu||^4/(n kappa ||mu||^2 + Tr Sigma^2)
        # reaches 1 iff its denominator is not identically 0 (both are valid inputs: a user Sigma
        # with mu outside its range, or Sigma = 0).
        kappa_positive = values["mu_sigma_mu"] > 0
        noise_positive = values["tr_sigma2"] > 0
        functionals = (values["mu_norm"] ** 2, values["mu_sigma_mu"], values["tr_sigma2"])
        finite = all(math.isfinite(v) for v in functionals)
        if not finite:
            # E.g. signal = 1e200: ||mu||^2 overflows float64 and no boundary can be solved for.
            out.append(Conclusion("knee signal", "not computed: ||mu||^2, mu'Sigma mu or Tr Sigma^2 "
                                  "overflows float64", "RECONSTRUCTED", section))
        elif kappa_positive and noise_positive:
            knee = phase_boundary(values)
            out.append(Conclusion("knee signal", "||mu|| at r = 1, the phase boundary (direction "
                                  f"of mu fixed): mu_norm = {knee.formula}", "RECONSTRUCTED",
                                  section, value=knee.value))
        else:
            why = ("0/0 for every ||mu|| (Sigma = 0)" if not (kappa_positive or noise_positive)
                   else "0 for every ||mu|| (mu'Sigma mu = 0)" if not kappa_positive
                   else "inf for every ||mu|| (Tr Sigma^2 = 0)")
            out.append(Conclusion("knee signal", "no phase boundary: r = " + why, "RECONSTRUCTED",
                                  section))
        if not finite:
            out.append(Conclusion("benign signal", "not computed: ||mu||^2, mu'Sigma mu or "
                                  "Tr Sigma^2 overflows float64", "RECONSTRUCTED", section))
        elif kappa_positive or noise_positive:
            benign = benign_boundary(values)
            out.append(Conclusion("benign signal", "||mu|| at psi = 1: error of order one below, "
                                  "decaying above (direction of mu fixed)", "RECONSTRUCTED",
                                  section, value=benign.value))
        else:
            out.append(Conclusion("benign signal", "no benign boundary: psi = inf for every "
                                  "||mu|| > 0 (Sigma = 0 along mu and Tr Sigma^2 = 0)",
                                  "RECONSTRUCTED", section))
    return out



def consistency_conclusions(config: Config, conclusions: list[Conclusion]) -> list[Conclusion]:
    """Flags of encoded constants that contradict an EXACT quantity (docs/theory.md §4, §7).

    - An upper bound on the test error below the EXACT Bayes error
      :math:`\\Phi(-\\sqrt{\\mu^\\top\\Sigma^{+}\\mu})` (Gaussian noise, balanced classes: no classifier
      does better) is an inconsistency of the encoded constants, e.g. :math:`C_u = c_u = 1` at
      n = 40, d = 100, ||mu|| = 15 prints :math:`e^{-222.5}` against a Bayes error :math:`e^{-116.1}`.
    - A lower bound above the EXACT error of the limit direction on the drawn sample is one too.

    Returns one ``inconsistency`` conclusion per violated pair (EXACT: the comparison is exact; what
    it convicts is the RECONSTRUCTED or PRIOR constant), or none.
    """
    by_name = {c.name: c for c in conclusions}
    out = []
    upper, lower = by_name.get("upper bound"), by_name.get("lower bound")
    exact = by_name.get("exact error")
    gaussian = config.data.noise.family == "gaussian" and config.data.class_balance == 0.5
    if gaussian and upper is not None and upper.log_value is not None:
        log_bayes = log_bayes_error(parameter_values(config))
        if upper.log_value < log_bayes:
            out.append(Conclusion(
                "inconsistency", f"the upper bound exp({upper.log_value:.4g}) lies below the exact "
                f"Bayes error exp({log_bayes:.4g}): the encoded constants are inconsistent (no "
                "classifier can meet this bound)", "EXACT", "§2.4, §4", log_value=upper.log_value))
    if lower is not None and lower.log_value is not None and exact is not None \
            and exact.log_value is not None and lower.log_value > exact.log_value:
        out.append(Conclusion(
            "inconsistency", f"the lower bound exp({lower.log_value:.4g}) lies above the exact error "
            f"exp({exact.log_value:.4g}) of the limit direction on this draw: the encoded constants "
            "are inconsistent", "EXACT", "§2.4, §4", log_value=lower.log_value))
    return out


def data_condition(theorem: Theorem) -> Theorem48:
    """Theorem 4.8 with the ``C_1, C_2`` of ``theorem`` (an error theorem that requires its data
    condition)."""
    return Theorem48(**{k: theorem.constants[k] for k in ("C_1", "C_2")})


class Theorem51(Theorem):
    """Theorem 5.1 (PAPER shape, RECONSTRUCTED form), docs/theory.md §4. Constants ``C_u, c_u, c_l, C_l``,
    and ``C_1, C_2`` of the data condition of Theorem 4.8 it requires."""

    key = "5.1"
    title = "Theorem 5.1 (Gaussian error of the limit direction)"
    section = SECTION
    provenance = "RECONSTRUCTED"
    requirements = (("gaussian",), ("balanced",), ("no_label_noise",), ("psi_domain",), ("limit",),
                    ("certificate",))
    # c_u = 1/2 (docs/theory.md §4, corrected 2026-11-29): with c_u > 1/2 the upper bound falls below the
    # Bayes error Phi(-||mu||) ~ e^{-||mu||^2/2} in the strong isotropic regime.
    default_constants = {"C_u": 1.0, "c_u": 0.5, "c_l": 1.0, "C_l": 1.0, **DATA_CONDITION_CONSTANTS}

    def hypotheses(self, config: Config, sample: Sample | None = None) -> list[HypothesisResult]:
        family = config.data.noise.family
        rows = [flag("gaussian", "Gaussian noise", family == "gaussian", f"noise family {family!r}",
                     provenance="PAPER", section=SECTION)]
        return rows + limit_direction_hypotheses(config, sample, section=SECTION,
                                                 theorem=self)

    def conclusions(self, config: Config, sample: Sample | None = None) -> list[Conclusion]:
        values = {**parameter_values(config), **self.constants}
        out = rate_conclusions(values, SECTION)
        for name, symbol, words in (
            ("upper bound", "log_upper_5_1", "err <= C_u exp(-c_u psi)"),
            ("lower bound", "log_lower_5_1", "err >= c_l exp(-C_l psi) (Gaussian)"),
            ("prediction", "log_prediction_5_1", "err ~ Phi(-sqrt psi) (calibrated to ~10% in the "
                                                 "exponent, §4)"),
        ):
            log_value = float(symbolic.statement(symbol).evaluate(values))
            out.append(Conclusion(name, words, "RECONSTRUCTED", SECTION, value=exp_of_log(log_value),
                                  log_value=log_value, symbol=symbol))
        log_bayes = log_bayes_error(values)
        out.append(Conclusion("Bayes error", "Phi(-sqrt(mu' Sigma^+ mu))", "EXACT", "§2.4",
                              value=exp_of_log(log_bayes), log_value=log_bayes))
        if sample is not None:
            out += exact_error_on_sample(config, sample, psi=out[0].value,
                                         log_prefactor=math.log(self.constants["C_u"]))
        return out + consistency_conclusions(config, out)


def exact_error_on_sample(config: Config, sample: Sample, *, psi: float,
                          log_prefactor: float = 0.0) -> list[Conclusion]:
    """The EXACT Gaussian test error of the limit direction of this draw (docs/theory.md §2.2–2.4) and the
    implied constant :math:`\\hat c = (\\log C_u - \\log\\mathrm{err})/\\psi` of the rate statement
    :math:`\\mathrm{err} \\le C_u e^{-c\\psi}` (§7; ``log_prefactor`` is :math:`\\log C_u`, 0 by default).

    :math:`\\mathrm{err}(\\bar w) = \\Phi(-\\langle\\bar w,\\mu\\rangle/\\|\\Sigma^{1/2}\\bar w\\|)` with
    :math:`\\bar w = \\sum_i\\lambda_i y_i x_i`, the boundary of the balanced network (§2.3). When
    the limit direction is refused (not separable, pattern not self-consistent) or the neurons are
    unbalanced, the conclusion says so instead of giving a number.
    """
    name, words = "exact error", "Gaussian error of the limit direction w_bar on this draw"
    if config.data.noise.family != "gaussian" or not config.network.balanced:
        return [Conclusion(name, words + ": not applicable (needs Gaussian noise and balanced "
                           "neurons)", "EXACT", "§2.4")]
    direction = sample_limit_direction(sample)
    if direction.refusal is not None:
        return [Conclusion(name, f"{words}: no certified limit direction ({direction.refusal})",
                           "EXACT", "§2.2")]
    w = direction.linear_direction
    t = float(w @ config.data.mean_vector())
    s = math.sqrt(max(float(covariance_apply(config.data, w[None, :])[0] @ w), 0.0))
    log_error = log_gaussian_error(t, s)
    out = [Conclusion(name, words, "EXACT", "§2.4", value=exp_of_log(log_error), log_value=log_error)]
    if math.isfinite(log_error) and psi > 0:
        # RECONSTRUCTED, not EXACT: err is exact, but psi is the reconstructed rate of §4.
        out.append(Conclusion("implied c", "(log C_u - log err(w_bar)) / psi on this draw (the "
                              "constant c of C_u exp(-c psi), §7)", "RECONSTRUCTED", "§4, §7",
                              value=(log_prefactor - log_error) / psi))
    return out
