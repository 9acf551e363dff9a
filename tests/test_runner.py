"""The sweep runner and executors (verify.runner, verify.executors) with a tiny stand-in work unit.

The stand-in is a deterministic NumPy computation seeded only by ``config.seed``, so any difference
between two runs' files comes from the runner (order, seeding, storage), not from the work.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from theorybench.config import Config, DataConfig, config_hash
from theorybench.errors import UserInputError
from verify.executors import SerialExecutor, open_executor
from verify.runner import execute_unit, plan_units, run_sweep, unit_seed
from verify.storage import ResultsFile, decode_row

TESTS = Path(__file__).resolve().parent


def stand_in(config: Config, setting: str, replicate: int) -> list[dict]:
    """Three checkpoint rows and a final row from a seeded random walk; fails for setting 'boom'."""
    if setting == "boom":
        raise RuntimeError("the stand-in refuses setting boom")
    rng = np.random.default_rng(np.random.SeedSequence(config.seed))
    walk = np.cumsum(rng.standard_normal(4) * config.data.signal)
    rows = [{"setting": setting, "replicate": replicate, "step": step, "kind": "checkpoint",
             "value": walk[step], "seen_seed": config.seed} for step in range(3)]
    # a non-finite value, as real rows have (an infinite margin): stored as a strict-JSON string
    rows.append({"setting": setting, "replicate": replicate, "step": None, "kind": "final",
                 "value": np.float64(walk[3]), "count": np.int64(3), "margin": np.float64(np.inf)})
    return rows


def slow_stand_in(config: Config, setting: str, replicate: int) -> list[dict]:
    """The stand-in, slowed so that units complete in a scrambled order in a pool."""
    time.sleep(0.02 * ((7 * replicate + len(setting)) % 4))
    return stand_in(config, setting, replicate)


def settings(names=("weak", "strong", "mid")) -> list[tuple[str, Config]]:
    return [(name, Config(data=DataConfig(n=4, d=10, signal=float(i + 1)))) for i, name in enumerate(names)]


def sweep(path: Path, executor, work=stand_in, names=("weak", "strong", "mid"), seed=11, **kwargs):
    units = plan_units(settings(names), replicates=3, root_seed=seed)
    return run_sweep(units, work, ResultsFile(path), executor, progress=False, **kwargs)


def test_unit_seed_is_the_seed_sequence_spawn_key():
    expected = int(np.random.SeedSequence(11, spawn_key=(2, 1)).generate_state(1)[0])
    assert unit_seed(11, 2, 1) == expected
    units = plan_units(settings(), replicates=3, root_seed=11)
    assert [(u.setting, u.replicate) for u in units][:4] == [("weak", 0), ("weak", 1), ("weak", 2), ("strong", 0)]
    assert units[7].config.seed == expected and units[7].key == ("mid", 1)
    assert len({u.config.seed for u in units}) == len(units)


def test_plan_rejects_bad_input():
    with pytest.raises(UserInputError, match="replicates"):
        plan_units(settings(), replicates=0, root_seed=1)
    with pytest.raises(UserInputError, match="--seed"):
        plan_units(settings(), replicates=1, root_seed=-1)
    with pytest.raises(UserInputError, match="repeated: a"):
        plan_units(settings(("a", "a")), replicates=1, root_seed=1)


def test_rows_are_stamped_and_reproducible_from_their_config(tmp_path):
    outcome = sweep(tmp_path / "rows.jsonl", SerialExecutor())
    assert outcome.computed == 9 and outcome.reused == 0 and outcome.failed == ()
    assert len(outcome.rows) == 36
    first = outcome.rows[0]
    units = plan_units(settings(), replicates=3, root_seed=11)
    assert first["config_hash"] == config_hash(units[0].config)
    assert first["seed"] == first["seen_seed"] == units[0].config.seed
    assert first["unit_rows"] == 4 and isinstance(first["package_version"], str)
    # A row is reproducible alone: rerunning the work on the row's configuration gives its value.
    assert stand_in(units[0].config, "weak", 0)[0]["value"] == first["value"]
    assert outcome.rows[3]["margin"] == np.inf  # what the checks read is the float again
    stored = [decode_row(line) for line in (tmp_path / "rows.jsonl").read_text().splitlines()]
    assert stored == outcome.rows
    assert json.loads((tmp_path / "rows.jsonl").read_text().splitlines()[3],
                      parse_constant=lambda token: pytest.fail(f"non-standard JSON token {token}"))


def test_same_seed_gives_bit_identical_file_across_executors(tmp_path):
    sweep(tmp_path / "serial.jsonl", SerialExecutor())
    sweep(tmp_path / "serial2.jsonl", SerialExecutor())
    with open_executor("process", workers=2) as pool:
        sweep(tmp_path / "pool.jsonl", pool, work=slow_stand_in, max_in_flight=4)
    reference = (tmp_path / "serial.jsonl").read_bytes()
    assert (tmp_path / "serial2.jsonl").read_bytes() == reference
    assert (tmp_path / "pool.jsonl").read_bytes() == reference
    sweep(tmp_path / "other.jsonl", SerialExecutor(), seed=12)
    assert (tmp_path / "other.jsonl").read_bytes() != reference


def test_dask_local_cluster_gives_the_same_rows(tmp_path):
    distributed = pytest.importorskip("distributed")
    sweep(tmp_path / "serial.jsonl", SerialExecutor())
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        with open_executor("dask", scheduler=cluster.scheduler_address) as executor:
            sweep(tmp_path / "dask.jsonl", executor, work=slow_stand_in)
    assert (tmp_path / "dask.jsonl").read_bytes() == (tmp_path / "serial.jsonl").read_bytes()


def test_a_failing_unit_is_an_error_row_and_resume_retries_it(tmp_path, monkeypatch):
    path = tmp_path / "rows.jsonl"
    outcome = sweep(path, SerialExecutor(), names=("weak", "boom"))
    assert outcome.failed == (("boom", 0), ("boom", 1), ("boom", 2))
    errors = [row for row in outcome.rows if row["kind"] == "error"]
    assert len(errors) == 3 and errors[0]["error"] == "the stand-in refuses setting boom"
    assert errors[0]["error_type"] == "RuntimeError" and errors[0]["step"] is None
    assert len([row for row in outcome.rows if row["setting"] == "weak"]) == 12  # others kept
    resumed = sweep(path, SerialExecutor(), names=("weak", "boom"), resume=True)
    assert resumed.reused == 3 and resumed.computed == 3


def test_work_unit_breaking_the_contract_is_an_error_row():
    unit = plan_units(settings(("weak",)), replicates=1, root_seed=0)[0]

    def wrong_setting(config, setting, replicate):
        return [{"setting": "other", "replicate": replicate, "step": 0, "kind": "checkpoint"}]

    def not_serialisable(config, setting, replicate):
        return [{"setting": setting, "replicate": replicate, "step": None, "kind": "final", "x": object()}]

    (row,) = execute_unit(wrong_setting, unit)
    assert row["kind"] == "error" and "'other'" in row["error"]
    (row,) = execute_unit(not_serialisable, unit)
    assert row["kind"] == "error" and row["error_type"] == "TypeError"
    (row,) = execute_unit(lambda c, s, r: [], unit)
    assert row["kind"] == "error" and "non-empty list" in row["error"]


def test_existing_results_need_resume(tmp_path):
    path = tmp_path / "rows.jsonl"
    sweep(path, SerialExecutor())
    before = path.read_bytes()
    with pytest.raises(UserInputError, match="--resume"):
        sweep(path, SerialExecutor())
    with pytest.raises(UserInputError, match="another suite, seed"):
        sweep(path, SerialExecutor(), seed=12, resume=True)
    assert path.read_bytes() == before  # refused runs leave the results untouched
    again = sweep(path, SerialExecutor(), resume=True)
    assert again.computed == 0 and again.reused == 9 and path.read_bytes() == before


KILLED_RUN = """
import sys, time
sys.path.insert(0, {tests!r})
from test_runner import stand_in, sweep
from verify.executors import SerialExecutor

def slow(config, setting, replicate):
    time.sleep(0.15)
    return stand_in(config, setting, replicate)

sweep({path!r}, SerialExecutor(), work=slow, max_in_flight=1)
"""


def test_killed_run_resumes_to_the_uninterrupted_rows(tmp_path):
    reference = tmp_path / "reference.jsonl"
    sweep(reference, SerialExecutor())
    path = tmp_path / "rows.jsonl"
    script = KILLED_RUN.format(tests=str(TESTS), path=str(path))
    process = subprocess.Popen([sys.executable, "-c", script], cwd=TESTS.parent)
    deadline = time.monotonic() + 60  # generous: interpreter start-up on a loaded 2-core machine
    while time.monotonic() < deadline:
        if path.exists() and len(path.read_text().splitlines()) >= 8:  # two of nine units written
            break
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    with open(path, "a") as stream:  # a torn line, as a kill inside a write could leave
        stream.write('{"setting":"mid","rep')
    partial = len(ResultsFile(path).recover())
    assert 8 <= partial < 36
    outcome = sweep(path, SerialExecutor(), resume=True)
    assert outcome.reused == partial // 4 and outcome.computed == 9 - partial // 4
    assert path.read_bytes() == reference.read_bytes()


def test_open_executor_validates_its_arguments(monkeypatch):
    with pytest.raises(UserInputError, match="--executor must be one of"):
        with open_executor("threads"):
            pass
    with pytest.raises(UserInputError, match="--workers"):
        with open_executor("process", workers=0):
            pass
    with pytest.raises(UserInputError, match="only meaningful with --executor dask"):
        with open_executor("process", scheduler="tcp://localhost:8786"):
            pass
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if dask were not installed
    with pytest.raises(UserInputError, match=r"theorybench\[dask\]"):
        with open_executor("dask"):
            pass


def test_unreachable_scheduler_is_a_user_error():
    pytest.importorskip("distributed")
    with pytest.raises(UserInputError, match="cannot connect"):
        with open_executor("dask", scheduler="tcp://127.0.0.1:9", connect_timeout_s=1):
            pass


def test_serial_executor_stores_exceptions():
    future = SerialExecutor().submit(lambda: 1 / 0)
    assert isinstance(future.exception(), ZeroDivisionError)
    assert SerialExecutor().submit(pow, 2, 5).result() == 32


def test_environment_is_clean_of_worker_processes():
    # ProcessPoolExecutor workers are joined when open_executor's block exits.
    with open_executor("process", workers=1) as pool:
        pid = pool.submit(os.getpid).result()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def die(config: Config, setting: str, replicate: int) -> list[dict]:
    """A work unit whose worker process dies, as under the kernel's out-of-memory killer."""
    if setting == "mid":
        os.kill(os.getpid(), signal.SIGKILL)
    return stand_in(config, setting, replicate)


def test_dead_worker_fails_its_units_and_asks_for_resume(tmp_path):
    path = tmp_path / "rows.jsonl"
    with pytest.raises(UserInputError, match="worker process died"):
        with open_executor("process", workers=1) as pool:
            # One unit in flight: the units before 'mid' finish, 'mid' kills the pool.
            sweep(path, pool, work=die, max_in_flight=1)
    kept = ResultsFile(path).recover()
    assert {row["setting"] for row in kept if row["kind"] != "error"} == {"weak", "strong"}
    assert [row["error_type"] for row in kept if row["kind"] == "error"] == ["BrokenProcessPool"]
    outcome = sweep(path, SerialExecutor(), resume=True)
    assert outcome.computed == 3 and outcome.reused == 6


ORPHANING_RUN = """
import sys, time
sys.path.insert(0, {tests!r})
from verify.executors import open_executor
import test_runner

if __name__ == "__main__":
    with open_executor("process", workers=1) as pool:
        print(pool.submit(test_runner.worker_pid).result(), flush=True)
        time.sleep(60)
"""


def worker_pid() -> int:
    return os.getpid()


def test_pool_workers_exit_when_their_parent_is_killed(tmp_path):
    script = tmp_path / "orphaning.py"
    script.write_text(ORPHANING_RUN.format(tests=str(TESTS)))
    process = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                               cwd=TESTS.parent)
    worker = int(process.stdout.readline())
    process.send_signal(signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 10  # the watcher polls every PARENT_POLL_S = 1 s; 10 s allows a busy machine
    while time.monotonic() < deadline:
        try:
            os.kill(worker, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        os.kill(worker, signal.SIGKILL)  # clean up, then fail
        pytest.fail("the pool worker outlived its killed parent")
