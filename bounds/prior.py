"""PRIOR bounds of docs/theory.md §6, kept for comparison in the report (constants unspecified, default 1).

``p`` is the label-flip rate (``data.label_flip``), ``delta`` the failure probability (default
0.05, `bounds.rates.DEFAULT_DELTA`). None of these is about the paper's network; they are the
literature the paper is compared with.

- `ChatterjiLong` (JMLR 2021), linear max-margin, sub-Gaussian, isotropic:
  :math:`\\mathrm{err} \\le p + \\exp(-c_{CL}\\|\\mu\\|^4/d)` (no factor n; from a faithful public
  summary of their Theorem 4) under :math:`d \\ge C_{CL}\\max(n\\|\\mu\\|^2, n^2\\log n)`,
  :math:`\\|\\mu\\|^2 \\ge C_{CL}\\log n` and :math:`n \\ge C_{CL}` (corrected 2026-11-29: without
  them the bound "applied" at n = 40, d = 10, ||mu|| = 3, below the Bayes error).
- `CaoGuBelkin` (NeurIPS 2021), max-margin on sub-Gaussian mixtures (recalled, not read):
  :math:`\\mathrm{err} \\le \\exp(-C\\,n\\|\\mu\\|^4/(n\\mu^\\top\\Sigma\\mu + \\|\\Sigma\\|_F^2 +
  n\\|\\Sigma\\|_2^2))` under :math:`\\operatorname{Tr}\\Sigma \\ge C\\max(n^{3/2}\\|\\Sigma\\|_2,
  n\\|\\Sigma\\|_F\\sqrt{\\log(n/\\delta)}, n\\|\\mu\\|^2)` and
  :math:`\\|\\mu\\|^2 \\ge C\\|\\Sigma\\|\\log(n/\\delta)`.
- `FreiEtAl` (Frei, Chatterji & Bartlett COLT 2022; Frei, Vardi, Bartlett & Srebro COLT 2023),
  leaky-ReLU networks: :math:`\\mathrm{err} \\le p + \\exp(-n\\|\\mu\\|^4/(C d))` under
  :math:`d \\ge C\\max(n\\|\\mu\\|^2, n^2\\log(n/\\delta))` and :math:`\\|\\mu\\|^2 \\ge C\\log(n/\\delta)`.
"""

from __future__ import annotations

from bounds import symbolic
from bounds.contract import Conclusion, HypothesisResult, Sample, Theorem, flag, from_statement
from bounds.rates import DEFAULT_DELTA, parameter_values
from bounds.theorem_5_1 import consistency_conclusions
from theorybench.config import Config
from theorybench.numerics import exp_of_log

SECTION = "§6"


def _family_row(key: str, name: str, ok: bool, detail: str) -> HypothesisResult:
    return flag(key, name, ok, detail, provenance="PRIOR", section=SECTION)


def _sub_gaussian(config: Config) -> HypothesisResult:
    family = config.data.noise.family
    return _family_row("sub_gaussian", "sub-Gaussian noise",
                       config.data.noise.sub_gaussian_variance_proxy() is not None,
                       f"noise family {family!r}")


def _isotropic(config: Config) -> HypothesisResult:
    family = config.data.covariance.family
    return _family_row("isotropic", "isotropic covariance", family == "isotropic",
                       f"covariance family {family!r}")


class _PriorBound(Theorem):
    """Common part: ``delta`` is a keyword parameter (a probability, not a universal constant)."""

    provenance = "PRIOR"
    section = SECTION
    symbol = ""
    words = ""

    def __init__(self, delta: float = DEFAULT_DELTA, **constants: float) -> None:
        super().__init__(**constants)
        self.delta = delta

    def _values(self, config: Config) -> dict:
        return {**parameter_values(config, delta=self.delta), **self.constants}

    def conclusions(self, config: Config, sample: Sample | None = None) -> list[Conclusion]:
        s = symbolic.statement(self.symbol)
        log_value = float(s.evaluate(self._values(config)))
        out = [Conclusion("upper bound", self.words, "PRIOR", SECTION, value=exp_of_log(log_value),
                          log_value=log_value, symbol=self.symbol)]
        return out + consistency_conclusions(config, out)

    def _conditions(self, config: Config, conditions) -> list[HypothesisResult]:
        values = self._values(config)
        return [from_statement(key, name, statement, values, depends_on_sample=False,
                               evaluated_on="parameters") for key, name, statement in conditions]


class ChatterjiLong(_PriorBound):
    """Chatterji & Long 2021 (PRIOR, docs/theory.md §6). Constant ``c_CL``."""

    key = "CL21"
    title = "Chatterji-Long 2021 (linear max-margin)"
    requirements = (("sub_gaussian",), ("isotropic",), ("cl_dimension",), ("cl_signal",),
                    ("cl_size",))
    default_constants = {"c_CL": 1.0, "C_CL": 1.0}
    symbol = "log_chatterji_long"
    words = "err <= p + exp(-c ||mu||^4 / d)"

    def hypotheses(self, config: Config, sample: Sample | None = None) -> list[HypothesisResult]:
        return [_sub_gaussian(config), _isotropic(config)] + self._conditions(config, (
            ("cl_dimension", "dimension", "chatterji_long_dimension"),
            ("cl_signal", "signal", "chatterji_long_signal"),
            ("cl_size", "sample size", "chatterji_long_size")))


class CaoGuBelkin(_PriorBound):
    """Cao, Gu & Belkin 2021 (PRIOR, recalled, not read; docs/theory.md §6). Constant ``C_CGB``."""

    key = "CGB21"
    title = "Cao-Gu-Belkin 2021 (max-margin, sub-Gaussian mixtures)"
    requirements = (("sub_gaussian",), ("cgb_condition",), ("cgb_signal",))
    default_constants = {"C_CGB": 1.0}
    symbol = "log_cao_gu_belkin"
    words = "err <= exp(-C n||mu||^4 / (n mu'Sigma mu + ||Sigma||_F^2 + n ||Sigma||^2))"

    def hypotheses(self, config: Config, sample: Sample | None = None) -> list[HypothesisResult]:
        return [_sub_gaussian(config)] + self._conditions(config, (
            ("cgb_condition", "Tr Sigma condition", "cao_gu_belkin_condition"),
            ("cgb_signal", "signal", "cao_gu_belkin_signal")))


class FreiEtAl(_PriorBound):
    """Frei, Chatterji & Bartlett 2022; Frei, Vardi, Bartlett & Srebro 2023 (PRIOR, docs/theory.md §6).
    Constant ``C_F``."""

    key = "F22/23"
    title = "Frei et al. 2022/2023 (leaky-ReLU networks)"
    requirements = (("sub_gaussian",), ("frei_dimension",), ("frei_signal",))
    default_constants = {"C_F": 1.0}
    symbol = "log_frei"
    words = "err <= p + exp(-n ||mu||^4 / (C d))"

    def hypotheses(self, config: Config, sample: Sample | None = None) -> list[HypothesisResult]:
        return [_sub_gaussian(config)] + self._conditions(config, (
            ("frei_dimension", "dimension", "frei_dimension"),
            ("frei_signal", "signal", "frei_signal")))
