"""A failing machine (issue 10): a damaged rows.jsonl, a full disk, SIGINT and SIGTERM.

Each test runs the real `theorybench report` pipeline (real work unit, serial executor) on a tiny
suite and compares with a clean run: a resumed run either ends byte-identical to it or refuses
with exit status 2, never keeping part of a unit. docs/failure.md states these guarantees.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import verify.measure
from theorybench import __version__
from theorybench.cli import main
from verify.storage import decode_row, encode_row, seal_unit

SUITE = """
replicates = 3

[base]
data.n = 6
data.d = 8
network.m = 2
training.max_steps = 3
training.checkpoints = 3
evaluation.test_points = 50

[[setting]]
name = "weak"
regime = "weak"

[[setting]]
name = "other"
regime = "weak"
data.signal = 1.0
"""


def report(suite: Path, out: Path, *extra: str) -> int:
    return main(["report", str(suite), "--out", str(out), "--executor", "serial", *extra])


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """The suite file and the rows.jsonl of an uninterrupted run."""
    folder = tmp_path_factory.mktemp("clean")
    suite = folder / "suite.toml"
    suite.write_text(SUITE)
    assert report(suite, folder / "out") == 0
    return suite, (folder / "out" / "rows.jsonl").read_bytes()


@pytest.fixture
def plain_analysis(monkeypatch):
    """An analysis with no sections: these tests are about rows.jsonl, and the real analysis and its
    figures take seconds per report."""
    import verify.analysis

    monkeypatch.setattr(verify.analysis, "analyse", lambda suite, rows: [])


def damaged_copy(tmp_path: Path, rows: bytes, index: int, replace) -> Path:
    """A results folder whose rows.jsonl is the clean one with line `index` replaced."""
    out = tmp_path / "out"
    out.mkdir()
    lines = rows.split(b"\n")
    lines[index] = replace(lines[index])
    (out / "rows.jsonl").write_bytes(b"\n".join(lines))
    return out


def edit(**changes):
    def apply(line: bytes) -> bytes:
        row = decode_row(line.decode())
        row.update(changes)
        return encode_row(row).rstrip("\n").encode()
    return apply


DAMAGE = {
    'replicate "x"': edit(replicate="x"),
    "replicate null": edit(replicate=None),
    'unit_rows "x"': edit(unit_rows="x"),
    "unit_rows null": edit(unit_rows=None),
    "unit_rows 4 -> 99": edit(unit_rows=99),
    "setting [1]": edit(setting=[1]),
    "an edited number": edit(log_loss=-0.5),
    "another setting's name": edit(setting="other"),
    "another package version": edit(package_version="0.0.1"),
    "invalid UTF-8": lambda line: b"\xff\xfe" + line[2:],
    "an array nested 100000 deep": lambda line: b"[" * 100_000 + b"]" * 100_000,
    "an emptied line": lambda line: b"",
    "a JSON string": lambda line: b'"row"',
}


@pytest.mark.parametrize("damage", DAMAGE)
@pytest.mark.parametrize("index", [0, 5])
def test_resume_over_a_damaged_line_recomputes_the_unit_exactly(tmp_path, capsys, clean, plain_analysis,
                                                                 damage, index):
    suite, rows = clean
    out = damaged_copy(tmp_path, rows, index, DAMAGE[damage])
    status = report(suite, out, "--resume")
    err = capsys.readouterr().err
    assert status == 0, err
    assert "Traceback" not in err
    assert (out / "rows.jsonl").read_bytes() == rows
    assert "were discarded; those units are recomputed" in err
    environment = json.loads((out / "environment.json").read_text())
    assert environment["units_computed"] == 1 or damage == "another setting's name"


def test_rows_of_another_version_are_refused_unless_allowed(tmp_path, capsys, clean, plain_analysis):
    """A unit sealed by another theorybench version (intact, not damaged): refused by default."""
    suite, rows = clean
    lines = [decode_row(line) for line in rows.decode().splitlines()]
    first = [row for row in lines if (row["setting"], row["replicate"]) == ("weak", 0)]
    older = seal_unit([{k: v for k, v in {**row, "package_version": "0.0.1"}.items()
                        if k not in ("unit_rows", "unit_sha256")} for row in first])
    out = tmp_path / "out"
    out.mkdir()
    rest = [row for row in lines if (row["setting"], row["replicate"]) != ("weak", 0)]
    (out / "rows.jsonl").write_text("".join(encode_row(row) for row in older + rest))
    status = report(suite, out, "--resume")
    message = " ".join(capsys.readouterr().err.split())
    assert status == 2
    assert f"rows computed by theorybench 0.0.1, but this is theorybench {__version__}" in message
    assert "--allow-version-mix" in message
    assert report(suite, out, "--resume", "--allow-version-mix") == 0
    kept = [decode_row(line) for line in (out / "rows.jsonl").read_text().splitlines()]
    assert sum(row["package_version"] == "0.0.1" for row in kept) == len(first)


def test_a_results_path_that_is_a_folder_is_refused(tmp_path, capsys, clean):
    suite, _ = clean
    (tmp_path / "out" / "rows.jsonl").mkdir(parents=True)
    for extra in ((), ("--resume",)):
        status = report(suite, tmp_path / "out", *extra)
        message = " ".join(capsys.readouterr().err.split())
        assert status == 2 and "exists but is not a regular file" in message


def test_a_file_of_foreign_lines_is_refused_and_kept(tmp_path, capsys, clean):
    suite, _ = clean
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "rows.jsonl").write_text("my notes\n")
    assert report(suite, tmp_path / "out", "--resume") == 2
    assert "holds no theorybench row" in " ".join(capsys.readouterr().err.split())
    assert (tmp_path / "out" / "rows.jsonl").read_text() == "my notes\n"


# ---------------------------------------------------------------------------------------------
# A full disk

@pytest.fixture
def small_disk(monkeypatch, tmp_path):
    """Writes through `os.write` to files under ``tmp_path/out`` see a disk with ``state["free"]``
    bytes left (None: unlimited): a write past it is cut short there, and the next one fails with
    ENOSPC, as on a real full file system. theorybench.safeio writes every result file this way."""
    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs /proc to tell which file a descriptor is")
    state = {"free": None}
    real_write = os.write
    root = str(tmp_path / "out")

    def write(descriptor, data):
        try:
            target = os.readlink(f"/proc/self/fd/{descriptor}")
        except OSError:
            target = ""
        if state["free"] is None or not target.startswith(root):
            return real_write(descriptor, data)
        if state["free"] == 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        count = min(len(data), state["free"])
        state["free"] -= count
        return real_write(descriptor, bytes(data[:count]))

    monkeypatch.setattr(os, "write", write)
    return state


def leftovers(folder: Path) -> list[str]:
    """Temporary or empty files left in `folder` (there must be none)."""
    return sorted(p.name for p in folder.rglob("*") if p.is_file() and (p.suffix == ".tmp" or p.stat().st_size == 0))


@pytest.mark.parametrize("free", [0, 1500, "rows"])
def test_a_full_disk_exits_2_and_resume_completes_once_space_is_back(tmp_path, capsys, clean, small_disk,
                                                                      plain_analysis, free):
    """free = 0: nothing fits; 1500: the disk fills during the sweep, mid-unit; "rows": the sweep
    and its canonical rewrite fit, environment.json and the report do not."""
    suite, rows = clean
    small_disk["free"] = 2 * len(rows) if free == "rows" else free
    status = report(suite, tmp_path / "out")
    message = " ".join(capsys.readouterr().err.split())
    assert status == 2
    assert "no space left on the device" in message and "--resume" in message
    out = tmp_path / "out"
    assert leftovers(out) == []
    written = out / "rows.jsonl"
    if written.exists():  # whole units only: every line is a row, every unit is complete
        lines = written.read_bytes().split(b"\n")
        assert lines[-1] == b""
        assert set(lines[:-1]) <= set(rows.split(b"\n"))
    assert not (out / "index.html").exists() and not (out / "environment.json").exists()
    small_disk["free"] = None
    assert report(suite, out, "--resume") == 0
    assert written.read_bytes() == rows
    assert (out / "index.html").is_file()


def test_simulate_on_a_full_disk_leaves_no_result_file(tmp_path, capsys, small_disk):
    config = tmp_path / "config.toml"
    config.write_text("[data]\nn = 6\nd = 8\n[network]\nm = 2\n[training]\nmax_steps = 3\ncheckpoints = 3\n"
                      "[evaluation]\ntest_points = 50\n")
    small_disk["free"] = 100
    status = main(["simulate", str(config), "--out", str(tmp_path / "out")])
    message = " ".join(capsys.readouterr().err.split())
    assert status == 2 and "no space left on the device" in message and "result.json" in message
    assert list((tmp_path / "out").iterdir()) == []
    small_disk["free"] = None
    assert main(["simulate", str(config), "--out", str(tmp_path / "out")]) == 0
    assert json.loads((tmp_path / "out" / "result.json").read_text())["seed"] == 0


# ---------------------------------------------------------------------------------------------
# Interrupts

@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_report_says_how_to_resume(tmp_path, capsys, clean, monkeypatch, plain_analysis,
                                                  signal_number):
    suite, _ = clean
    from verify.runner import Batching

    # Batches of one unit, so that an interrupt falls between units; the reference rows are those
    # of an uninterrupted run with the same batches (batch composition is part of the result).
    def batches_of_one(work):
        return Batching(work=work, key=verify.measure.batch_key, max_size_of=lambda key: 1)

    monkeypatch.setattr(verify.measure, "BATCHING", batches_of_one(verify.measure.measure_batch))
    assert report(suite, tmp_path / "reference") == 0
    rows = (tmp_path / "reference" / "rows.jsonl").read_bytes()
    calls = []

    def interrupted_on_the_third_unit(units):
        calls.append(units)
        if len(calls) == 3:
            if signal_number == signal.SIGINT:
                raise KeyboardInterrupt  # what Ctrl-C raises in the main thread
            os.kill(os.getpid(), signal.SIGTERM)  # theorybench.cli's handler raises from here
        return verify.measure.measure_batch(units)

    monkeypatch.setattr(verify.measure, "BATCHING", batches_of_one(interrupted_on_the_third_unit))
    status = report(suite, tmp_path / "out")
    message = " ".join(capsys.readouterr().err.split())
    assert status == 128 + signal_number
    assert f"interrupted by {signal.Signals(signal_number).name}" in message
    assert f"theorybench report {suite} --out {tmp_path / 'out'} --resume" in message
    kept = (tmp_path / "out" / "rows.jsonl").read_bytes()
    assert len(kept.splitlines()) == 2 * 4  # the two units finished before the interrupt
    monkeypatch.setattr(verify.measure, "BATCHING", batches_of_one(verify.measure.measure_batch))
    assert report(suite, tmp_path / "out", "--resume") == 0
    assert (tmp_path / "out" / "rows.jsonl").read_bytes() == rows


@pytest.mark.slow  # three cold starts of the command and a spawned worker: about 30 s on 2 cores
def test_sigterm_to_a_process_pool_run_leaves_no_worker(tmp_path, clean):
    """The real command in a subprocess with one pool worker: SIGTERM once the first unit is on
    disk; exit 143, no worker left alive, and --resume ends byte-identical to the clean run."""
    psutil = pytest.importorskip("psutil")
    suite, rows = clean
    slow_suite = tmp_path / "suite.toml"
    shutil.copy(suite, slow_suite)
    slow_suite.write_text(SUITE.replace("replicates = 3", "replicates = 40"))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "theorybench", "report", str(slow_suite), "--out", str(out),
               "--workers", "1"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    rows_file = out / "rows.jsonl"
    deadline = time.monotonic() + 240  # hang guard: a spawned worker starts in seconds
    while not (rows_file.exists() and rows_file.stat().st_size > 0):
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.05)
    children = psutil.Process(process.pid).children(recursive=True)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 143, err
    assert "interrupted by SIGTERM" in err and "--resume" in err and "Traceback" not in err
    gone, alive = psutil.wait_procs(children, timeout=10)
    assert alive == []
    resumed = subprocess.run(command + ["--resume", "--executor", "serial"], capture_output=True, text=True,
                             timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    clean_run = tmp_path / "clean"
    assert subprocess.run([*command[:6], str(clean_run), "--executor", "serial"], capture_output=True,
                          timeout=600).returncode == 0
    assert rows_file.read_bytes() == (clean_run / "rows.jsonl").read_bytes()
