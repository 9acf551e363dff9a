"""The contract of a checkable theorem: hypotheses, conclusions, and a verdict with its reason.

A theorem (benchopt's ``skip(**kw) -> (bool, reason)`` shape, docs/architecture.md) has named
hypotheses, each evaluated to a `HypothesisResult` (holds / lhs / rhs / margin / constants / reason /
provenance), and conclusions (`Conclusion`) that say what it predicts and with which provenance.
"Not applicable because condition X fails by a factor 3.2" is a first-class result: `Theorem.applies`
returns it.

Every condition that carries a universal constant also reports the critical value of that constant
(the largest value for which it still holds, every constant here multiplying the side that must be
the smaller one).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from bounds import symbolic
from theorybench.config import Config
from theorybench.errors import UserInputError
from theorybench.jsonio import strict_json_value

EVALUATED_ON = ("parameters", "typical case", "sample")
# Requirement keys that exist only on a drawn sample: the certificate of the limit direction
# (docs/theory.md §2.2, §3). Without a sample they are not required (and the verdict says it is a
# typical-case verdict).
SAMPLE_ONLY_KEYS = ("certificate",)


@dataclass(frozen=True)
class Sample:
    """A drawn training set and initialisation, as plain arrays (so `bounds` never imports the sampler).

    Attributes
    ----------
    X : (n, d) float64 array
        Training inputs, rows are samples.
    y : (n,) float64 array
        Labels in {+1, -1}.
    W0 : (m, d) float64 array
        Initial first-layer weights, rows are neurons.
    a : (m,) float64 array
        Fixed second layer.
    gamma : float
        Leaky-ReLU slope.
    eta : float
        Step size.
    """

    X: np.ndarray
    y: np.ndarray
    W0: np.ndarray
    a: np.ndarray
    gamma: float
    eta: float

    def __post_init__(self) -> None:
        X = np.asarray(self.X, dtype=np.float64)
        y = np.asarray(self.y, dtype=np.float64)
        W0 = np.asarray(self.W0, dtype=np.float64)
        a = np.asarray(self.a, dtype=np.float64)
        if X.ndim != 2:
            raise UserInputError(f"sample X has shape {X.shape}: it must be a 2-d (n, d) array.")
        if y.shape != (X.shape[0],) or not np.all(np.abs(y) == 1.0):
            raise UserInputError(
                f"sample y has shape {y.shape}: it must be ({X.shape[0]},) with entries +1 or -1.")
        if a.ndim != 1 or W0.shape != (a.size, X.shape[1]):
            raise UserInputError(
                f"sample W0 has shape {W0.shape} and a has shape {a.shape}: they must be (m, "
                f"{X.shape[1]}) and (m,).")
        if not all(np.all(np.isfinite(v)) for v in (X, W0, a)):
            raise UserInputError("sample X, W0 and a must be finite.")
        if not (0 < self.gamma < 1):
            raise UserInputError(f"sample gamma = {self.gamma!r} is not allowed: it must be in (0, 1).")
        if not (self.eta > 0 and math.isfinite(self.eta)):
            raise UserInputError(f"sample eta = {self.eta!r} is not allowed: it must be finite and > 0.")
        for name, value in (("X", X), ("y", y), ("W0", W0), ("a", a)):
            object.__setattr__(self, name, value)


@dataclass(frozen=True)
class HypothesisResult:
    """One hypothesis evaluated on a configuration (and possibly a sample).

    Attributes
    ----------
    key : str
        Which requirement of the theorem it serves (several rows may share a key: all must hold).
    name : str
        Human-readable name.
    holds : bool or None
        None when the hypothesis cannot be evaluated (e.g. a form that is not recoverable).
    lhs, rhs : float
        The two sides of ``lhs relation rhs``; natural logarithms when ``log_scale``.
    relation : str
        ``">="``, ``">"``, ``"<="`` or ``"<"``.
    margin : float
        Positive iff the hypothesis holds strictly: ``lhs - rhs`` (or ``rhs - lhs`` for ``<``);
        with ``log_scale`` this is the log of the factor by which it holds (or fails).
    log_scale : bool
        Whether lhs, rhs and margin are natural logarithms.
    constants : mapping
        Universal constants used (name -> value).
    critical_constant : float or None
        The largest value of the condition's constant for which it still holds.
    reason : str
        One line.
    provenance : str
        One of `bounds.symbolic.PROVENANCES`.
    section : str
        docs/theory.md section.
    depends_on_sample : bool
        Whether the statement is about the drawn sample.
    evaluated_on : str
        ``"parameters"``, ``"typical case"`` (the typical-case version of a sample statement) or
        ``"sample"``.
    statement : str or None
        Name of the `bounds.symbolic` statement (for its LaTeX).
    verdict : bool
        Whether this row enters `Theorem.applies` (informational rows do not).
    is_flag : bool
        A yes/no hypothesis (see `flag`): lhs and rhs carry no information beyond ``holds``.
    """

    key: str
    name: str
    holds: bool | None
    lhs: float
    rhs: float
    relation: str
    margin: float
    log_scale: bool
    constants: Mapping[str, float]
    critical_constant: float | None
    reason: str
    provenance: str
    section: str
    depends_on_sample: bool
    evaluated_on: str
    statement: str | None = None
    verdict: bool = True
    is_flag: bool = False

    def to_dict(self) -> dict:
        # A flag's lhs 1/0 against 1/2 and margin +-1/2 only encode "holds": they are not measured
        # quantities, so they are written as null, never as numbers a reader could take for margins.
        measured = not self.is_flag
        return {
            "key": self.key, "name": self.name, "holds": self.holds,
            "lhs": _finite(self.lhs) if measured else None,
            "rhs": _finite(self.rhs) if measured else None, "relation": self.relation,
            "margin": _finite(self.margin) if measured else None,
            "log_scale": self.log_scale, "constants": dict(self.constants),
            "critical_constant": _finite(self.critical_constant), "reason": self.reason,
            "provenance": self.provenance, "section": self.section,
            "depends_on_sample": self.depends_on_sample, "evaluated_on": self.evaluated_on,
            "statement": self.statement, "verdict": self.verdict, "is_flag": self.is_flag,
            "latex": symbolic.statement(self.statement).latex() if self.statement else None,
        }


@dataclass(frozen=True)
class Conclusion:
    """What a theorem predicts.

    Attributes
    ----------
    name : str
        Short name (``"upper bound"``, ``"psi"``, ``"regime"``...).
    statement : str
        One line, in words.
    provenance, section : str
        As for hypotheses.
    value : float, str or None
        The predicted value (a probability may underflow to 0: read ``log_value``).
    log_value : float or None
        Natural log of ``value`` for probabilities and bounds.
    symbol : str or None
        Name of the `bounds.symbolic` statement, when there is one.
    """

    name: str
    statement: str
    provenance: str
    section: str
    value: float | str | None = None
    log_value: float | None = None
    symbol: str | None = None

    def to_dict(self) -> dict:
        value = _finite(self.value) if isinstance(self.value, float) else self.value
        return {
            "name": self.name, "statement": self.statement, "provenance": self.provenance,
            "section": self.section, "value": value, "log_value": _finite(self.log_value),
            "log10_value": None if self.log_value is None else _finite(self.log_value / math.log(10)),
            "symbol": self.symbol,
            "latex": symbolic.statement(self.symbol).latex() if self.symbol else None,
        }


def _finite(value: float | None) -> float | str | None:
    """JSON has no inf/nan: they become the strings "Infinity", "-Infinity", "NaN", the spelling
    of every results file (`theorybench.jsonio`)."""
    return strict_json_value(value)


def _margin(lhs: float, rhs: float, relation: str) -> float:
    return lhs - rhs if relation in (">=", ">") else rhs - lhs


def _format(value: float) -> str:
    return f"{value:.4g}"


def evaluate(key: str, name: str, lhs: float, rhs: float, relation: str, *, provenance: str,
             section: str, depends_on_sample: bool, evaluated_on: str, log_scale: bool = False,
             constants: Mapping[str, float] | None = None, critical_constant: float | None = None,
             statement: str | None = None, detail: str = "", verdict: bool = True) -> HypothesisResult:
    """Build a `HypothesisResult` from the two sides of a relation, with its one-line reason.

    With ``log_scale`` the sides are natural logarithms and the reason states the factor
    ``exp(|margin|)`` by which the hypothesis holds or fails.
    """
    if evaluated_on not in EVALUATED_ON:
        raise ValueError(f"evaluated_on must be one of {EVALUATED_ON}")
    holds = symbolic.compare(lhs, rhs, relation)
    margin = _margin(lhs, rhs, relation)
    if log_scale:
        # Beyond exp(700) a factor is shown as a power of e: float64 overflows near exp(709).
        if math.isinf(margin):
            amount = "by an infinite factor"
        elif abs(margin) > 700:
            amount = f"by a factor exp({abs(margin):.4g})"
        else:
            amount = f"by a factor {_format(math.exp(abs(margin)))}"
        shown = f"{_format(math.exp(lhs)) if abs(lhs) < 700 else f'exp({lhs:.4g})'} {relation} " \
                f"{_format(math.exp(rhs)) if abs(rhs) < 700 else f'exp({rhs:.4g})'}"
    else:
        amount = f"by {_format(abs(margin))}"
        shown = f"{_format(lhs)} {relation} {_format(rhs)}"
    reason = f"holds {amount}: {shown}" if holds else f"fails {amount}: not {shown}"
    if critical_constant is not None:
        reason += f"; holds for constant <= {_format(critical_constant)}"
    if detail:
        reason += f" ({detail})"
    if evaluated_on == "typical case":
        reason += " [typical case; depends on the sample]"
    return HypothesisResult(
        key=key, name=name, holds=holds, lhs=lhs, rhs=rhs, relation=relation, margin=margin,
        log_scale=log_scale, constants=dict(constants or {}), critical_constant=critical_constant,
        reason=reason, provenance=provenance, section=section, depends_on_sample=depends_on_sample,
        evaluated_on=evaluated_on, statement=statement, verdict=verdict,
    )


def flag(key: str, name: str, ok: bool, detail: str, *, provenance: str, section: str,
         depends_on_sample: bool = False, evaluated_on: str = "parameters",
         verdict: bool = True) -> HypothesisResult:
    """A yes/no hypothesis (a family, a structural property): lhs 1 or 0 against rhs 1/2, so that
    the margin is +1/2 when it holds and -1/2 when it fails; the reason is the ``detail``."""
    return HypothesisResult(
        key=key, name=name, holds=ok, lhs=1.0 if ok else 0.0, rhs=0.5, relation=">",
        margin=0.5 if ok else -0.5, log_scale=False, constants={}, critical_constant=None,
        reason=("holds: " if ok else "fails: ") + detail, provenance=provenance, section=section,
        depends_on_sample=depends_on_sample, evaluated_on=evaluated_on, verdict=verdict,
        is_flag=True,
    )


def from_statement(key: str, name: str, statement_name: str, values: Mapping[str, float], *,
                   depends_on_sample: bool, evaluated_on: str,
                   log_scale: bool = True, detail: str = "", verdict: bool = True,
                   provenance: str | None = None) -> HypothesisResult:
    """Evaluate a condition of `bounds.symbolic` at ``values`` (parameters, sample statistics and
    constants together) and wrap it as a `HypothesisResult`.

    With ``log_scale`` both sides are compared through their logarithms (they are positive).
    """
    s = symbolic.statement(statement_name)
    lhs, rhs = s.evaluate(values)
    used = {c: float(values[c]) for c in s.symbol_names if c in symbolic.CONSTANT_NAMES}
    critical = symbolic.critical_constant(statement_name, values) if s.constant_name is not None else None
    if log_scale:
        lhs, rhs = _safe_log(lhs), _safe_log(rhs)
    return evaluate(key, name, lhs, rhs, s.relation, provenance=provenance or s.provenance,
                    section=s.section, depends_on_sample=depends_on_sample,
                    evaluated_on=evaluated_on, log_scale=log_scale, constants=used,
                    critical_constant=critical, statement=statement_name, detail=detail,
                    verdict=verdict)


def _safe_log(value: float) -> float:
    return math.log(value) if value > 0 else -math.inf


def undecidable(key: str, name: str, reason: str, *, provenance: str, section: str,
                depends_on_sample: bool = False) -> HypothesisResult:
    """A hypothesis that cannot be evaluated (its form is not recoverable): ``holds = None``."""
    return HypothesisResult(
        key=key, name=name, holds=None, lhs=math.nan, rhs=math.nan, relation=">=", margin=math.nan,
        log_scale=False, constants={}, critical_constant=None, reason=reason,
        provenance=provenance, section=section, depends_on_sample=depends_on_sample,
        evaluated_on="parameters",
    )


def requirement_verdict(results: Sequence[HypothesisResult],
                        requirements: Sequence[Sequence[str]]) -> tuple[bool, str]:
    """Decide applicability from the verdict rows.

    ``requirements`` is a conjunction of groups; a group is satisfied when, for at least one of its
    keys, every verdict row with that key holds. The reason names the first unsatisfied group and,
    for each alternative, its first failing row and that row's reason.
    """
    rows = [r for r in results if r.verdict]
    typical = any(r.evaluated_on == "typical case" for r in rows)
    on_sample = any(r.evaluated_on == "sample" for r in rows)
    for group in requirements:
        failures = []
        for key in group:
            keyed = [r for r in rows if r.key == key]
            if not keyed and key in SAMPLE_ONLY_KEYS and not on_sample:
                # A property of a drawn sample (the limit direction's certificate) has no typical
                # value: without a sample it is not required, and the reason says so below.
                break
            if not keyed:
                failures.append(f"{key} was not evaluated")
                continue
            bad = next((r for r in keyed if r.holds is not True), None)
            if bad is None:
                break
            state = f"cannot be evaluated ({bad.reason})" if bad.holds is None else bad.reason
            failures.append(f"{bad.name} {state}")
        else:
            joined = " and ".join(failures) if len(failures) == 1 else \
                "none of the alternatives holds: " + "; ".join(failures)
            return False, f"does not apply because {joined}"
    suffix = (" (typical case: evaluate on a sample, or over draws, for the actual draw and the "
              "certificate of the limit direction)") if typical else ""
    return True, "applies: every required hypothesis holds" + suffix


class Theorem:
    """Base class: a named theorem with hypotheses, conclusions and universal constants.

    Subclasses set ``key``, ``title``, ``section``, ``provenance``, ``requirements`` and
    ``default_constants`` and implement `hypotheses` and `conclusions`. Constants are keyword
    arguments of the constructor (default 1, docs/theory.md §0), validated to be finite and positive.
    """

    key = "theorem"
    title = ""
    section = ""
    provenance = "PAPER"
    requirements: tuple[tuple[str, ...], ...] = ()
    default_constants: dict[str, float] = {}

    def __init__(self, **constants: float) -> None:
        merged = dict(self.default_constants)
        for name, value in constants.items():
            if name not in merged:
                raise UserInputError(
                    f"constant {name} is not a constant of {self.title}: its constants are "
                    f"{', '.join(merged) or 'none'}.")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                    not (math.isfinite(value) and value > 0):
                raise UserInputError(
                    f"constant {name} = {value!r} is not allowed: it must be a finite real > 0.")
            merged[name] = float(value)
        self.constants: dict[str, float] = merged

    def __repr__(self) -> str:
        constants = ", ".join(f"{k}={v:g}" for k, v in self.constants.items())
        return f"{type(self).__name__}({constants})"

    def hypotheses(self, config: Config, sample: Sample | None = None) -> list[HypothesisResult]:
        raise NotImplementedError

    def conclusions(self, config: Config, sample: Sample | None = None) -> list[Conclusion]:
        raise NotImplementedError

    def applies(self, config: Config, sample: Sample | None = None) -> tuple[bool, str]:
        """``(True, reason)`` when every requirement group is met, else ``(False, reason)``."""
        return requirement_verdict(self.hypotheses(config, sample), self.requirements)
