"""The mutation score of the test suite over `bounds/` and the interval code (docs/proptest.md).

`tests/mutation_driver.py` plants one realistic slip at a time in a copy of the package and runs
the property suite and the unit tests of the mutated modules against it. The full run takes tens
of minutes (it is marked slow); the fast tests keep the planted edits well formed.
"""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import mutation_driver  # noqa: E402

# The acceptance threshold of issue 12: at least 90 % of the non-equivalent mutants killed.
REQUIRED_SCORE = 0.9


def test_planted_edits_are_well_formed():
    keys = [m.key for m in mutation_driver.MUTANTS]
    assert len(keys) == len(set(keys))
    for mutant in mutation_driver.MUTANTS:
        assert mutant.old != mutant.new, mutant.key
        source = (mutation_driver.ROOT / mutant.path).read_text()
        # An edit whose text occurs twice would be ambiguous; one that no longer occurs is stale
        # (the code moved on) and is reported, not counted, by the driver.
        assert source.count(mutant.old) <= 1, mutant.key


def test_most_planted_edits_still_apply():
    # After a change to bounds/, edits that no longer apply must be rewritten, not silently lost.
    applying = [m for m in mutation_driver.MUTANTS
                if (mutation_driver.ROOT / m.path).read_text().count(m.old) == 1]
    assert len(applying) >= 0.75 * len(mutation_driver.MUTANTS)


@pytest.mark.slow
def test_mutation_score_is_at_least_ninety_percent():
    # The killers pass on the unmutated code (else every mutant would count as killed).
    assert mutation_driver.run_mutant(mutation_driver.BASELINE)[0] == "survived"
    results = {m.key: mutation_driver.run_mutant(m)[0] for m in mutation_driver.MUTANTS}
    killed, counted = mutation_driver.score(results)
    survivors = [k for k, status in results.items() if status == "survived"]
    assert counted > 0
    assert killed >= REQUIRED_SCORE * counted, f"{killed}/{counted}; survivors: {survivors}"
