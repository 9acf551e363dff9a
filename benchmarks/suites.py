"""End-to-end wall time of `theorybench report SUITE`, this tree against an earlier revision.

Run from the repository root::

    .venv/bin/python benchmarks/suites.py [--before REV] [--suites S ...] [--workers N] [--out FILE.md]

or, to time the two trees on separate cores of one machine at the same time, one side per call
(``--which before --before-tree PATH --json before.json``, ``--which after --json after.json``),
then ``--compare before.json after.json``.

For each suite, the ``report`` command is run twice in a row with the same interpreter and
packages: once on the source of git revision ``--before`` (exported with ``git archive`` into a
temporary folder and put first on ``PYTHONPATH``), once on this working tree. The wall time of
each whole command (start-up, sweep, analysis and rendering) is measured from outside, with its
CPU time (user + system, the command and its worker processes: on a shared machine the robust
figure, since wall time there mostly measures the neighbours), and the
verdict table of each report (``report.md``: verdict and statement of every row) is compared, so
the table says whether the faster code reaches the same conclusions. Runs alternate per suite, so
the before/after ratio of a suite comes from two adjacent runs on the same machine state.
Prints a Markdown table; ``--out`` also writes it to a file.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
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
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def report(source: Path, suite: str, out: Path, workers: int | None) -> tuple[float, list[tuple[str, str]], float]:
    """Wall seconds of one ``report`` command on `source`, its (verdict, statement) rows, and the
    CPU seconds (user + system) of the command and every process it waited for (its workers)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(source), os.environ.get("PYTHONPATH")]))}
    command = [sys.executable, "-m", "theorybench", "report", suite, "--out", str(out)]
    if workers is not None:
        command += ["--workers", str(workers)]
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, cwd=source, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - start
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    verdicts = [match.groups() for line in (out / "report.md").read_text(encoding="utf-8").splitlines()
                if (match := VERDICT_ROW.match(line))]
    return wall, verdicts, cpu


def table(before: dict, after: dict, header: str) -> str:
    """The Markdown table of two timings {suite: [wall, verdicts, cpu]} (before may be empty)."""
    lines = [header, "", "| suite | wall before (s) | wall after (s) | wall speed-up | CPU before (s) "
             "| CPU after (s) | CPU speed-up | same verdicts |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for suite, (wall, verdicts, cpu) in after.items():
        if suite not in before:
            lines.append(f"| {suite} | - | {wall:.1f} | - | - | {cpu:.1f} | - | - |")
            continue
        earlier, earlier_verdicts, earlier_cpu = before[suite]
        same = "yes" if [tuple(v) for v in earlier_verdicts] == [tuple(v) for v in verdicts] else "NO"
        lines.append(f"| {suite} | {earlier:.1f} | {wall:.1f} | {earlier / wall:.1f}x | {earlier_cpu:.1f} "
                     f"| {cpu:.1f} | {earlier_cpu / cpu:.1f}x | {same} ({len(verdicts)} statements) |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="main", help="git revision to compare with (default main)")
    parser.add_argument("--before-tree", type=Path, help="an exported source tree to use as 'before'")
    parser.add_argument("--suites", nargs="+", default=["weak_gaussian", "sub_gaussian", "polynomial_tails"])
    parser.add_argument("--workers", type=int, default=None, help="--workers of report (default: all cores)")
    parser.add_argument("--which", choices=("both", "before", "after"), default="both",
                        help="time both trees, alternating per suite (default), or one of them")
    parser.add_argument("--json", type=Path, help="with --which before/after: write {suite: [wall, verdicts]}")
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("BEFORE_JSON", "AFTER_JSON"),
                        help="print the table of two --json files and exit")
    parser.add_argument("--out", type=Path, help="also write the Markdown table to this file")
    args = parser.parse_args()
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    header = (f"{os.cpu_count()} logical cores, load average before the run {load}; "
              f"--workers {args.workers or 'default (all cores)'}; before = {args.before_tree or args.before}")
    if args.compare:
        before, after = (json.loads(path.read_text(encoding="utf-8")) for path in args.compare)
        result = table(before, after, "Compared: " + " and ".join(str(p) for p in args.compare))
    else:
        timings: dict[str, dict] = {"before": {}, "after": {}}
        with tempfile.TemporaryDirectory() as scratch:
            scratch = Path(scratch)
            trees = {"after": ROOT}
            if args.which != "after":
                trees["before"] = args.before_tree or export(args.before, scratch / "before")
            for suite in args.suites:
                for side in ("after", "before"):
                    if args.which in ("both", side):
                        timings[side][suite] = report(trees[side], suite, scratch / f"{side}-{suite}", args.workers)
                        wall, _, cpu = timings[side][suite]
                        print(side, suite, f"{wall:.1f} s wall, {cpu:.1f} s CPU", flush=True)
        if args.json is not None:
            args.json.write_text(json.dumps(timings[args.which if args.which != "both" else "after"]),
                                 encoding="utf-8")
        result = table(timings["before"], timings["after"] or timings["before"], header)
    print(result)
    if args.out is not None:
        args.out.write_text(result, encoding="utf-8")


if __name__ == "__main__":
    main()
