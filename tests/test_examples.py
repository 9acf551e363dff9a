"""Every shipped example says which theorems apply, as `theorybench check` reports it over 200 draws.

Each `docs/examples/*.toml` carries the lines ``# applies on almost every draw: ...`` and
``# essentially never: ...``; `theorybench.draws.tally_draws` must give exactly those words for every
theorem, so that the documentation cannot drift from the verdicts.
"""

from pathlib import Path

import pytest

from bounds import THEOREMS
from theorybench.config import load_config
from theorybench.draws import tally_draws

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "docs" / "examples").glob("*.toml"))
WORDS = {"applies on almost every draw": "almost every draw", "essentially never": "essentially never"}


def claimed(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        for prefix, words in WORDS.items():
            if line.startswith(f"# {prefix}:"):
                out.update({key.strip(): words for key in line.split(":", 1)[1].split(",")})
    return out


def check_example(path: Path, draws: int) -> None:
    claims = claimed(path)
    # Every theorem is named, once.
    assert sorted(claims) == sorted(t.key for t in THEOREMS), path.name
    summary = tally_draws(load_config(str(path)), list(THEOREMS), draws).to_dict()
    got = {key: tally["verdict"] for key, tally in summary["theorems"].items()}
    assert got == claims


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_comment_matches_60_draws(path):
    # 60 draws decide the same words whenever a theorem holds on all or none of them (60/60: 95 %
    # lower end 0.94 >= 0.9; 0/60: upper end 0.06 <= 0.1), and keep the default run short.
    check_example(path, 60)


@pytest.mark.slow
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_comment_matches_the_200_draws_it_states(path):
    check_example(path, 200)


def test_each_theorem_applies_on_almost_every_draw_of_some_example():
    covered = set()
    for path in EXAMPLES:
        covered |= {key for key, words in claimed(path).items() if words == "almost every draw"}
    assert covered == {t.key for t in THEOREMS}
