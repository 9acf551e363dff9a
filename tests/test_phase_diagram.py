"""The phase diagram (verify.phase_diagram): grid detection, cell summaries, curves, and the figure in a report."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from theorybench.cli import main
from verify.phase_diagram import find_grids, summarise
from verify.plots import Boundary
from verify.suite import load_suite, suite_from_toml

GRID_SUITE = """
name = "tiny-grid"
description = "A 3 x 3 grid of ||mu|| and d at n = 6, across r = 1 and psi = 1."
root_seed = 3
replicates = 1

[base]
data.n = 6
network.m = 4
network.init_scale = 1e-6
training.step_size = 0.05
training.max_steps = 60
training.checkpoints = 4
evaluation.test_points = 1000

[[setting]]
name = "grid"
group = "grid"
regime = "transition"
sweep = { signal = [1.0, 2.0, 4.0], d = [50, 100, 200] }

[[setting]]
name = "beyond"
group = "grid"
regime = "beyond"
data.label_flip = 0.1
"""


@pytest.fixture(scope="module")
def grid_report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("grid")
    (folder / "grid.toml").write_text(GRID_SUITE)
    assert main(["report", str(folder / "grid.toml"), "--out", str(folder / "out"), "--executor", "serial"]) == 0
    rows = [json.loads(line) for line in (folder / "out" / "rows.jsonl").read_text().splitlines()]
    return load_suite(folder / "grid.toml"), rows, folder / "out"


def test_grids_are_found_only_when_complete():
    suite = suite_from_toml(GRID_SUITE, source="grid.toml")
    (grid,) = find_grids(suite, [])
    assert (grid.axis, grid.signals, grid.values) == ("d", (1.0, 2.0, 4.0), (50.0, 100.0, 200.0))
    # one combination missing: not a grid; two values on an axis: too small
    assert find_grids(suite_from_toml(GRID_SUITE.replace("d = [50, 100, 200]", "d = [50, 100]"), "g.toml"), []) == []
    holes = GRID_SUITE.replace('sweep = { signal = [1.0, 2.0, 4.0], d = [50, 100, 200] }',
                               'sweep = { signal = [1.0, 2.0, 4.0], d = [50, 100, 200] }\n\n[[setting]]\n'
                               'name = "extra"\ngroup = "grid"\nregime = "transition"\ndata.signal = 8.0\ndata.d = 50')
    assert find_grids(suite_from_toml(holes, "h.toml"), []) == []
    by_n = suite_from_toml(GRID_SUITE.replace("d = [50, 100, 200]", "n = [4, 6, 8]").replace("data.n = 6", "data.d = 100"),
                           "n.toml")
    assert [g.axis for g in find_grids(by_n, [])] == ["n"]


def test_cells_summarise_the_rows(grid_report):
    suite, rows, _ = grid_report
    (grid,) = find_grids(suite, rows)
    cells = summarise(grid)
    finals = {row["setting"]: row for row in rows if row["kind"] == "final"}
    for setting in suite.settings:
        if setting.beyond:
            continue
        row = finals[setting.name]
        i, j = grid.values.index(setting.config.data.d), grid.signals.index(setting.config.data.signal)
        # one replicate: the cell is the row itself (log10 from the natural log; float64 division)
        assert cells.exact[i, j] == pytest.approx(row["log_limit_error"] / math.log(10), rel=1e-15)
        assert cells.case1[i, j] == float(row["hyp/4.8/case1/holds"])
        if row["network_errors"] > 0:
            assert cells.network[i, j] == pytest.approx(math.log10(row["network_errors"] / row["test_points"]),
                                                        rel=1e-15)
        assert cells.network_upper[i, j] == (row["network_errors"] == 0)


def test_report_draws_the_phase_diagram_with_the_theory_curves(grid_report):
    _, _, out = grid_report
    assert (out / "figures" / "phase_diagram_00.png").read_bytes().startswith(b"\x89PNG")
    text = (out / "report.md").read_text()
    assert "## Phase diagram" in text
    # r = n mu^2 / d spans [0.03, 1.9] and psi = n mu^4 / (n mu^2 + d) spans [0.03, 10.5]: both cross 1
    caption = next(line for line in text.splitlines() if line.startswith("*Group grid: log10 test error"))
    assert "r = 1 (weak | strong regime)" in caption and "ψ = 1 (harmful | benign)" in caption


def test_a_boundary_outside_the_grid_is_not_drawn():
    z = np.array([[0.2, 0.5], [0.3, 0.9]])
    assert Boundary("b", "r_one", [1, 2], [1, 2], z, 0.4).drawn()
    assert not Boundary("b", "r_one", [1, 2], [1, 2], z, 1.0).drawn()
    assert not Boundary("b", "r_one", [1, 2], [1, 2], np.full((2, 2), np.nan), 0.4).drawn()
