"""Sweeps in batches (verify.runner.Batching, plan_batches, execute_batch) with a stand-in batch work.

The stand-in's rows record the batch they were computed in (its size and first unit), so any
dependence of the batch composition on the executor, the worker count or a resume shows up as
different bytes in rows.jsonl.
"""

from __future__ import annotations

import pytest

from test_runner import settings, slow_stand_in, stand_in
from verify.executors import SerialExecutor, open_executor
from verify.runner import Batching, execute_batch, plan_batches, plan_units, run_sweep
from verify.storage import ResultsFile, decode_row


def batch_stand_in(units):
    """Each unit's stand-in rows, stamped with the composition of the batch that computed them."""
    first = f"{units[0][1]}/{units[0][2]}"
    return [[{**row, "batch_size": len(units), "batch_first": first} for row in stand_in(*unit)]
            for unit in units]


def slow_batch_stand_in(units):
    """The batch stand-in, slowed so that batches complete in a scrambled order in a pool."""
    for config, setting, replicate in units:
        slow_stand_in(config, setting, replicate)
    return batch_stand_in(units)


def by_signal(config):
    return "all" if config.data.signal < 3 else None  # 'mid' (signal 3) runs alone


BATCHING = Batching(work=batch_stand_in, key=by_signal, batches_per_key=2, min_size=2, max_size=4)


def sweep(path, executor, batching=BATCHING, names=("weak", "strong", "mid"), **kwargs):
    units = plan_units(settings(names), replicates=3, root_seed=11)
    return run_sweep(units, stand_in, ResultsFile(path), executor, progress=False, batching=batching, **kwargs)


def test_plan_is_a_function_of_the_units_alone():
    units = plan_units(settings(), replicates=3, root_seed=11)
    batches = plan_batches(units, BATCHING)
    # weak and strong share a key: 6 units, 2 batches of 3 (min_size 2 allows it, max_size 4
    # does not force more); each 'mid' unit alone.
    assert [[(u.setting, u.replicate) for u in batch] for batch in batches] == [
        [("weak", 0), ("weak", 1), ("weak", 2)], [("strong", 0), ("strong", 1), ("strong", 2)],
        [("mid", 0)], [("mid", 1)], [("mid", 2)]]
    assert plan_batches(units, BATCHING) == batches
    # A large group is split by max_size into batches whose sizes differ by at most one.
    many = plan_units(settings(tuple(f"s{i}" for i in range(2))), replicates=5, root_seed=1)
    sizes = [len(b) for b in plan_batches(many, Batching(batch_stand_in, lambda c: 0, 2, 2, 3))]
    assert sizes == [3, 3, 2, 2]
    # A per-key limit (verify.measure caps a batch's array size) overrides max_size.
    limited = Batching(batch_stand_in, lambda c: 0, 2, 2, 64, max_size_of=lambda key: 4)
    assert [len(b) for b in plan_batches(many, limited)] == [4, 3, 3]
    # A small group is never cut below min_size.
    assert [len(b) for b in plan_batches(many, Batching(batch_stand_in, lambda c: 0, 8, 4, 64))] == [4, 3, 3]


def test_batched_file_is_byte_identical_across_reruns_executors_and_workers(tmp_path):
    sweep(tmp_path / "serial.jsonl", SerialExecutor())
    sweep(tmp_path / "serial2.jsonl", SerialExecutor())
    slow = Batching(slow_batch_stand_in, by_signal, 2, 2, 4)
    with open_executor("process", workers=2) as pool:
        sweep(tmp_path / "pool.jsonl", pool, batching=slow, max_in_flight=2)
    reference = (tmp_path / "serial.jsonl").read_bytes()
    assert b'"batch_size":3' in reference  # the rows did come from batches
    assert (tmp_path / "serial2.jsonl").read_bytes() == reference
    assert (tmp_path / "pool.jsonl").read_bytes() == reference


def test_batched_dask_gives_the_same_rows(tmp_path):
    distributed = pytest.importorskip("distributed")
    sweep(tmp_path / "serial.jsonl", SerialExecutor())
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        with open_executor("dask", scheduler=cluster.scheduler_address) as executor:
            sweep(tmp_path / "dask.jsonl", executor)
    assert (tmp_path / "dask.jsonl").read_bytes() == (tmp_path / "serial.jsonl").read_bytes()


def test_resume_recomputes_whole_batches_and_adds_only_missing_units(tmp_path):
    reference = tmp_path / "reference.jsonl"
    sweep(reference, SerialExecutor())
    lines = reference.read_text().splitlines(keepends=True)
    # Keep only ('weak', 0) and ('mid', 1): the first batch misses two of its three units.
    kept = [line for line in lines if (decode_row(line)["setting"], decode_row(line)["replicate"])
            in (("weak", 0), ("mid", 1))]
    assert len(kept) == 8
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(kept))
    outcome = sweep(path, SerialExecutor(), resume=True)
    assert (outcome.reused, outcome.computed) == (2, 7)
    assert path.read_bytes() == reference.read_bytes()


def test_a_failing_unit_fails_alone_and_its_batch_mates_keep_their_rows(tmp_path):
    outcome = sweep(tmp_path / "rows.jsonl", SerialExecutor(), names=("weak", "boom", "mid"))
    assert outcome.failed == (("boom", 0), ("boom", 1), ("boom", 2))
    weak = [row for row in outcome.rows if row["setting"] == "weak"]
    assert len(weak) == 12 and all(row["kind"] != "error" for row in weak)
    # the weak units share their batch with no failing unit: computed as a batch of three
    assert {row["batch_size"] for row in weak} == {3}
    errors = [row for row in outcome.rows if row["kind"] == "error"]
    assert errors[0]["error"] == "the stand-in refuses setting boom"


def test_batch_work_breaking_the_contract_is_retried_unit_by_unit():
    units = plan_units(settings(("weak",)), replicates=2, root_seed=0)

    def one_list_short(batch):
        return batch_stand_in(batch)[:-1] if len(batch) > 1 else batch_stand_in(batch)

    first, second = execute_batch(one_list_short, units)
    assert first[0]["batch_size"] == 1 and second[0]["batch_size"] == 1

    def wrong_setting(batch):
        rows = batch_stand_in(batch)
        rows[1][0]["setting"] = "other"
        return rows

    good, bad = execute_batch(wrong_setting, units)
    assert good[0]["kind"] == "checkpoint" and good[0]["batch_size"] == 2
    assert bad == [bad[0]] and bad[0]["kind"] == "error" and "'other'" in bad[0]["error"]
