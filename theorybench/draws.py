"""In what fraction of draws each hypothesis holds and each theorem applies (docs/theory.md §3).

A configuration says how the training set and the initialisation are *drawn*; most hypotheses of
Theorem 4.8 are statements about the draw. `check` therefore evaluates every theorem on ``N``
independent draws (training set and initialisation, exactly as `theorybench simulate` draws them,
from the seeds ``(config.seed, i)``, i = 0..N-1) and reports, for each hypothesis row and each
theorem, the count of draws where it holds with an exact Clopper–Pearson interval
(`theorybench.stats.clopper_pearson`), and a verdict in words (`draw_verdict`):

- "almost every draw": the interval's lower end is at least `ALMOST_EVERY` (0.9);
- "essentially never": its upper end is at most `ESSENTIALLY_NEVER` (0.1);
- "some draws": the interval lies strictly between the two;
- otherwise the interval straddles one of the two levels and the words say that more draws would
  decide.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from theorybench.config import Config
from theorybench.errors import UserInputError
from theorybench.sampling import sample_run
from theorybench.stats import clopper_pearson

if TYPE_CHECKING:
    from bounds import Sample, Theorem

# The verdict levels: a theorem that holds on at least 90 % of draws (at the stated confidence) is
# one a user can rely on for this configuration; at most 10 %, one they cannot. In between the
# answer depends on the draw, which is itself the finding.
ALMOST_EVERY = 0.9
ESSENTIALLY_NEVER = 0.1
DEFAULT_CONFIDENCE = 0.95
DEFAULT_DRAWS = 200
# Default work budget of the draws (float64 multiply-adds: the Gram matrix n^2 d, the initial
# pre-activations n m d and the sampling n d + m d per draw): 2e10 is about ten seconds on one core
# of the reference machine (docs/benchmarks.md). Past it the default number of draws shrinks, and
# below `MIN_DEFAULT_DRAWS` no draw is made unless `--draws` asks for it.
DRAW_WORK_BUDGET = 2e10
MIN_DEFAULT_DRAWS = 20


def draw_work(config: Config) -> float:
    """Multiply-adds of one draw and its first-step quantities (see `DRAW_WORK_BUDGET`)."""
    n, d, m = config.data.n, config.data.d, config.network.m
    return float(n) * d * (n + m) + float(n + m) * d


def default_draws(config: Config) -> int:
    """`DEFAULT_DRAWS`, fewer when a draw is expensive, 0 when fewer than `MIN_DEFAULT_DRAWS` fit."""
    affordable = int(DRAW_WORK_BUDGET // max(draw_work(config), 1.0))
    count = min(DEFAULT_DRAWS, affordable)
    return count if count >= MIN_DEFAULT_DRAWS else 0


def draw_sample(config: Config, seed) -> Sample:
    """The training set and initialisation that `theorybench simulate` draws for ``seed``."""
    from bounds import Sample

    training, W0 = sample_run(config.data, config.network, seed)
    return Sample(X=training.X, y=training.y, W0=W0, a=config.network.second_layer(),
                  gamma=config.network.gamma, eta=config.training.step_size)


def draw_verdict(holds: int, draws: int, confidence: float = DEFAULT_CONFIDENCE) -> str:
    """Words for "holds on ``holds`` of ``draws`` draws", decided by the exact interval."""
    lower, upper = clopper_pearson(holds, draws, confidence)
    if lower >= ALMOST_EVERY:
        return "almost every draw"
    if upper <= ESSENTIALLY_NEVER:
        return "essentially never"
    if lower > ESSENTIALLY_NEVER and upper < ALMOST_EVERY:
        return "some draws"
    if holds / draws >= 0.5:
        return "most draws (more draws would decide whether almost every)"
    return "few draws (more draws would decide whether essentially never)"


@dataclass
class Tally:
    """Counts of one row (or one theorem) over the draws: ``holds`` of ``evaluated``."""

    holds: int = 0
    evaluated: int = 0

    def add(self, ok: bool | None) -> None:
        if ok is None:
            return
        self.evaluated += 1
        self.holds += bool(ok)

    def to_dict(self, confidence: float) -> dict:
        if self.evaluated == 0:
            return {"holds": 0, "evaluated": 0, "interval": None, "verdict": "never evaluated"}
        lower, upper = clopper_pearson(self.holds, self.evaluated, confidence)
        return {"holds": self.holds, "evaluated": self.evaluated, "interval": [lower, upper],
                "verdict": draw_verdict(self.holds, self.evaluated, confidence)}


@dataclass
class DrawSummary:
    """Per theorem (by key) and per hypothesis row (by theorem key, row key, row name) tallies."""

    draws: int
    confidence: float
    theorems: dict[str, Tally] = field(default_factory=dict)
    rows: dict[tuple[str, str, str], Tally] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "draws": self.draws, "confidence": self.confidence,
            "seeds": "(config.seed, i) for i in 0..draws-1",
            "theorems": {key: tally.to_dict(self.confidence) for key, tally in self.theorems.items()},
            "hypotheses": [{"theorem": t, "key": k, "name": name, **tally.to_dict(self.confidence)}
                           for (t, k, name), tally in self.rows.items()],
        }


def tally_draws(config: Config, theorems: list[Theorem], draws: int, *,
                confidence: float = DEFAULT_CONFIDENCE,
                progress: Callable[[int], None] | None = None) -> DrawSummary:
    """Evaluate every theorem on ``draws`` independent draws and count what holds.

    Deterministic in ``config.seed``: draw i uses the seed ``(config.seed, i)``.
    """
    from bounds.contract import requirement_verdict

    if isinstance(draws, bool) or not isinstance(draws, int) or draws < 1:
        raise UserInputError(f"--draws = {draws!r} is not allowed: it must be an integer >= 1.")
    summary = DrawSummary(draws=draws, confidence=confidence)
    for theorem in theorems:
        summary.theorems[theorem.key] = Tally()
    for i in range(draws):
        sample = draw_sample(config, (config.seed, i))
        for theorem in theorems:
            rows = theorem.hypotheses(config, sample)
            ok, _ = requirement_verdict(rows, theorem.requirements)
            summary.theorems[theorem.key].add(ok)
            for row in rows:
                summary.rows.setdefault((theorem.key, row.key, row.name), Tally()).add(row.holds)
        if progress is not None:
            progress(i + 1)
    return summary


def format_draws(summary: dict, titles: dict[str, str]) -> list[str]:
    """The human-readable lines of a `DrawSummary.to_dict`."""
    level = f"{100 * summary['confidence']:g} %"
    lines = [f"Over {summary['draws']} draws (training set and initialisation; seeds "
             f"{summary['seeds']}; exact {level} intervals)"]
    for key, tally in summary["theorems"].items():
        lines.append(f"  {titles.get(key, key)} applies on {_fraction(tally, level)}: "
                     f"{tally['verdict']}")
    lines += ["", "Hypotheses over the draws"]
    width = max((len(h["name"]) for h in summary["hypotheses"]), default=0)
    for h in summary["hypotheses"]:
        lines.append(f"  {h['theorem']:<10} {h['name']:<{width}}  holds on {_fraction(h, level)}")
    return lines


def _fraction(tally: dict, level: str) -> str:
    if tally["evaluated"] == 0:
        return "no draw (never evaluated)"
    lower, upper = tally["interval"]
    return (f"{tally['holds']}/{tally['evaluated']} draws ({level} CI [{lower:.3f}, {upper:.3f}])")
