"""End-to-end wall time of `theorybench report SUITE`, this tree against an earlier revision.

Run from the repository root::

    .venv/bin/python benchmarks/suites.py [--before REV] [--suites S ...] [--workers N] [--out FILE.md]

For each suite, the ``report`` command is run twice in a row with the same interpreter and
packages: once on the source of git revision ``--before`` (exported with ``git archive`` into a
temporary folder and put first on ``PYTHONPATH``), once on this working tree. The wall time of
each whole command (start-up, sweep, analysis and rendering) is measured from outside, and the
verdict table of each report (``report.md``: verdict and statement of every row) is compared, so
the table says whether the faster code reaches the same conclusions. Runs alternate per suite, so
the before/after ratio of a suite comes from two adjacent runs on the same machine state.
Prints a Markdown table; ``--out`` also writes it to a file.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VERDICT_ROW = re.compile(r"^\| \**(PASS|FAIL|INCONCLUSIVE|NOT APPLICABLE)\** \| (.*?) \|")


def export(revision: str, folder: Path) -> Path:
    """The source tree of `revision` in `folder` (git archive | tar)."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def report(source: Path, suite: str, out: Path, workers: int | None) -> tuple[float, list[tuple[str, str]]]:
    """Wall seconds of one ``report`` command on `source`, and its (verdict, statement) rows."""
    env = {**os.environ, "PYTHONPATH": str(source)}
    command = [sys.executable, "-m", "theorybench", "report", suite, "--out", str(out)]
    if workers is not None:
        command += ["--workers", str(workers)]
    start = time.perf_counter()
    subprocess.run(command, cwd=source, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - start
    verdicts = [match.groups() for line in (out / "report.md").read_text(encoding="utf-8").splitlines()
                if (match := VERDICT_ROW.match(line))]
    return wall, verdicts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="main", help="git revision to compare with (default main)")
    parser.add_argument("--suites", nargs="+", default=["weak_gaussian", "sub_gaussian", "polynomial_tails"])
    parser.add_argument("--workers", type=int, default=None, help="--workers of report (default: all cores)")
    parser.add_argument("--after-only", action="store_true", help="time this tree only (no --before run)")
    parser.add_argument("--out", type=Path, help="also write the Markdown table to this file")
    args = parser.parse_args()
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    lines = [f"{os.cpu_count()} logical cores, load average before the run {load}; "
             f"--workers {args.workers or 'default (all cores)'}; before = {args.before}", "",
             "| suite | before (s) | after (s) | speed-up | same verdicts |", "| --- | ---: | ---: | ---: | --- |"]
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        before_tree = None if args.after_only else export(args.before, scratch / "before")
        for suite in args.suites:
            after, after_verdicts = report(ROOT, suite, scratch / f"after-{suite}", args.workers)
            if before_tree is None:
                lines.append(f"| {suite} | - | {after:.1f} | - | - |")
                continue
            before, before_verdicts = report(before_tree, suite, scratch / f"before-{suite}", args.workers)
            same = "yes" if before_verdicts == after_verdicts else "NO"
            lines.append(f"| {suite} | {before:.1f} | {after:.1f} | {before / after:.1f}x | {same} "
                         f"({len(after_verdicts)} statements) |")
            print(lines[-1], flush=True)
    table = "\n".join(lines) + "\n"
    print(table)
    if args.out is not None:
        args.out.write_text(table, encoding="utf-8")


if __name__ == "__main__":
    main()
