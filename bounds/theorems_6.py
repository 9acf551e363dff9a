"""Theorems 6.2 and 6.3 and Assumption 6.1 — beyond Gaussian noise (docs/theory.md §5).

The split of statements between Theorems 5.1 and 6.2 is uncertain (docs/theory.md §5), so each regime's
statement is its own object with its own hypotheses, and its docstring says to which theorem number
it is attributed and how surely.

- `Assumption61` (PAPER, via a review): for :math:`\\Sigma = I`,
  :math:`d \\ge C_{6.1}\\max(n\\|\\mu\\|^2, n^2)` (the same as assumption (CL2) of Frei, Vardi,
  Bartlett & Srebro 2023). Its general-Sigma form is **not recoverable** (its typesetting is broken
  even in the reviewed version), so for anisotropic Sigma it evaluates to "cannot be decided".
  Under it :math:`r = n\\|\\mu\\|^2/d \\le 1/C_{6.1}`: the weak regime.
- `Theorem62` (RECONSTRUCTED): sub-Gaussian noise with proxy :math:`\\sigma_\\psi^2`,
  :math:`\\mathrm{err} \\le C_{sG}\\exp(-c_{sG}\\psi/\\sigma_\\psi^2)` (default :math:`c_{sG} = 1/2`).
- `StrongRegimeBayesOrder` (RECONSTRUCTED): strong isotropic Gaussian regime,
  :math:`\\mathrm{err} \\le C_B\\exp(-c_B\\|\\mu\\|^2)` (the Bayes error is
  :math:`\\Phi(-\\|\\mu\\|) \\approx e^{-\\|\\mu\\|^2/2}`).
- `Theorem63` (RECONSTRUCTED from Markov on the q-th moment of :math:`\\langle b,\\xi\\rangle` with
  Rosenthal's inequality): :math:`E|\\xi_j|^q \\le K`, :math:`q\\in(2,4]`,
  :math:`\\mathrm{err} \\le C_K\\psi^{-q/2}`.
"""

from __future__ import annotations

import math

from bounds import symbolic
from bounds.contract import (Conclusion, HypothesisResult, Sample, Theorem, evaluate, flag,
                             from_statement, undecidable)
from bounds.rates import absolute_moment, default_moment_order, parameter_values, regime
from bounds.theorem_5_1 import (DATA_CONDITION_CONSTANTS, consistency_conclusions,
                                limit_direction_hypotheses, log_bayes_error, rate_conclusions)
from theorybench.config import Config
from theorybench.numerics import exp_of_log
from theorybench.errors import UserInputError

SECTION = "§5"


def assumption_6_1(config: Config, C_61: float = 1.0) -> HypothesisResult:
    """Assumption 6.1 (PAPER, via review; docs/theory.md §5): evaluated for Sigma = I, else undecidable."""
    if config.data.covariance.family != "isotropic":
        return undecidable(
            "assumption_6_1", "Assumption 6.1",
            "its general-Sigma form is not recoverable (docs/theory.md §5); only Sigma = I is encoded",
            provenance="PAPER", section=SECTION)
    values = {**parameter_values(config), "C_61": C_61}
    return from_statement("assumption_6_1", "Assumption 6.1 (Sigma = I)", "assumption_6_1", values,
                          depends_on_sample=False, evaluated_on="parameters")


def _bound(name: str, symbol: str, words: str, values: dict, section: str) -> Conclusion:
    s = symbolic.statement(symbol)
    log_value = float(s.evaluate(values))
    return Conclusion(name, words, s.provenance, section, value=exp_of_log(log_value),
                      log_value=log_value, symbol=symbol)


class Assumption61(Theorem):
    """Assumption 6.1 on its own (PAPER via review, docs/theory.md §5), so that it can be checked alone."""

    key = "A6.1"
    title = "Assumption 6.1"
    section = SECTION
    provenance = "PAPER"
    requirements = (("assumption_6_1",),)
    default_constants = {"C_61": 1.0}

    def hypotheses(self, config: Config, sample: Sample | None = None) -> list[HypothesisResult]:
        return [assumption_6_1(config, self.constants["C_61"])]

    def conclusions(self, config: Config, sample: Sample | None = None) -> list[Conclusion]:
        values = parameter_values(config)
        r = float(symbolic.statement("regime_indicator_alt").evaluate(values))
        return [Conclusion("regime", "under Assumption 6.1, r = n||mu||^2/d <= 1/C: weak regime",
                           "PAPER", SECTION, value=regime(r))]


class Theorem62(Theorem):
    """Sub-Gaussian upper bound, attributed to Theorem 6.2 (likely: public summaries place the
    sub-Gaussian extension there). RECONSTRUCTED, docs/theory.md §5; constants ``C_sg, c_sg, C_61`` (and
    ``C_1, C_2`` of Theorem 4.8's data condition)."""

    key = "6.2"
    title = "Theorem 6.2 (sub-Gaussian noise)"
    section = SECTION
    provenance = "RECONSTRUCTED"
    requirements = (("sub_gaussian",), ("assumption_6_1",), ("balanced",), ("no_label_noise",),
                    ("psi_domain",), ("limit",), ("certificate",))
    # c_sG = 1/2 (docs/theory.md §4, corrected 2026-11-29): for Gaussian noise (proxy 1) a larger constant
    # puts the bound below the Bayes error in the strong isotropic regime.
    default_constants = {"C_sg": 1.0, "c_sg": 0.5, "C_61": 1.0, **DATA_CONDITION_CONSTANTS}

    def hypotheses(self, config: Config, sample: Sample | None = None) -> list[HypothesisResult]:
        proxy = config.data.noise.sub_gaussian_variance_proxy()
        row = flag("sub_gaussian", "sub-Gaussian noise with known proxy", proxy is not None,
                   f"proxy sigma_psi^2 = {proxy:g}" if proxy is not None
                   else f"noise family {config.data.noise.family!r} has no known proxy",
                   provenance="EXACT", section="§1")
        return [row, assumption_6_1(config, self.constants["C_61"])] + \
            limit_direction_hypotheses(config, sample, section=SECTION,
                                       theorem=self)

    def conclusions(self, config: Config, sample: Sample | None = None) -> list[Conclusion]:
        values = {**parameter_values(config), **self.constants}
        out = rate_conclusions(values, "§4")
        if "proxy" in values:
            out.append(_bound("upper bound", "log_upper_6_2", "err <= C_sG exp(-c_sG psi / "
                              "sigma_psi^2)", values, SECTION))
        return out + consistency_conclusions(config, out)


class StrongRegimeBayesOrder(Theorem):
    """Bayes-order error in the strong isotropic Gaussian regime. Attributed to Theorem 6.2 by a
    public summary and read as part of Theorem 5.1's strong regime by docs/theory.md §4: which number is
    uncertain. RECONSTRUCTED, docs/theory.md §4–§5; constants ``C_B, c_B`` (and ``C_1, C_2`` of Theorem 4.8's
    data condition)."""

    key = "6.2-strong"
    title = "Bayes-order error, strong isotropic Gaussian regime (6.2 or 5.1)"
    section = SECTION
    provenance = "RECONSTRUCTED"
    requirements = (("gaussian",), ("isotropic",), ("strong",), ("balanced",), ("no_label_noise",),
                    ("limit",), ("certificate",))
    # c_B = 1/2 (docs/theory.md §4, corrected 2026-11-29): Phi(-||mu||) ~ e^{-||mu||^2/2}, so c_B > 1/2
    # undercuts the Bayes error for large ||mu||.
    default_constants = {"C_B": 1.0, "c_B": 0.5, **DATA_CONDITION_CONSTANTS}

    def hypotheses(self, config: Config, sample: Sample | None = None) -> list[HypothesisResult]:
        values = parameter_values(config)
        common = dict(section=SECTION, depends_on_sample=False, evaluated_on="parameters")
        r = float(symbolic.statement("regime_indicator").evaluate(values))
        noise, covariance = config.data.noise.family, config.data.covariance.family
        rows = [
            flag("gaussian", "Gaussian noise", noise == "gaussian", f"noise family {noise!r}",
                 provenance="PAPER", section=SECTION),
            flag("isotropic", "isotropic covariance", covariance == "isotropic",
                 f"covariance family {covariance!r}", provenance="PAPER", section=SECTION),
            evaluate("strong", "strong regime r >= 1", math.log(r) if r > 0 else -math.inf, 0.0,
                     ">=", provenance="RECONSTRUCTED", log_scale=True, statement="regime_indicator",
                     **common),
        ]
        return rows + limit_direction_hypotheses(config, sample, section=SECTION,
                                       theorem=self)

    def conclusions(self, config: Config, sample: Sample | None = None) -> list[Conclusion]:
        values = {**parameter_values(config), **self.constants}
        log_bayes = log_bayes_error(values)
        out = [
            _bound("upper bound", "log_bayes_order", "err <= C_B exp(-c_B ||mu||^2)", values, SECTION),
            Conclusion("Bayes error", "Phi(-sqrt(mu' Sigma^+ mu))", "EXACT", "§2.4",
                       value=exp_of_log(log_bayes), log_value=log_bayes),
        ]
        return out + consistency_conclusions(config, out)


class Theorem63(Theorem):
    """Polynomial-tail bound, attributed to Theorem 6.3 (fairly sure: docs/theory.md §5). RECONSTRUCTED;
    constants ``C_K, C_61`` (and ``C_1, C_2`` of Theorem 4.8's data condition); ``moment_order`` q
    in (2, 4] (default: `default_moment_order`)."""

    key = "6.3"
    title = "Theorem 6.3 (polynomial tails)"
    section = SECTION
    provenance = "RECONSTRUCTED"
    requirements = (("moment",), ("assumption_6_1",), ("balanced",), ("no_label_noise",),
                    ("psi_domain",), ("limit",), ("certificate",))
    default_constants = {"C_K": 1.0, "C_61": 1.0, **DATA_CONDITION_CONSTANTS}

    def __init__(self, moment_order: float | None = None, **constants: float) -> None:
        super().__init__(**constants)
        if moment_order is not None and not (isinstance(moment_order, (int, float))
                                             and 2 < moment_order <= 4):
            raise UserInputError(
                f"moment_order = {moment_order!r} is not allowed: it must be in (2, 4].")
        self.moment_order = None if moment_order is None else float(moment_order)

    def _order(self, config: Config) -> float:
        return self.moment_order or default_moment_order(config.data.noise)

    def hypotheses(self, config: Config, sample: Sample | None = None) -> list[HypothesisResult]:
        q = self._order(config)
        K = absolute_moment(config.data.noise, q)
        # A yes/no row: "K < inf" as a relation would read "holds by inf" or "fails by nan".
        row = flag("moment", f"finite moment E|xi|^{q:g} = K", math.isfinite(K),
                   f"K = {K:.4g}, q = {q:g}" if math.isfinite(K) else
                   f"K = inf, q = {q:g} (the noise law has no finite moment of order q)",
                   provenance="EXACT", section="§1")
        return [row, assumption_6_1(config, self.constants["C_61"])] + \
            limit_direction_hypotheses(config, sample, section=SECTION,
                                       theorem=self)

    def conclusions(self, config: Config, sample: Sample | None = None) -> list[Conclusion]:
        q = self._order(config)
        values = {**parameter_values(config), **self.constants, "moment_order": q}
        out = rate_conclusions(values, "§4")
        out.append(Conclusion("K", f"E|xi|^{q:g}", "EXACT", "§1",
                              value=absolute_moment(config.data.noise, q)))
        out.append(_bound("upper bound", "log_upper_6_3", f"err <= C_K psi^(-{q:g}/2)", values, SECTION))
        return out + consistency_conclusions(config, out)
