"""`theorybench report peer_kedar2` end to end, on a trimmed copy of the shipped suite."""

import json
import re
from pathlib import Path

from theorybench.cli import main

SUITE = Path(__file__).resolve().parents[1] / "verify" / "suites" / "peer_kedar2.toml"


def test_peer_report_runs_and_names_each_rows_protocol(tmp_path):
    # One replicate and a 3000-step budget keep this to 5-11 s on 2 shared cores; the settings,
    # protocols and groups are the shipped ones.
    text = SUITE.read_text()
    text = re.sub(r"replicates = \d+", "replicates = 1", text)
    text = text.replace("training.max_steps = 20000", "training.max_steps = 3000")
    suite = tmp_path / "peer.toml"
    suite.write_text(text)
    out = tmp_path / "out"
    assert main(["report", str(suite), "--out", str(out), "--executor", "serial"]) == 0
    rows = [json.loads(line) for line in (out / "rows.jsonl").read_text().splitlines()]
    finals = {row["setting"]: row for row in rows if row["kind"] == "final"}
    one_step = [row for name, row in finals.items() if name.startswith("one-step")]
    long_run = [row for name, row in finals.items() if name.startswith("long-run")]
    assert len(one_step) == len(long_run) == 6
    assert {row["stop_reason"] for row in one_step} == {"zero_train_error"}
    assert "zero_train_error" not in {row["stop_reason"] for row in long_run}
    checkpoints = [row for row in rows if row["kind"] == "checkpoint"]
    assert all(row["checkpoint_test_points"] == 1000 and row["test_errors"] is not None
               for row in checkpoints)
    markdown = (out / "report.md").read_text()
    assert "Group protocol-one-step" in markdown and "Group protocol-long-run" in markdown
    assert "their protocol: stop at the first step with zero training error" in markdown
    assert len(list((out / "figures").glob("*.png"))) >= 2
