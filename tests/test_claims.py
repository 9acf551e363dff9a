"""The claims dashboard's sorting of verdict rows (verify.claims): kinds, cards, headline."""

from __future__ import annotations

import itertools

import pytest

from verify.claims import CLAIMS, aggregate, build_dashboard, first_sentence, key_number, kind_of, setting_name
from verify.verdicts import CheckResult, VERDICTS


def row(key, provenance="PAPER", verdict="PASS", settings=(), numbers=None, explanation="Because. Details."):
    return CheckResult(key=key, statement=key, provenance=provenance, section="§3", verdict=verdict,
                       explanation=explanation, settings=tuple(settings), numbers=numbers or {})


# The keys verify.checks.run_all produces on the quick suite, with the kind the issue asks for.
KNOWN = (("exact.step_one_criterion", "EXACT", "self"), ("exact.pattern_persistence", "EXACT", "claim"),
         ("exact.directional_convergence", "EXACT", "claim"), ("exact.linear_boundary_limit", "EXACT", "self"),
         ("exact.gaussian_error", "EXACT", "self"), ("exact.conditional_bounds", "EXACT", "self"),
         ("paper.theorem_4_8_conclusions", "PAPER", "claim"), ("paper.linear_boundary_trained", "PAPER", "claim"),
         ("consistency.encoded_constants", "RECONSTRUCTED", "self"),
         ("reconstructed.band[5.1, limit direction]", "RECONSTRUCTED", "claim"),
         ("reconstructed.band[5.1, trained network]", "RECONSTRUCTED", "claim"),
         ("reconstructed.upper[6.2]", "RECONSTRUCTED", "claim"), ("reconstructed.upper[6.3]", "RECONSTRUCTED", "claim"),
         ("reconstructed.phase_transition[phase-transition]", "RECONSTRUCTED", "claim"),
         ("reconstructed.candidate[psi]", "RECONSTRUCTED", "open"),
         ("reconstructed.candidate[cao_gu_belkin]", "PRIOR", "open"),
         ("reconstructed.candidate[psi_de, spiked[mean_45]]", "RECONSTRUCTED", "open"), ("beyond", "BEYOND", "beyond"),
         # a row no card names: a paper statement stays a claim, an exact identity a self-check
         ("reconstructed.critical_constant[4.8 case 2]", "RECONSTRUCTED", "claim"),
         ("derived.something_new", "DERIVED", "self"))


@pytest.mark.parametrize("key, provenance, kind", KNOWN)
def test_every_known_row_has_its_kind(key, provenance, kind):
    assert kind_of(row(key, provenance)) == kind


def test_aggregate_is_the_worst_verdict():
    order = ("FAIL", "INCONCLUSIVE", "PASS", "NOT APPLICABLE")
    for size in range(1, 4):
        for verdicts in itertools.product(VERDICTS, repeat=size):
            expected = next(v for v in order if v in verdicts)
            assert aggregate(verdicts) == expected


def test_every_claim_card_and_the_headline():
    results = [row(key, provenance) for key, provenance, _ in KNOWN]
    dashboard = build_dashboard(results)
    titles = [card.claim.key for card in dashboard.cards]
    assert titles == [claim.key for claim in CLAIMS] + ["other"]  # the unnamed paper row gets its own card
    assert dashboard.headline == "PASS"
    assert {r.key for r in dashboard.open_questions} == {k for k, _, kind in KNOWN if kind == "open"}
    assert {r.key for r in dashboard.self_checks} == {k for k, _, kind in KNOWN if kind == "self"}
    # a FAIL of an open question, a self-check or BEYOND leaves the headline alone; of a claim it does not
    for key, provenance, kind in KNOWN:
        changed = [row(k, p, "FAIL" if k == key else "PASS") for k, p, _ in KNOWN]
        assert build_dashboard(changed).headline == ("FAIL" if kind == "claim" else "PASS"), key


def test_regime_cards_show_their_own_settings_and_constants():
    entries = [{"setting": f"{name} (replicate {rep})", "c_lo": lo + rep, "c_hi": lo + rep + 0.5}
               for name, lo in (("weak[signal=4]", 1.0), ("strong[signal=8]", 10.0)) for rep in (0, 1)]
    band = row("reconstructed.band[5.1, limit direction]", "RECONSTRUCTED",
               settings=[e["setting"] for e in entries], numbers={"per_setting": entries})
    regimes = {"weak[signal=4]": "weak", "strong[signal=8]": "strong"}
    cards = {card.claim.key: card for card in build_dashboard([band], regimes).cards}
    weak, strong = cards["5.1-weak"], cards["5.1-strong"]
    assert weak.settings == ("weak[signal=4]",) and weak.runs == 2
    assert weak.number == "implied constant c in [1, 2.5]"  # min c_lo, max c_hi of the weak entries
    assert strong.number == "implied constant c in [10, 11.5]"
    # a suite without strong settings shows no strong card
    only_weak = row(band.key, "RECONSTRUCTED", settings=[e["setting"] for e in entries[:2]],
                    numbers={"per_setting": entries[:2]})
    assert [c.claim.key for c in build_dashboard([only_weak], regimes).cards] == ["5.1-weak"]


def test_evidence_names_what_did_not_pass():
    results = [row("exact.directional_convergence", "EXACT", "PASS", explanation="All fine. More."),
               row("paper.linear_boundary_trained", "PAPER", "INCONCLUSIVE",
                   explanation="Too few points; weak[signal=4] (replicate 0): 3 of 10.")]
    (card,) = build_dashboard(results).cards
    assert card.verdict == "INCONCLUSIVE"
    assert card.evidence == "linear boundary trained: Too few points"


def test_setting_names_and_sentences():
    assert setting_name("weak[signal=4] (replicate 12)") == "weak[signal=4]"
    assert setting_name("rademacher") == "rademacher"
    assert first_sentence("One. Two.") == "One."
    assert first_sentence("x" * 300, 50) == "x" * 49 + "…"


def band(verdict, entries, ratio=10.0):
    return row("reconstructed.band[5.1, trained network]", "RECONSTRUCTED", verdict,
               settings=[e["setting"] for e in entries], numbers={"per_setting": entries, "ratio_allowed": ratio})


def entry(name, lo, hi):
    return {"setting": f"{name} (replicate 0)", "c_lo": lo, "c_hi": hi}


REGIMES = {"weak[signal=4]": "weak", "weak[signal=5]": "weak", "strong[signal=8]": "strong",
           "strong[signal=9]": "strong"}


def test_a_joint_band_is_seen_through_each_regimes_own_intervals():
    # weak intervals fit one band (2.2 / 1.0 <= 10); the strong ones have no upper end (INCONCLUSIVE)
    entries = [entry("weak[signal=4]", 1.0, 1.2), entry("weak[signal=5]", 1.8, 2.2),
               entry("strong[signal=8]", 0.1, float("inf")), entry("strong[signal=9]", 0.2, 0.4)]
    cards = {c.claim.key: c for c in build_dashboard([band("INCONCLUSIVE", entries)], REGIMES).cards}
    assert cards["5.1-weak"].verdict == "PASS" and cards["5.1-strong"].verdict == "INCONCLUSIVE"
    assert cards["5.1-weak"].evidence == "One band over the 2 weak runs fits (ratio 2.2, B = 10)."
    assert cards["5.1-strong"].evidence == ("One band over the 2 strong runs cannot be decided (an interval "
                                            "without an upper end: no error seen).")
    # a joint FAIL (no universal constant) stays a FAIL on both cards, even where a regime alone fits
    failing = {c.claim.key: c for c in build_dashboard([band("FAIL", entries)], REGIMES).cards}
    assert failing["5.1-weak"].verdict == failing["5.1-strong"].verdict == "FAIL"
    assert build_dashboard([band("FAIL", entries)], REGIMES).any_verdict(("FAIL",))
    # a joint PASS stays a PASS; a single run of a regime decides nothing
    passing = {c.claim.key: c for c in build_dashboard([band("PASS", entries[:3])], REGIMES).cards}
    assert passing["5.1-strong"].verdict == passing["5.1-weak"].verdict == "PASS"
    single = {c.claim.key: c for c in build_dashboard([band("INCONCLUSIVE", entries[:3])], REGIMES).cards}
    assert single["5.1-strong"].verdict == "INCONCLUSIVE" and single["5.1-weak"].verdict == "PASS"
    assert single["5.1-strong"].evidence == "Only one strong run: one point fits any band."


def test_key_numbers_name_the_fitted_constant():
    keep = lambda name: True  # noqa: E731
    assert key_number(row("k", numbers={"knee_r": 0.8133, "slope_weak": 3.6}), keep) == "knee at r = 0.813"
    assert key_number(row("k", numbers={"c": 1.109}), keep) == "largest fitting c = 1.11"
    assert key_number(row("k", numbers={"critical_constant": 0.34}), keep) == "critical constant = 0.34"
    assert key_number(row("k", numbers={"fitted_exponent_median": 1.2526}), keep) == \
        "1 − cos(W(t), Ŵ) ≈ a (log t)^−b with median b = 1.25 (2 expected)"
    assert key_number(row("k", numbers={}), keep) == ""


def test_candidate_labels_name_the_exponent_and_its_sigma_family():
    from verify.claims import result_label

    assert result_label(row("reconstructed.candidate[psi_alt, spiked[e1]]")) == "psi_alt (spiked[e1])"
    assert result_label(row("reconstructed.candidate[psi]")) == "psi (all)"
