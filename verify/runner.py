"""Run a sweep: every (setting, replicate) unit through an executor, rows into a results file.

Contracts
---------
Work unit (written in `verify.measure`): a picklable top-level function

    measure(config: Config, setting: str, replicate: int) -> list[dict]

returning tidy JSON-serialisable rows, each with at least ``setting`` and ``replicate`` (equal to
the arguments), ``step`` (int, or None for a whole-run row) and ``kind`` (``"checkpoint"`` or
``"final"``). NumPy scalars and arrays are accepted and stored as Python numbers and lists.

Seeds: unit ``(setting_index, replicate)`` of a suite with root seed ``S`` runs
``config.replace(seed=unit_seed(S, setting_index, replicate))`` with

.. math:: \\mathrm{seed} = \\texttt{SeedSequence}(S, \\texttt{spawn\\_key}=(i, r)).\\texttt{generate\\_state}(1)[0],

so every row is reproducible alone with ``theorybench simulate`` on its configuration (to
rounding when the unit ran in a batch: batched gradient descent equals the single-unit engine to
1e-12 relative, `theorybench.gd_batch`).

Rows as stored: the work unit's rows plus ``config_hash`` (`theorybench.config.config_hash` of
the unit's configuration, seed included), ``seed``, ``package_version`` and the seal ``unit_rows``,
``unit_sha256`` (see `verify.storage`). On resume, damaged lines and broken units are recomputed;
rows of another package version are refused unless ``allow_version_mix``. A unit that raises is stored as one row with ``kind = "error"``, ``step =
None``, ``error_type`` and ``error`` (the message), so a crashed setting loses nobody else's
results; ``--resume`` retries such units.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import FIRST_COMPLETED, BrokenExecutor, Executor, Future, wait
from dataclasses import dataclass
from typing import Any

import numpy as np

from theorybench import __version__
from theorybench.progress import progress as progress_meter
from theorybench.config import Config, config_hash
from theorybench.errors import UserInputError
from verify.storage import ResultsFile, UnitKey, canonical_order, decode_row, encode_row, seal_unit, unit_key

WorkUnit = Callable[[Config, str, int], list[dict[str, Any]]]
BatchWork = Callable[[list[tuple[Config, str, int]]], list[list[dict[str, Any]]]]
ROW_KINDS = ("checkpoint", "final")


@dataclass(frozen=True)
class Unit:
    """One (setting, replicate) of a suite, with its configuration (seed already derived)."""

    setting_index: int
    setting: str
    replicate: int
    config: Config

    @property
    def key(self) -> UnitKey:
        return (self.setting, self.replicate)


def unit_seed(root_seed: int, setting_index: int, replicate: int) -> int:
    """The configuration seed of unit (setting_index, replicate): see the module docstring."""
    sequence = np.random.SeedSequence(root_seed, spawn_key=(setting_index, replicate))
    return int(sequence.generate_state(1)[0])


def plan_units(settings: Sequence[tuple[str, Config]], replicates: int, root_seed: int) -> list[Unit]:
    """Every unit of a suite, in canonical order (settings as given, then replicate).

    Parameters
    ----------
    settings : sequence of (name, Config)
        The suite's settings in order; names must be distinct.
    replicates : int
        Replicates per setting, >= 1.
    root_seed : int
        The suite's root seed, >= 0.
    """
    if isinstance(replicates, bool) or not isinstance(replicates, int) or replicates < 1:
        raise UserInputError(f"replicates must be an integer >= 1, got {replicates!r}.")
    if isinstance(root_seed, bool) or not isinstance(root_seed, int) or root_seed < 0:
        raise UserInputError(f"--seed must be an integer >= 0, got {root_seed!r}.")
    names = [name for name, _ in settings]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise UserInputError(f"setting names must be distinct; repeated: {', '.join(duplicates)}.")
    return [
        Unit(index, name, replicate, config.replace(seed=unit_seed(root_seed, index, replicate)))
        for index, (name, config) in enumerate(settings)
        for replicate in range(replicates)
    ]


@dataclass(frozen=True)
class Batching:
    """How a work module runs several units in one call (module docstring).

    Attributes
    ----------
    work : callable
        The batch work function; picklable (top level) for process and dask executors.
    key : callable
        ``key(config)``: units with equal keys may share a batch; None runs the unit alone.
    batches_per_key : int
        Units of one key are split into this many batches (fewer when batches would drop below
        ``min_size`` units), so that several workers share a large group.
    min_size, max_size : int
        Batch sizes aimed at: no smaller than ``min_size`` units (unless the group is), and never
        larger than ``max_size`` (more batches then).
    max_size_of : callable or None
        ``max_size_of(key)``: a per-key ``max_size`` (a batch's arrays grow with its units' sizes,
        and past the cache a larger batch is slower, docs/benchmarks.md); None: ``max_size``.
    """

    work: BatchWork
    key: Callable[[Config], Hashable | None]
    batches_per_key: int = 2
    min_size: int = 8
    max_size: int = 64
    max_size_of: Callable[[Hashable], int] | None = None


def plan_batches(units: Sequence[Unit], batching: Batching) -> list[tuple[Unit, ...]]:
    """The batches of a sweep: a deterministic function of `units` and `batching` only.

    Units are grouped by ``batching.key`` (groups in order of first appearance, units in
    canonical order within a group); a group of ``N`` units is cut into
    ``k = max(min(batches_per_key, ceil(N / min_size)), ceil(N / max_size))`` consecutive
    batches whose sizes differ by at most one (``max_size`` from ``max_size_of(key)`` when given).
    A unit whose key is None is a batch of its own.
    """
    groups: dict[Hashable, list[Unit]] = {}
    for unit in units:
        key = batching.key(unit.config)
        groups.setdefault(("alone", unit.key) if key is None else ("key", key), []).append(unit)
    batches: list[tuple[Unit, ...]] = []
    for (kind, key), members in groups.items():
        limit = batching.max_size_of(key) if batching.max_size_of is not None and kind == "key" \
            else batching.max_size
        count = max(min(batching.batches_per_key, math.ceil(len(members) / batching.min_size)),
                    math.ceil(len(members) / max(limit, 1)))
        size, larger = divmod(len(members), count)
        start = 0
        for index in range(count):
            stop = start + size + (index < larger)
            batches.append(tuple(members[start:stop]))
            start = stop
    return batches


def _stamped(unit: Unit, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    stamp = {
        "config_hash": config_hash(unit.config),
        "seed": unit.config.seed,
        "package_version": __version__,
    }
    return seal_unit([{**row, **stamp} for row in rows])


def error_rows(unit: Unit, error: BaseException) -> list[dict[str, Any]]:
    """The single ``kind = "error"`` row recording that `unit` failed with `error`."""
    row = {"setting": unit.setting, "replicate": unit.replicate, "step": None, "kind": "error",
           "error_type": type(error).__name__, "error": str(error)}
    return _stamped(unit, [row])


def _checked(unit: Unit, rows: Any) -> list[dict[str, Any]]:
    if not isinstance(rows, list) or not rows:
        raise ValueError(f"the work unit returned {type(rows).__name__}, not a non-empty list of rows")
    for row in rows:
        if not isinstance(row, dict):
            raise ValueError(f"the work unit returned a row of type {type(row).__name__}, not dict")
        if (row.get("setting"), row.get("replicate")) != (unit.setting, unit.replicate):
            raise ValueError(f"a row names setting {row.get('setting')!r} replicate "
                             f"{row.get('replicate')!r}, not the unit's {unit.setting!r} {unit.replicate}")
        if row.get("kind") not in ROW_KINDS:
            raise ValueError(f"a row has kind {row.get('kind')!r}, not one of {ROW_KINDS}")
        step = row.get("step", "missing")
        if step is not None and (isinstance(step, bool) or not isinstance(step, (int, np.integer))):
            raise ValueError(f"a row has step {step!r}, not an integer or None")
    # Through JSON and back: what the caller gets is exactly what a resumed run reads from disk.
    return [decode_row(encode_row(row)) for row in rows]


def execute_unit(work: WorkUnit, unit: Unit) -> list[dict[str, Any]]:
    """Run one unit (in a worker): its stamped rows, or one error row if it raised."""
    try:
        rows = _checked(unit, work(unit.config, unit.setting, unit.replicate))
    except Exception as error:  # recorded as data: one failing unit must not end the sweep
        return error_rows(unit, error)
    return _stamped(unit, rows)


def execute_batch(work: BatchWork, units: Sequence[Unit]) -> list[list[dict[str, Any]]]:
    """Run a batch of units in one call (in a worker): each unit's stamped rows or error row.

    If the call raises, every unit is run alone (a batch of one), so the error row names the unit
    that failed and its batch-mates keep their results.
    """
    try:
        results = work([(unit.config, unit.setting, unit.replicate) for unit in units])
        if not isinstance(results, list) or len(results) != len(units):
            raise ValueError(f"the batch work returned {type(results).__name__} for {len(units)} units, "
                             "not one list of rows per unit")
    except Exception:  # retried unit by unit below, where the failure is recorded as data
        return [execute_unit(lambda config, setting, replicate: work([(config, setting, replicate)])[0],
                             unit) for unit in units]
    stamped = []
    for unit, rows in zip(units, results):
        try:
            stamped.append(_stamped(unit, _checked(unit, rows)))
        except Exception as error:  # one unit breaking the contract fails that unit only
            stamped.append(error_rows(unit, error))
    return stamped


@dataclass(frozen=True)
class SweepOutcome:
    """What `run_sweep` did: all rows (canonical order) and how many units ran, were reused, failed."""

    rows: list[dict[str, Any]]
    computed: int
    reused: int
    failed: tuple[UnitKey, ...]


def _resumable_rows(results: ResultsFile, units: Sequence[Unit], allow_version_mix: bool) -> list[dict[str, Any]]:
    planned = {unit.key: config_hash(unit.config) for unit in units}
    kept = []
    recovered = results.recover()
    damaged, broken = results.recovery
    if damaged or broken:
        print(f"theorybench report: --resume: {damaged} damaged line(s) and {len(broken)} incomplete or "
              f"altered unit(s) in {str(results.path)!r} were discarded; those units are recomputed.",
              file=sys.stderr)
    versions = sorted({str(row.get("package_version")) for row in recovered} - {__version__})
    if versions and not allow_version_mix:
        raise UserInputError(
            f"--resume: {str(results.path)!r} holds rows computed by theorybench {', '.join(versions)}, "
            f"but this is theorybench {__version__}; one results file would mix versions. Choose another "
            "--out folder, or pass --allow-version-mix to keep those rows."
        )
    for row in recovered:
        key = unit_key(row)
        if planned.get(key) != row.get("config_hash"):
            raise UserInputError(
                f"--resume: {str(results.path)!r} holds rows for setting {key[0][:60]!r} replicate {key[1]} "
                "that this suite and seed would not produce (another suite, seed or configuration). "
                "Resume with the same suite and --seed, or choose another --out folder."
            )
        if row["kind"] != "error":  # failed units are retried
            kept.append(row)
    return kept


def check_writable(results: ResultsFile, *, resume: bool) -> None:
    """Refuse to start a fresh run over existing results (`UserInputError` naming --resume)."""
    if not resume and results.has_rows():
        raise UserInputError(
            f"{str(results.path)!r} already holds results. Pass --resume to finish that run, or choose "
            "another --out folder; theorybench never overwrites computed results."
        )


def run_sweep(units: Sequence[Unit], work: WorkUnit, results: ResultsFile, executor: Executor, *,
              resume: bool = False, max_in_flight: int | None = None,
              progress: bool = True, allow_version_mix: bool = False,
              batching: Batching | None = None) -> SweepOutcome:
    """Run the units not yet in `results`, append each unit's rows as it completes, then canonicalise.

    Parameters
    ----------
    units : sequence of Unit
        From `plan_units`; their order is the canonical order of the file.
    work : callable
        The work unit (module docstring); picklable for process and dask executors.
    results : ResultsFile
        Where rows go.
    executor : concurrent.futures.Executor
        Any executor (`verify.executors.open_executor`).
    resume : bool
        Keep the complete units already in `results` and run only the others. Without it, a
        non-empty `results` is an error: computed results are never silently overwritten.
    max_in_flight : int or None
        Units (batches, with `batching`) submitted but not finished at any time (None: all at
        once). Bounding it keeps a serial executor writing unit by unit and a pool from queueing
        work it may never finish.
    progress : bool
        Show progress on stderr: a bar on a terminal, one line every 30 s otherwise
        (`theorybench.progress`).
    allow_version_mix : bool
        On resume, keep rows computed by another theorybench version instead of refusing them.
    batching : Batching or None
        Run the units in the batches of `plan_batches` through ``batching.work`` instead of one by
        one through `work` (which then serves no call).

    Returns
    -------
    SweepOutcome
    """
    if max_in_flight is not None and max_in_flight < 1:
        raise UserInputError(f"max_in_flight must be >= 1 or None, got {max_in_flight!r}.")
    with results.lock():
        return _sweep(units, work, results, executor, resume, max_in_flight, progress, allow_version_mix,
                      batching)


def _submit(executor: Executor, work: WorkUnit, batching: Batching | None, batch: tuple[Unit, ...]) -> Future:
    if batching is None:
        return executor.submit(execute_unit, work, batch[0])
    return executor.submit(execute_batch, batching.work, batch)


def _sweep(units: Sequence[Unit], work: WorkUnit, results: ResultsFile, executor: Executor, resume: bool,
           max_in_flight: int | None, progress: bool, allow_version_mix: bool,
           batching: Batching | None) -> SweepOutcome:
    check_writable(results, resume=resume)
    kept = _resumable_rows(results, units, allow_version_mix) if resume else []
    done = {unit_key(row) for row in kept}
    batches = plan_batches(units, batching) if batching is not None else [(unit,) for unit in units]
    todo = [batch for batch in batches if any(unit.key not in done for unit in batch)]
    limit = len(todo) if max_in_flight is None else max_in_flight
    new_rows: list[dict[str, Any]] = []
    failed: list[UnitKey] = []
    pending: dict[Future, tuple[Unit, ...]] = {}
    queue = iter(todo)
    computed = sum(unit.key not in done for batch in todo for unit in batch)
    with progress_meter(len(units), initial=len(units) - computed, unit="unit", desc="sweep",
                        enabled=progress) as bar:
        try:
            while True:
                for batch in queue:
                    try:
                        pending[_submit(executor, work, batching, batch)] = batch
                    except BrokenExecutor:
                        raise UserInputError(
                            "a worker process died (out of memory, or killed) and the pool cannot take "
                            f"more work; the rows of every finished unit are saved in {str(results.path)!r}. "
                            "Rerun with --resume, with fewer --workers if memory is short."
                        ) from None
                    if len(pending) >= limit:
                        break
                if not pending:
                    break
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    batch = pending.pop(future)
                    error = future.exception()
                    if error is not None and not isinstance(error, Exception):
                        raise error  # Ctrl-C (KeyboardInterrupt) or SIGTERM in a serial unit: stop
                    # A worker that died (out of memory, killed) fails its units, not the sweep.
                    if error is not None:
                        outcomes = [error_rows(unit, error) for unit in batch]
                    else:
                        outcomes = future.result() if batching is not None else [future.result()]
                    for unit, rows in zip(batch, outcomes):
                        if unit.key in done:  # kept from the resumed run: the same rows, not added twice
                            continue
                        if rows[0]["kind"] == "error":
                            failed.append(unit.key)
                        results.append_unit(rows)
                        new_rows.extend(rows)
                        bar.update(1)
        except BaseException:
            for future in pending:
                future.cancel()
            raise
    setting_order = list(dict.fromkeys(unit.setting for unit in units))
    rows = canonical_order(kept + new_rows, setting_order)
    results.write_canonical(rows, setting_order)
    return SweepOutcome(rows, computed, len(done), tuple(sorted(failed)))
