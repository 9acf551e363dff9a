"""Which judged statement speaks to which claim of the paper: the report's claims dashboard as data.

The paper (arXiv:2505.16204) makes a handful of claims; the checks of `verify.checks` judge many
more statements, some of them the toolkit's own exact identities. This module sorts whatever
verdict rows exist, without computing any verdict, into four kinds (docs/theory.md, "Section
numbers"):

- ``claim``: a statement about a claim of the paper (PAPER or RECONSTRUCTED provenance, or an
  EXACT check named in a claim's key patterns). Each `Claim` gathers its statements into one card;
  statements that match no claim go to the card ``other`` ("further statements of the paper"), so
  that a new verdict row is never dropped from the headline;
- ``open``: the open questions of the specification (candidate exponents for anisotropic Σ,
  docs/theory.md §4); a FAIL there is a finding about the theory, never a red headline;
- ``self``: the toolkit's own exact self-checks (EXACT or DERIVED identities not claimed by a card);
- ``beyond``: BEYOND observations (docs/theory.md §8), never judged.

A claim's verdict aggregates its statements' verdicts: FAIL if any FAILs, else INCONCLUSIVE if any
is, else PASS if any PASSes, else NOT APPLICABLE. A constant band judged jointly over the weak and
strong settings is seen on each regime's card through that regime's own intervals
(`regime_verdict`: a FAIL stays a FAIL, a PASS stays a PASS). The headline and ``report --fail-on``
use the claim cards only.
"""

from __future__ import annotations

import fnmatch
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from verify.verdicts import FAIL, INCONCLUSIVE, PASS, band_fit

VERDICT_ORDER = ("FAIL", "INCONCLUSIVE", "PASS", "NOT APPLICABLE")
# Candidate exponents (psi, psi_alt, Cao-Gu-Belkin, and any later one) answer an open question.
OPEN_PATTERNS = ("*candidate*",)
SELF_PROVENANCES = ("EXACT", "DERIVED")
# Checks of the toolkit's own encoding, whatever their provenance: the consistency of the encoded
# constants with exact quantities (docs/theory.md §7) is about our constants, not the paper's claims.
SELF_PATTERNS = ("consistency.*",)


@dataclass(frozen=True)
class Claim:
    """One claim of the paper.

    Attributes
    ----------
    key : str
        Stable identifier (also the HTML anchor ``claim-<key>``).
    title : str
        Short name, e.g. ``"Theorem 4.8, Case 1"``.
    claim : str
        What the paper claims, in one sentence.
    section : str
        docs/theory.md section (``§3``).
    patterns : tuple of str
        `fnmatch` patterns of the verdict keys that speak to it.
    regime : str
        If set, only the settings of this suite regime count on this card (the constant-band checks
        of Theorem 5.1 judge weak and strong settings together; each card shows its own part).
    """

    key: str
    title: str
    claim: str
    section: str
    patterns: tuple[str, ...]
    regime: str = ""

    def matches(self, result: Any) -> bool:
        return any(fnmatch.fnmatchcase(result.key, pattern) for pattern in self.patterns)


CLAIMS: tuple[Claim, ...] = (
    Claim("4.8", "Theorem 4.8 — directional convergence",
          "Gradient descent converges in direction to the limit direction Ŵ; the decision boundary is linear.",
          "§3", ("exact.directional_convergence", "paper.linear_boundary_trained", "*directional*")),
    Claim("4.8-case1", "Theorem 4.8, Case 1 (positive correlation)",
          "With ⟨y_i x_i, y_k x_k⟩ ≥ 0 for all pairs, the activation pattern persists after the first step.",
          "§3", ("exact.pattern_persistence", "*case1*", "*case_1*")),
    Claim("4.8-case2", "Theorem 4.8, Case 2 (near orthogonality)",
          "With nearly orthogonal samples, every neuron is correctly activated after the first step.",
          "§3", ("paper.theorem_4_8_conclusions", "*case2*", "*case_2*")),
    Claim("5.1-weak", "Theorem 5.1, weak signal (r < 1)",
          "err(w̄) = exp(−Θ(ψ)) with ψ ≍ n‖μ‖⁴ / Tr Σ²: one constant band fits.",
          "§4", ("reconstructed.band[[]5.1*",), regime="weak"),
    Claim("5.1-strong", "Theorem 5.1, strong signal (r > 1)",
          "err(w̄) = exp(−Θ(ψ)) with ψ ≍ ‖μ‖⁴ / μᵀΣμ (Bayes order for Σ = I): one constant band fits.",
          "§4", ("reconstructed.band[[]5.1*",), regime="strong"),
    Claim("transition", "Phase transition at r = 1",
          "The exponent of the error changes from ‖μ‖⁴ to ‖μ‖² where r = n μᵀΣμ / Tr Σ² crosses 1.",
          "§4", ("reconstructed.phase_transition*",)),
    Claim("6.2", "Theorem 6.2 — sub-Gaussian noise",
          "err(w̄) ≤ exp(−c ψ) for sub-Gaussian noise.", "§5", ("reconstructed.upper[[]6.2*", "*6.2*")),
    Claim("6.3", "Theorem 6.3 — polynomial tails",
          "err(w̄) ≤ C_K ψ^(−q/2) for noise with q-th moments (q ∈ (2, 4]).", "§5",
          ("reconstructed.upper[[]6.3*", "*6.3*")),
)
OTHER = Claim("other", "Further statements of the paper",
              "Statements about the paper that no card above names.", "§3–§5", ("*",))


def kind_of(result: Any) -> str:
    """``claim``, ``open``, ``self`` or ``beyond`` (see the module docstring)."""
    if result.provenance == "BEYOND":
        return "beyond"
    if any(fnmatch.fnmatchcase(result.key, pattern) for pattern in OPEN_PATTERNS):
        return "open"
    if any(fnmatch.fnmatchcase(result.key, pattern) for pattern in SELF_PATTERNS):
        return "self"
    if any(claim.matches(result) for claim in CLAIMS):
        return "claim"
    return "self" if result.provenance in SELF_PROVENANCES else "claim"


def aggregate(verdicts: Sequence[str]) -> str:
    """One verdict for several: the first of FAIL, INCONCLUSIVE, PASS present, else NOT APPLICABLE."""
    for verdict in VERDICT_ORDER[:3]:
        if verdict in verdicts:
            return verdict
    return "NOT APPLICABLE"


_REPLICATE = re.compile(r"\s*\(replicate \d+\)$")


def setting_name(unit: str) -> str:
    """``"weak[signal=4] (replicate 1)"`` -> ``"weak[signal=4]"`` (a setting name stays as is)."""
    return _REPLICATE.sub("", unit)


@dataclass(frozen=True)
class Card:
    """A claim with the statements that speak to it, as shown on the dashboard."""

    claim: Claim
    results: tuple[Any, ...]
    settings: tuple[str, ...]
    runs: int | None
    number: str
    evidence: str
    figure: str = ""
    verdicts: tuple[str, ...] = ()

    @property
    def verdict(self) -> str:
        """The card's verdict: its statements' verdicts on this card (`verdicts`), aggregated."""
        return aggregate(self.verdicts or [r.verdict for r in self.results]) if self.results else "NOT APPLICABLE"


@dataclass(frozen=True)
class Dashboard:
    """The claims cards (paper claims only), then the three separate groups."""

    cards: tuple[Card, ...]
    open_questions: tuple[Any, ...]
    self_checks: tuple[Any, ...]
    beyond: tuple[Any, ...]

    def any_verdict(self, verdicts: Sequence[str]) -> bool:
        """Whether some claim card has one of `verdicts` (what ``report --fail-on`` asks)."""
        return any(card.verdict in verdicts for card in self.cards)

    @property
    def headline(self) -> str:
        """The verdict over the paper's claims (cards judged on no setting are left out)."""
        return aggregate([card.verdict for card in self.cards])


def _per_setting(result: Any, keep: Callable[[str], bool]) -> list[dict]:
    return [entry for entry in result.numbers.get("per_setting", ()) if keep(setting_name(entry["setting"]))]


def _range(values: Sequence[float]) -> str:
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return "unbounded"
    low, high = min(finite), max(values)
    return f"[{low:.3g}, {high:.3g}]" if math.isfinite(high) else f"[{low:.3g}, ∞)"


def key_number(result: Any, keep: Callable[[str], bool]) -> str:
    """The fitted or critical constant a statement reports, in words ('' when it reports none)."""
    numbers = result.numbers
    entries = _per_setting(result, keep)
    if entries:
        return f"implied constant c in {_range([e['c_lo'] for e in entries] + [e['c_hi'] for e in entries])}"
    for name, words in (("critical_constant", "critical constant"), ("c", "largest fitting c"),
                        ("C_K", "smallest fitting C_K")):
        if isinstance(numbers.get(name), (int, float)):
            return f"{words} = {numbers[name]:.3g}"
    if isinstance(numbers.get("knee_r"), (int, float)):
        return f"knee at r = {numbers['knee_r']:.3g}"
    if isinstance(numbers.get("fitted_exponent_median"), (int, float)):
        return f"1 − cos(W(t), Ŵ) ≈ a (log t)^−b with median b = {numbers['fitted_exponent_median']:.2f} (2 expected)"
    return ""


def result_label(result: Any) -> str:
    """A short name of a statement: the qualifier in its key (``band[5.1, trained network]`` ->
    ``trained network``), else the key's last dotted part."""
    if result.key.startswith("reconstructed.candidate["):
        # ``candidate[psi_de, spiked[e1]]``: the candidate and its Sigma family, both needed.
        name, _, scope = result.key[len("reconstructed.candidate["):-1].partition(", ")
        return f"{name} ({scope or 'all'})"
    inner = re.search(r"\[([^\]]*)\]", result.key)
    if inner:
        return inner.group(1).split(",")[-1].strip()
    return result.key.rsplit(".", 1)[-1].replace("_", " ")


def first_sentence(text: str, limit: int = 180) -> str:
    """The explanation's first sentence (or clause before a list of runs), at most `limit` characters."""
    head = re.split(r"(?<=[.!?])\s|;\s|:\s(?=\S+\[)", text.strip(), maxsplit=1)[0]
    return head if len(head) <= limit else head[: limit - 1].rstrip() + "…"


def regime_verdict(result: Any, entries: Sequence[dict], regime: str) -> tuple[str, str]:
    """A constant-band statement judged over several regimes, seen on one regime's card.

    A FAIL stays a FAIL (one universal constant is the claim: no band over all settings is no band
    for the claim, even if each regime alone fits one), and a PASS stays a PASS (a band over all
    settings is a band over any part). An INCONCLUSIVE of the whole is decided on this regime's
    per-setting intervals alone by `band_fit` with the statement's own ratio ``B`` (two runs at
    least: one point fits any band). Statements without per-setting intervals keep their verdict.
    """
    ratio = result.numbers.get("ratio_allowed")
    if result.verdict not in (PASS, INCONCLUSIVE) or not entries or not isinstance(ratio, (int, float)):
        return result.verdict, first_sentence(result.explanation)
    if len(entries) < 2:
        if result.verdict == PASS:
            return PASS, first_sentence(result.explanation)
        return INCONCLUSIVE, f"Only one {regime} run: one point fits any band."
    fit = band_fit([e["c_lo"] for e in entries], [e["c_hi"] for e in entries], ratio)
    # a band over all settings is one over any part: a joint PASS is a PASS here (and fit says so)
    verdict = PASS if result.verdict == PASS else fit.verdict
    words = {PASS: "fits", INCONCLUSIVE: "cannot be decided", FAIL: "does not fit"}[verdict]
    why = (f"ratio {fit.ratio_needed:.3g}, B = {ratio:g}" if math.isfinite(fit.ratio_needed)
           else "an interval without an upper end: no error seen")
    return verdict, f"One band over the {len(entries)} {regime} runs {words} ({why})."


def _card(claim: Claim, results: Sequence[Any], regimes: Mapping[str, str], figure: str) -> Card:
    def keep(name: str) -> bool:
        # without the suite's regimes a regime card shows the whole shared statement
        return not claim.regime or not regimes or regimes.get(name) == claim.regime

    units = [u for r in results for u in r.settings if keep(setting_name(u))]
    settings = tuple(dict.fromkeys(setting_name(u) for u in units))
    per_setting = [e for r in results for e in _per_setting(r, keep)]
    counted = [r.numbers["runs"] for r in results if isinstance(r.numbers.get("runs"), int)]
    runs = len(per_setting) if per_setting else (max(counted) if counted else None)
    if claim.regime and not settings and any(r.settings for r in results):
        results = ()  # settings, none of this regime: the shared band says nothing about this card
    def labelled(pairs: list[tuple[Any, str]], several: bool) -> list[str]:
        # several statements in play: name which one each number or sentence is about
        return [f"{result_label(r)}: {text}" if several else text for r, text in pairs]

    numbers = [(r, key_number(r, keep)) for r in results if key_number(r, keep)]
    numbers = labelled(numbers, len(numbers) > 1)
    here = [regime_verdict(r, _per_setting(r, keep), claim.regime) if claim.regime and regimes
            else (r.verdict, first_sentence(r.explanation)) for r in results]
    evidence = " ".join(labelled([(r, sentence) for r, (verdict, sentence) in zip(results, here)
                                  if verdict != "PASS"], len(results) > 1)) \
        or (here[0][1] if results else "No setting of this kind in the suite.")
    return Card(claim, tuple(results), settings, runs, "; ".join(dict.fromkeys(numbers)), evidence, figure,
                tuple(verdict for verdict, _ in here))


def build_dashboard(results: Sequence[Any], regimes: Mapping[str, str] | None = None,
                    figures: Mapping[str, str] | None = None) -> Dashboard:
    """Sort `results` (objects with the attributes of `verify.verdicts.CheckResult`) into cards.

    `regimes` maps a setting name to its suite regime (for the regime-split cards); `figures` maps a
    claim key to the name of its key figure. A card appears when some statement speaks to it.
    """
    regimes, figures = regimes or {}, figures or {}
    kinds = {id(r): kind_of(r) for r in results}
    claimed = [r for r in results if kinds[id(r)] == "claim"]
    cards = []
    for claim in CLAIMS:
        mine = [r for r in claimed if claim.matches(r)]
        if mine:
            card = _card(claim, mine, regimes, figures.get(claim.key, ""))
            if card.results:
                cards.append(card)
    on_cards = {id(r) for card in cards for r in card.results}
    others = [r for r in claimed if id(r) not in on_cards]
    if others:
        cards.append(_card(OTHER, others, regimes, ""))
    return Dashboard(tuple(cards), tuple(r for r in results if kinds[id(r)] == "open"),
                     tuple(r for r in results if kinds[id(r)] == "self"),
                     tuple(r for r in results if kinds[id(r)] == "beyond"))
