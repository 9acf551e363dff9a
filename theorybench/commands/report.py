"""`theorybench report [SUITE] [--out DIR] [--executor process|serial|dask] [--scheduler ADDR]
[--workers N] [--resume] [--seed S]`: sweep a suite, judge every encoded statement, write the report.

SUITE is a shipped suite name or a TOML path (default ``quick``), loaded by
``verify.suite.load_suite``. Every (setting, replicate) unit runs ``verify.measure.measure``, in
the batches of ``verify.measure.BATCHING`` (units of the same n and m trained together),
through the chosen executor (`verify.executors`); rows go to ``DIR/rows.jsonl`` as units finish
(`verify.runner`, `verify.storage`), so an interrupted run continues with ``--resume``. The
content of the report comes from ``verify.analysis.analyse(suite, rows)`` (sections) and is
rendered by `verify.render` to ``DIR/index.html``, ``DIR/report.md`` and ``DIR/figures/*.png``;
``DIR/environment.json`` records versions, seeds, configuration hashes and the wall time (which
never enter the rows, so rows.jsonl is bit-identical across reruns with the same seed).

Exit status: 0 when every unit ran (whatever the verdicts: a FAIL is a finding, reported
prominently), 1 when some unit raised (its error is in the rows and the report), 2 for bad input
(a suite over the memory budget, a damaged results file that cannot be resumed, rows of another
version without ``--allow-version-mix``, a full disk), 3 with ``--fail-on fail`` when a claim of the
paper FAILs (``--fail-on inconclusive``: FAILs or is INCONCLUSIVE), for CI jobs, 130 / 143 when
interrupted by SIGINT / SIGTERM (the message says how to resume; docs/failure.md). Open questions
of the specification, self-checks and BEYOND observations never set status 3 (`verify.claims`).
"""

from __future__ import annotations

import datetime
import hashlib
import importlib
import importlib.metadata
import json
import platform
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

from theorybench import __version__
from theorybench.errors import Interrupted, UserInputError
from theorybench.guard import parse_memory, require_within, suite_estimate
from theorybench.safeio import DiskFullError

HELP = "sweep a suite of settings, judge every encoded statement, and write the report"
DEFAULT_SUITE = "quick"
FAIL_ON = {"fail": ("FAIL",), "inconclusive": ("FAIL", "INCONCLUSIVE")}
EXIT_CLAIM_FAILED = 3
PACKAGES = ("numpy", "scipy", "matplotlib", "mpmath", "sympy", "tqdm", "dask", "distributed")


def add_arguments(parser) -> None:
    from verify.executors import EXECUTORS

    parser.add_argument("suite", nargs="?", default=DEFAULT_SUITE, metavar="SUITE",
                        help=f"shipped suite name or suite TOML path (default {DEFAULT_SUITE!r})")
    parser.add_argument("--out", default=None, metavar="DIR",
                        help="output folder (default ./theorybench-out/report-<suite name>)")
    parser.add_argument("--executor", choices=EXECUTORS, default="process",
                        help="where units run: local process pool (default), in this process, or dask")
    parser.add_argument("--scheduler", default=None, metavar="ADDR",
                        help="address of a running dask scheduler (with --executor dask); "
                             "default: start a local cluster")
    parser.add_argument("--workers", type=int, default=None, metavar="N",
                        help="worker processes (process pool or local dask cluster; default: available cores)")
    parser.add_argument("--resume", action="store_true",
                        help="finish the run whose rows.jsonl is in DIR instead of refusing to overwrite it "
                             "(with every unit done, this only rewrites the report)")
    parser.add_argument("--seed", type=int, default=None, metavar="S",
                        help="root seed of the sweep (default: the suite's root_seed)")
    parser.add_argument("--allow-version-mix", action="store_true",
                        help="with --resume, keep rows computed by another theorybench version "
                             "(refused by default: one results file, one version)")
    parser.add_argument("--max-memory", default=None, metavar="SIZE",
                        help="memory budget, e.g. 4GiB (default: half of this machine's memory); "
                             "a suite estimated above it is refused before it runs")
    parser.add_argument("--fail-on", choices=FAIL_ON, default=None, dest="fail_on",
                        help=f"exit with status {EXIT_CLAIM_FAILED} when a claim of the paper FAILs ('fail') or "
                             "FAILs or is INCONCLUSIVE ('inconclusive'); for CI jobs")


def _output_folder(args, suite_name: str) -> Path:
    folder = Path(args.out) if args.out is not None else Path("theorybench-out") / f"report-{suite_name}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".theorybench-write-probe"
        probe.write_text("")
        probe.unlink()
    except OSError as error:
        raise UserInputError(f"--out {str(folder)!r} cannot be created or written ({error.strerror or error}); "
                             "choose a writable folder.") from None
    return folder


def _versions() -> dict[str, str]:
    versions = {"python": platform.python_version(), "theorybench": __version__}
    for package in PACKAGES:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def source_fingerprint() -> str:
    """SHA-256 (16 hex digits) of the source of the three packages and the shipped suites.

    Rows do not carry it (they are identical across code edits that do not change results), but
    ``environment.json`` does, and ``--resume`` warns when the code changed since the rows it keeps.
    """
    import bounds
    import theorybench
    import verify

    digest = hashlib.sha256()
    for package in (theorybench, bounds, verify):
        root = Path(package.__file__).parent
        for path in sorted(p for p in root.rglob("*") if p.suffix in (".py", ".toml") and p.is_file()):
            digest.update(f"{package.__name__}/{path.relative_to(root).as_posix()}\n".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _warn_if_code_changed(folder: Path, fingerprint: str) -> None:
    previous = folder / "environment.json"
    if not previous.is_file():
        return
    try:
        earlier = json.loads(previous.read_text(encoding="utf-8")).get("source_fingerprint")
    except (OSError, ValueError):
        return
    if earlier is not None and earlier != fingerprint:
        print(f"theorybench report: warning: the source changed since the rows in {str(folder)!r} were "
              f"computed (fingerprint {earlier} -> {fingerprint}); kept rows come from the earlier code. "
              "Choose another --out folder to recompute everything.", file=sys.stderr)


def environment_record(*, suite, root_seed: int, units, outcome, args, started: float, wall_s: float,
                       rows_sha256: str, fingerprint: str) -> dict[str, Any]:
    """What ``environment.json`` holds: everything about the run that must stay out of the rows."""
    return {
        "suite": suite.name,
        "suite_source": getattr(suite, "source", ""),
        "root_seed": root_seed,
        "replicates": suite.replicates,
        "executor": args.executor,
        "workers": args.workers,
        "scheduler": args.scheduler,
        "host": socket.gethostname(),
        "platform": platform.platform(),
        "versions": _versions(),
        "source_fingerprint": fingerprint,
        "started_utc": datetime.datetime.fromtimestamp(started, datetime.timezone.utc).isoformat(timespec="seconds"),
        "wall_time_s": round(wall_s, 3),
        "units_computed": outcome.computed,
        "units_reused": outcome.reused,
        "units_failed": [list(key) for key in outcome.failed],
        "rows": len(outcome.rows),
        "rows_sha256": rows_sha256,
        "units": [{"setting": u.setting, "replicate": u.replicate, "seed": u.config.seed,
                   "config_hash": row_hash} for u, row_hash in units],
    }


def _run_section(suite, environment, rows):
    """What ran: counts, failed units (prominent), the wall time."""
    from verify.render import Paragraph, Section, Table

    failed = [row for row in rows if row.get("kind") == "error"]
    blocks = [Paragraph(
        f"Suite `{suite.name}` ({environment['suite_source'] or 'shipped'}), root seed "
        f"{environment['root_seed']}, {environment['replicates']} replicate(s) per setting: "
        f"{environment['units_computed']} unit(s) computed in this run, {environment['units_reused']} "
        f"reused from an earlier one, {len(failed)} failed; {environment['rows']} rows. Executor "
        f"{environment['executor']}, wall time {environment['wall_time_s']:.1f} s.")]
    if failed:
        blocks.append(Table(("setting", "replicate", "error type", "message"),
                            tuple((r["setting"], r["replicate"], r.get("error_type", ""), r.get("error", ""))
                                  for r in failed),
                            "FAILED UNITS: these (setting, replicate) raised; every other unit's rows are kept. "
                            "Rerun with --resume to retry them."))
    return Section("Run", tuple(blocks))


def _environment_section(environment):
    """Versions, seeds and configuration hashes: enough to reproduce any row alone."""
    from verify.render import Paragraph, Section, Table

    items = ("suite", "suite_source", "root_seed", "replicates", "executor", "workers", "scheduler", "host",
             "platform", "started_utc", "wall_time_s", "rows", "rows_sha256", "source_fingerprint")
    units = tuple((u["setting"], u["replicate"], u["seed"], u["config_hash"]) for u in environment["units"])
    return Section("Environment", (
        Table(("item", "value"), tuple((item, environment[item]) for item in items), "The run."),
        Table(("package", "version"), tuple(environment["versions"].items()), "Versions."),
        Paragraph("Every row is reproducible alone: `theorybench simulate` on the setting's configuration "
                  "with the seed below gives the same run. The seeds derive from the root seed by "
                  "`SeedSequence(root_seed, spawn_key=(setting index, replicate))`."),
        Table(("setting", "replicate", "seed", "config hash"), units, "Seeds and configuration hashes."),
    ))


# The key figure of each claim card: (claim key, figure-name prefix of verify.analysis, suite regime
# whose group the figure shows). Figures are named per group index, e.g. error_vs_psi_02.
_CLAIM_FIGURES = (("4.8", "directional_convergence", ""), ("5.1-weak", "error_vs_psi", "weak"),
                  ("5.1-strong", "error_vs_psi", "strong"), ("transition", "phase_transition", "transition"),
                  ("6.2", "error_vs_psi", "sub_gaussian"), ("6.3", "error_vs_psi", "polynomial"))


def claim_figures(suite) -> dict[str, str]:
    """Claim key -> the name of its key figure (a name the report lacks shows no thumbnail)."""
    groups = list(dict.fromkeys(s.group for s in suite.settings))  # the order of Suite.groups()
    out = {}
    for claim, prefix, regime in _CLAIM_FIGURES:
        if not regime:
            out[claim] = prefix
            continue
        group = next((s.group for s in suite.settings if s.regime == regime), None)
        if group is not None:
            out[claim] = f"{prefix}_{groups.index(group):02d}"
    return out


def run(args) -> int:
    # verify is imported here, not at module level: the CLI imports every command to build --help.
    from theorybench.config import config_hash  # numpy: not needed to build the parser
    from verify.executors import available_cores, in_flight_limit, open_executor
    measurement = importlib.import_module("verify.measure")
    from verify.runner import check_writable, plan_units, run_sweep
    from verify.storage import ResultsFile
    from verify.suite import load_suite

    suite = load_suite(args.suite)
    root_seed = suite.root_seed if args.seed is None else args.seed
    budget = None if args.max_memory is None else parse_memory(args.max_memory)
    workers = 1 if args.executor == "serial" else (args.workers or available_cores())
    require_within(suite_estimate([s.config for s in suite.settings], suite.replicates, workers), budget,
                   f"suite {suite.name!r}")  # before the units are planned: that alone can be huge
    units = plan_units([(s.name, s.config) for s in suite.settings], suite.replicates, root_seed)
    folder = _output_folder(args, suite.name)
    results = ResultsFile(folder / "rows.jsonl")
    check_writable(results, resume=args.resume)  # before a cluster starts, not after
    fingerprint = source_fingerprint()
    if args.resume:
        _warn_if_code_changed(folder, fingerprint)
    in_flight = in_flight_limit(args.executor, args.workers)
    started, clock = time.time(), time.perf_counter()
    resume_hint = f"The rows of every finished unit are kept in {str(results.path)!r}; continue with:"
    resume_command = (f"theorybench report {args.suite} --out {str(folder)} --resume"
                      + ("" if args.seed is None else f" --seed {args.seed}"))
    try:
        with open_executor(args.executor, workers=args.workers, scheduler=args.scheduler) as executor:
            # A work module that declares no batching (a stand-in in the tests) runs unit by unit.
            outcome = run_sweep(units, measurement.measure, results, executor, resume=args.resume,
                                max_in_flight=in_flight, allow_version_mix=args.allow_version_mix,
                                batching=getattr(measurement, "BATCHING", None))
    except KeyboardInterrupt:
        raise Interrupted(signal.SIGINT, resume_hint, resume_command) from None
    except Interrupted as interruption:
        raise Interrupted(interruption.signal_number, resume_hint, resume_command) from None
    wall = time.perf_counter() - clock
    environment = environment_record(
        suite=suite, root_seed=root_seed, units=[(u, config_hash(u.config)) for u in units], outcome=outcome,
        args=args, started=started, wall_s=wall, rows_sha256=hashlib.sha256(results.path.read_bytes()).hexdigest(),
        fingerprint=fingerprint)
    try:
        return _write_outputs(args, suite, environment, outcome, folder, wall)
    except (KeyboardInterrupt, Interrupted) as interruption:
        number = getattr(interruption, "signal_number", signal.SIGINT)
        raise Interrupted(number, f"Every unit's rows are in {str(results.path)!r}; rerun with --resume "
                                  "to write the report.") from None
    except DiskFullError as error:
        raise DiskFullError(f"{error} Every unit's rows are in {str(results.path)!r}: once there is "
                            f"space, rerun with --resume to write the report.") from None


def _write_outputs(args, suite, environment, outcome, folder, wall) -> int:
    """environment.json and the report (every file written atomically); the exit status."""
    from verify.analysis import analyse
    from verify.phase_diagram import phase_diagram_section
    from verify.render import Report, as_report, headline, write_report
    from verify.storage import write_json

    write_json(folder / "environment.json", environment)
    content = as_report(analyse(suite, outcome.rows), f"theorybench report — suite {suite.name}")
    diagram = phase_diagram_section(suite, outcome.rows)
    report = Report(content.title, (*content.sections, *((diagram,) if diagram else ()),
                                     _run_section(suite, environment, outcome.rows),
                                     _environment_section(environment)), content.checks,
                    regimes={s.name: s.regime for s in suite.settings}, claim_figures=claim_figures(suite))
    write_report(report, folder)
    dashboard = report.dashboard()
    print(headline(dashboard))
    for card in dashboard.cards:
        print(f"  {card.verdict:<14} {card.claim.title}")
    apart = [f"{len(results)} {name}" for name, results in (
        ("open question(s)", dashboard.open_questions), ("self-check(s)", dashboard.self_checks),
        ("BEYOND statement(s)", dashboard.beyond)) if results]
    if apart:
        print(f"Apart from the claims: {', '.join(apart)} (see the report).")
    print(f"wrote {folder / 'index.html'}, {folder / 'report.md'}, {folder / 'rows.jsonl'} "
          f"({len(outcome.rows)} rows), {folder / 'environment.json'} (wall time {wall:.1f} s)")
    if outcome.failed:
        print(f"{len(outcome.failed)} unit(s) failed; see the report's Run section. Retry with --resume.",
              file=sys.stderr)
        return 1
    if args.fail_on is not None and dashboard.any_verdict(FAIL_ON[args.fail_on]):
        print(f"--fail-on {args.fail_on}: a claim of the paper is "
              f"{' or '.join(FAIL_ON[args.fail_on])}; exit status {EXIT_CLAIM_FAILED}.", file=sys.stderr)
        return EXIT_CLAIM_FAILED
    return 0
