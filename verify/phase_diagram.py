"""The phase diagram: errors over a 2-D grid of settings with the theory's curves (docs/theory.md §3, §4).

When the Gaussian, non-BEYOND settings of a suite group differ only in ``||mu||`` and one of ``d``
or ``n``, and every combination of at least `MIN_VALUES` values of each is present, the group is a
grid (`find_grids`). `phase_diagram_section` draws, for each grid, the exact error of the limit
direction (EXACT, §2.4; the mean of its logarithm over replicates) and the trained network's Monte
Carlo error (errors pooled over replicates; a cell without an error shows the upper end of its
Clopper–Pearson interval, marked ▼), with

- ``r = 1`` and ``psi = 1`` (RECONSTRUCTED, §4: the regime boundary and the benign / harmful
  boundary ``n ||mu||^4 ~ Tr Sigma^2`` in the weak regime), evaluated by `bounds.rates` on a fine
  mesh of configurations;
- the Case 1 and Case 2 boundaries of Theorem 4.8 (§3): where the hypothesis held on half of the
  drawn samples, as the rows evaluated it (at whatever constants the suite's theorems use);
- the Bayes contour: where the exact error of the limit direction is twice the Bayes error;

and each cell marked by which case of Theorem 4.8 held on most of its draws (1, 2, or –).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bounds.rates import parameter_values, psi, regime_indicator
from theorybench.config import Config
from theorybench.stats import clopper_pearson
from verify.plots import Boundary, Panel, cell_edges, phase_diagram_figure
from verify.render import Figure, Paragraph, Section, Table, format_log_probability

AXES = ("d", "n")
# At least this many values on each axis: a 2 x 2 grid draws no contour worth reading.
MIN_VALUES = 3
# Points per axis of the mesh on which r = 1 and psi = 1 are evaluated (contours smooth to the eye).
FINE = 60
THEOREM_4_8 = "4.8"
BAYES_FACTOR = 2.0


@dataclass(frozen=True)
class Grid:
    """A group whose settings form a full grid: ``cells[(i, j)]`` holds the final rows at
    ``values[i]`` (of `axis`) and ``signals[j]``; `base` is one of its configurations."""

    group: str
    axis: str
    signals: tuple[float, ...]
    values: tuple[float, ...]
    cells: dict[tuple[int, int], list[dict]]
    base: Config


def _with(config: Config, signal: float, axis: str, value: float) -> Config:
    data = dataclasses.replace(config.data, signal=signal, **{axis: int(value)})
    return dataclasses.replace(config, data=data)


def find_grids(suite: Any, rows: Sequence[dict]) -> list[Grid]:
    """Every group of `suite` whose Gaussian, non-BEYOND settings form a ``||mu||`` by d (or n) grid."""
    finals = [row for row in rows if row.get("kind") == "final"]
    grids = []
    groups: dict[str, list[Any]] = {}
    for setting in suite.settings:
        groups.setdefault(setting.group, []).append(setting)
    for group, settings in groups.items():
        if len(settings) < MIN_VALUES ** 2:
            continue
        usable = [s for s in settings if not s.beyond and s.config.data.noise.family == "gaussian"]
        for axis in AXES:
            if len(usable) < MIN_VALUES ** 2:
                break
            base = usable[0].config
            # the same configuration but for the signal and this axis
            if any(_with(s.config, base.data.signal, axis, getattr(base.data, axis)) != base for s in usable):
                continue
            signals = tuple(sorted({s.config.data.signal for s in usable}))
            values = tuple(sorted({float(getattr(s.config.data, axis)) for s in usable}))
            points = {(s.config.data.signal, float(getattr(s.config.data, axis))) for s in usable}
            if len(signals) < MIN_VALUES or len(values) < MIN_VALUES or len(points) != len(signals) * len(values):
                continue
            where = {s.name: (values.index(float(getattr(s.config.data, axis))), signals.index(s.config.data.signal))
                     for s in usable}
            cells: dict[tuple[int, int], list[dict]] = {}
            for row in finals:
                if row["setting"] in where:
                    cells.setdefault(where[row["setting"]], []).append(row)
            grids.append(Grid(group, axis, signals, values, cells, base))
            break
    return grids


def _mean(values: Sequence[Any]) -> float:
    finite = [float(v) for v in values if isinstance(v, (int, float)) and math.isfinite(v)]
    return float(np.mean(finite)) if finite else math.nan


def _fraction(rows: Sequence[dict], key: str) -> float:
    known = [bool(row[key]) for row in rows if row.get(key) is not None]
    return float(np.mean(known)) if known else math.nan


def _network_cell(rows: Sequence[dict], confidence: float) -> tuple[float, bool]:
    """log10 of the pooled Monte Carlo error, or of its CP upper end when none was seen."""
    errors = sum(row["network_errors"] for row in rows if row.get("network_errors") is not None)
    trials = sum(row["test_points"] for row in rows if row.get("network_errors") is not None)
    if trials == 0:
        return math.nan, False
    if errors > 0:
        return math.log10(errors / trials), False
    return math.log10(clopper_pearson(0, trials, confidence)[1]), True


@dataclass(frozen=True)
class Cells:
    """Per-cell summaries of a grid (arrays indexed ``[value, signal]``)."""

    exact: np.ndarray
    bayes: np.ndarray
    network: np.ndarray
    network_upper: np.ndarray
    case1: np.ndarray
    case2: np.ndarray
    applies: np.ndarray


def summarise(grid: Grid) -> Cells:
    """Each cell's exact and Bayes errors (mean log10 over replicates), pooled network error, and the
    shares of draws on which Case 1, Case 2 and Theorem 4.8 held."""
    shape = (len(grid.values), len(grid.signals))
    arrays = {name: np.full(shape, math.nan) for name in ("exact", "bayes", "network", "case1", "case2", "applies")}
    upper = np.zeros(shape, bool)
    for (i, j), rows in grid.cells.items():
        arrays["exact"][i, j] = _mean([row.get("log_limit_error") for row in rows]) / math.log(10)
        arrays["bayes"][i, j] = _mean([row.get("log_bayes_error") for row in rows]) / math.log(10)
        arrays["network"][i, j], upper[i, j] = _network_cell(rows, grid.base.evaluation.confidence)
        arrays["case1"][i, j] = _fraction(rows, f"hyp/{THEOREM_4_8}/case1/holds")
        arrays["case2"][i, j] = _fraction(rows, f"hyp/{THEOREM_4_8}/case2/holds")
        arrays["applies"][i, j] = _fraction(rows, f"applies/{THEOREM_4_8}")
    return Cells(network_upper=upper, **arrays)


def boundaries(grid: Grid, cells: Cells) -> list[Boundary]:
    """The theory's curves over the grid: r = 1 and psi = 1 on a fine mesh (bounds.rates), the Case
    boundaries and the Bayes contour on the cell centres."""
    x_edges, y_edges = cell_edges(grid.signals), cell_edges(grid.values)
    xs = np.geomspace(x_edges[0], x_edges[-1], FINE)
    ys = np.geomspace(y_edges[0], y_edges[-1], FINE)
    r = np.empty((FINE, FINE))
    exponent = np.empty((FINE, FINE))
    for i, y in enumerate(ys):
        for j, x in enumerate(xs):
            values = parameter_values(_with(grid.base, float(x), grid.axis, max(int(round(y)), 1)))
            r[i, j], exponent[i, j] = regime_indicator(values), psi(values)
    centres_x, centres_y = list(grid.signals), list(grid.values)
    ratio = (cells.exact - cells.bayes) * math.log(10)  # natural log of err(w_bar) / Bayes error
    return [
        Boundary("r = 1 (weak | strong regime)", "r_one", xs, ys, r, 1.0),
        Boundary("ψ = 1 (harmful | benign)", "benign", xs, ys, exponent, 1.0),
        Boundary("Case 1 holds on half the draws", "case1", centres_x, centres_y, cells.case1, 0.5),
        Boundary("Case 2 holds on half the draws", "case2", centres_x, centres_y, cells.case2, 0.5),
        Boundary(f"err(w̄) = {BAYES_FACTOR:g} × Bayes error", "bayes_contour", centres_x, centres_y, ratio,
                 math.log(BAYES_FACTOR)),
    ]


def marks(cells: Cells) -> dict[tuple[int, int], str]:
    """Which case of Theorem 4.8 held on most draws of each cell: '1', '2', '1,2' or '–'."""
    out = {}
    for (i, j), _ in np.ndenumerate(cells.case1):
        held = [name for name, fraction in (("1", cells.case1[i, j]), ("2", cells.case2[i, j])) if fraction > 0.5]
        out[(i, j)] = ",".join(held) or "–"
    return out


def grid_figure(grid: Grid, cells: Cells, index: int) -> Figure:
    """The two colour maps of a grid with its curves, and a caption naming what is drawn."""
    curves = boundaries(grid, cells)
    panels = (Panel("exact err(w̄) of the limit direction (EXACT)", cells.exact, np.zeros_like(cells.network_upper)),
              Panel("trained network err(W(T)) (Monte Carlo)", cells.network, cells.network_upper))
    png = phase_diagram_figure(grid.signals, grid.values, panels, curves, marks(cells), ylabel=grid.axis,
                               title=f"group {grid.group}: ||μ|| × {grid.axis}")
    drawn = [b.label for b in curves if b.drawn()]
    caption = (f"Group {grid.group}: log10 test error over the ||μ|| × {grid.axis} grid "
               f"({len(grid.signals)} × {len(grid.values)} settings), left the exact error of the limit direction, "
               "right the trained network's Monte Carlo error (▼: no error seen, upper end of the interval). "
               f"Curves drawn: {'; '.join(drawn) if drawn else 'none crosses the grid'}. "
               "Cell labels: the case of Theorem 4.8 that held on most draws (– for neither).")
    return Figure(f"phase_diagram_{index:02d}", png, caption)


def _table(grid: Grid, cells: Cells) -> Table:
    rows = []
    for (i, j), _ in np.ndenumerate(cells.exact):
        rows.append((grid.signals[j], int(grid.values[i]), len(grid.cells.get((i, j), [])),
                     format_log_probability(cells.exact[i, j] * math.log(10)),
                     format_log_probability(cells.bayes[i, j] * math.log(10)),
                     ("≤ " if cells.network_upper[i, j] else "") + format_log_probability(
                         cells.network[i, j] * math.log(10)),
                     f"{cells.case1[i, j]:.2g}", f"{cells.case2[i, j]:.2g}", f"{cells.applies[i, j]:.2g}"))
    return Table(("||mu||", grid.axis, "runs", "exact err(w_bar)", "Bayes", "network err", "Case 1 share",
                  "Case 2 share", "4.8 applies share"), tuple(rows),
                 f"Phase diagram cells of group {grid.group}: errors printed from their logarithms; shares are "
                 "over the cell's draws.")


def phase_diagram_section(suite: Any, rows: Sequence[dict]) -> Section | None:
    """The 'Phase diagram' section, or None when no group of the suite forms a grid."""
    grids = find_grids(suite, rows)
    if not grids:
        return None
    blocks: list[Any] = [Paragraph(
        "Errors over a grid of settings (docs/theory.md §3, §4), with the theory's curves: r = 1 (weak | strong "
        "regime), ψ = 1 (harmful | benign in the weak regime), the boundaries of Theorem 4.8's Case 1 and Case 2 "
        "as the hypotheses held on the drawn samples, and where the limit direction's exact error reaches twice "
        "the Bayes error.")]
    for index, grid in enumerate(grids):
        cells = summarise(grid)
        blocks += [grid_figure(grid, cells, index), _table(grid, cells)]
    return Section("Phase diagram", tuple(blocks))
