"""Hostile input (issue 10): every reproduction is refused with exit status 2 and a one-paragraph
message naming the key or file, before any large allocation; valid extremes run (exit 0) without
printing warnings the user cannot act on. docs/failure.md states these guarantees."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import textwrap
import warnings

import pytest

from theorybench import cli
from theorybench.cli import main
from theorybench.config import MAX_COUNT, load_config
from theorybench.guard import config_estimate, default_budget, format_bytes, parse_memory, suite_estimate
from theorybench.errors import UserInputError, shown

BASE = {"data": "n = 6\nd = 8\n", "network": "m = 2\n",
        "training": "max_steps = 3\ncheckpoints = 3\n", "evaluation": "test_points = 50\n"}


def config_text(**sections: str) -> str:
    """The issue's base configuration with whole sections replaced or added (``covariance`` is the
    [data.covariance] table)."""
    merged = {**BASE, **sections}
    covariance = merged.pop("covariance", None)
    text = "".join(f"[{name}]\n{body}" for name, body in merged.items())
    return text + (f"[data.covariance]\n{covariance}" if covariance is not None else "")


def matrix(entry) -> str:
    """A [data.covariance] table with an 8 x 8 user matrix, ``entry(i, j)`` giving each TOML entry."""
    rows = ", ".join("[" + ", ".join(entry(i, j) for j in range(8)) + "]" for i in range(8))
    return f'family = "user"\nmatrix = [{rows}]\n'


def refused(capsys, status: int, command: str) -> str:
    """The one-paragraph message of a refusal (exit 2, no traceback), line wrapping undone."""
    captured = capsys.readouterr()
    assert status == 2, captured.err
    assert "Traceback" not in captured.err
    message = captured.err.strip()
    assert message.startswith(f"theorybench {command}: error:")
    assert "\n\n" not in message
    return " ".join(message.split())


SIZE_CASES = {
    "d near 2^63": (config_text(data="n = 6\nd = 10000000000000000000\n"), "data.d"),
    "n = 2^63 - 1": (config_text(data="n = 9223372036854775807\nd = 8\n"), "data.n"),
    "m near 2^63": (config_text(network="m = 9223372036854775806\n"), "network.m"),
    "n = 2, d = 4e9": (config_text(data="n = 2\nd = 4000000000\n"), "data.d"),
    "n = 40, d = 1e9": (config_text(data="n = 40\nd = 1000000000\n"), "data.d"),
    "spiked, d = 1e10": (config_text(data="n = 6\nd = 10000000000\n", covariance='family = "spiked"\n'),
                         "data.d"),
}

COVARIANCE_CASES = {
    "1e-308 I": (matrix(lambda i, j: "1e-308" if i == j else "0"), "largest |entry| 1e-308"),
    "every entry 1e308": (matrix(lambda i, j: "1e308"), "largest |entry| 1e+308"),
    "an entry 10^400": (matrix(lambda i, j: "1" + "0" * 400 if i == j == 0 else ("1" if i == j else "0")),
                        "matrix[0][0] = an integer of about 400 digits"),
    "a matrix of true": (matrix(lambda i, j: "true"), "matrix[0][0] = True is not allowed"),
}


@pytest.mark.parametrize("command", ["check", "simulate"])
@pytest.mark.parametrize("case", SIZE_CASES)
def test_sizes_are_refused_before_allocation(tmp_path, capsys, command, case):
    text, key = SIZE_CASES[case]
    path = tmp_path / "config.toml"
    path.write_text(text)
    extra = ["--out", str(tmp_path / "out")] if command == "simulate" else []
    message = refused(capsys, main([command, str(path), *extra]), command)
    assert key in message
    assert not (tmp_path / "out" / "result.json").exists()


def test_size_refusals_stay_under_one_gib(tmp_path):
    """The acceptance's 1 GiB: every size case of `check` and `simulate` in one fresh process, whose
    peak resident memory is then read from the kernel (ru_maxrss, KiB on Linux)."""
    paths = []
    for index, (text, _) in enumerate(SIZE_CASES.values()):
        path = tmp_path / f"c{index}.toml"
        path.write_text(text)
        paths.append(str(path))
    script = textwrap.dedent(f"""
        import resource, sys
        from theorybench.cli import main
        statuses = [main([command, path] + (["--out", {str(tmp_path / 'out')!r}] if command == "simulate" else []))
                    for path in {paths!r} for command in ("check", "simulate")]
        print(statuses, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    """)
    # 300 s: a hang guard on a loaded 2-core machine (the refusals take well under a second each)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    statuses, peak_kib = done.stdout.rsplit("]", 1)
    assert json.loads(statuses + "]") == [2] * (2 * len(paths)), done.stderr
    assert int(peak_kib) < 2**20, f"peak resident memory {int(peak_kib) / 2**10:.0f} MiB"


@pytest.mark.parametrize("command", ["check", "simulate"])
@pytest.mark.parametrize("case", COVARIANCE_CASES)
def test_extreme_user_covariances_are_refused(tmp_path, capsys, command, case):
    covariance, words = COVARIANCE_CASES[case]
    path = tmp_path / "config.toml"
    path.write_text(config_text(covariance=covariance))
    extra = ["--out", str(tmp_path / "out")] if command == "simulate" else []
    message = refused(capsys, main([command, str(path), *extra]), command)
    assert "data.covariance.matrix" in message and words in message


@pytest.mark.parametrize("scale", ["1e-150", "1e150"])
@pytest.mark.parametrize("command", [["check"], ["check", "--sample", "--json"], ["simulate"]])
def test_the_extreme_accepted_covariance_scales_run_without_warnings(tmp_path, capsys, command, scale):
    """Sigma = scale * I at both ends of the accepted range: exit 0, and nothing on stderr but the
    progress output (no RuntimeWarning, no traceback)."""
    path = tmp_path / "config.toml"
    path.write_text(config_text(covariance=matrix(lambda i, j: scale if i == j else "0")))
    extra = ["--out", str(tmp_path / "out")] if command == ["simulate"] else []
    assert main([*command, str(path), *extra]) == 0
    err = capsys.readouterr().err
    assert "Warning" not in err and "Traceback" not in err


def test_a_huge_string_value_is_cut_in_the_message(tmp_path, capsys):
    path = tmp_path / "config.toml"
    path.write_text(config_text(network='m = 2\ngamma = "' + "x" * 1_000_000 + '"\n'))
    message = refused(capsys, main(["check", str(path)]), "check")
    assert "network.gamma" in message and "(1000002 characters)" in message
    assert len(message) < 400


def test_dev_zero_is_refused_without_reading_it_all(capsys):
    message = refused(capsys, main(["check", "/dev/zero"]), "check")
    assert "'/dev/zero'" in message and "larger than 16 MiB" in message


def test_a_file_that_is_not_utf8_names_the_byte(tmp_path, capsys):
    path = tmp_path / "config.toml"
    path.write_bytes(b"[data]\nn = 6\n# \xff\n")
    message = refused(capsys, main(["check", str(path)]), "check")
    assert "not UTF-8" in message and "byte 15" in message


SUITE_CASES = {
    "band_ratio = 1 and 400 zeros": ("[verify]\nband_ratio = 1" + "0" * 400 + "\n", "verify.band_ratio"),
    "root_seed = 1 and 5000 zeros": ("root_seed = 1" + "0" * 5000 + "\n", "more than 4300 digits"),
    "5000 nested [": ("x = " + "[" * 5000 + "]" * 5000 + "\n", "more than 32 levels"),
    "900-deep inline table": ("x = " + "{a = " * 900 + "1" + "}" * 900 + "\n", "more than 32 levels"),
    "replicates = 1e9": ("replicates = 1000000000\n", "result rows"),
    "a 20^4-point sweep": (None, "160000 points"),  # the sweep table is added to the setting
}

SUITE_BODY = """
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
"""


@pytest.mark.parametrize("case", SUITE_CASES)
def test_hostile_suites_are_refused(tmp_path, capsys, case):
    head, words = SUITE_CASES[case]
    body = SUITE_BODY
    if head is None:
        head = ""
        values = ", ".join(str(v) for v in range(2, 22))
        body += f"sweep = {{ n = [{values}], d = [{values}], m = [{values}], test_points = [{values}] }}\n"
    path = tmp_path / "suite.toml"
    path.write_text(head + body)
    message = refused(capsys, main(["report", str(path), "--out", str(tmp_path / "out"),
                                    "--executor", "serial"]), "report")
    assert words in message
    assert "suite.toml" in message or "suite 'suite'" in message
    assert not (tmp_path / "out" / "rows.jsonl").exists()


def test_a_report_whose_checkpoints_skip_step_one_is_written(tmp_path, capsys):
    """Issue 10 item 4: training.checkpoints = 2 with max_steps = 3 has no step-1 checkpoint, and
    verify/checks.py raised KeyError 'step1_actual_correct' after the sweep."""
    path = tmp_path / "suite.toml"
    path.write_text(SUITE_BODY.replace("training.checkpoints = 3", "training.checkpoints = 2"))
    status = main(["report", str(path), "--out", str(tmp_path / "out"), "--executor", "serial"])
    err = capsys.readouterr().err
    assert status == 0, err
    assert (tmp_path / "out" / "index.html").is_file() and (tmp_path / "out" / "report.md").is_file()
    rows = [json.loads(line) for line in (tmp_path / "out" / "rows.jsonl").read_text().splitlines()]
    assert {row["step"] for row in rows if row["kind"] == "checkpoint"} == {0, 3}


# ---------------------------------------------------------------------------------------------
# The resource guard

def test_memory_sizes_parse_in_binary_units():
    assert parse_memory("4GiB") == 4 * 2**30
    assert parse_memory("512M") == 512 * 2**20
    assert parse_memory("1.5g") == 3 * 2**29
    assert parse_memory("1048576") == 2**20
    for bad in ("", "lots", "-1G", "0", "1K", "nan", "1e9", "4 GB x"):
        with pytest.raises(UserInputError, match="--max-memory"):
            parse_memory(bad)


def test_the_estimate_counts_the_arrays_of_each_size():
    """The terms grow with the keys they name: n d for the training set, m d for the weights, d^2
    for a user covariance (linear in each size, so doubling one doubles its term exactly)."""
    config = load_config(None)
    doubled_d = config.replace(data=config.data.__class__(n=config.data.n, d=2 * config.data.d))
    terms = dict(config_estimate(config, sample=True).terms)
    doubled = dict(config_estimate(doubled_d, sample=True).terms)
    assert doubled["the training set (data.n x data.d)"] == 2 * terms["the training set (data.n x data.d)"]
    assert doubled["the weights (network.m x data.d)"] == 2 * terms["the weights (network.m x data.d)"]
    assert "the training set (data.n x data.d)" not in dict(config_estimate(config, sample=False).terms)
    rows = dict(suite_estimate([config], 10, 2).terms)
    assert rows[f"{10 * 21} result rows (replicates x settings x (training.checkpoints + 1))"] == 210 * 16 * 2**10


def test_max_memory_refuses_what_fits_the_default_budget(tmp_path, capsys):
    path = tmp_path / "config.toml"
    path.write_text(config_text())
    assert config_estimate(load_config(path), sample=False).total < default_budget()
    message = refused(capsys, main(["check", str(path), "--max-memory", "1MiB", "--sample"]), "check")
    assert "over the budget of 1 MiB (--max-memory)" in message
    assert main(["check", str(path), "--max-memory", "1GiB"]) == 0


def test_the_default_budget_follows_the_address_space_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (2**40, hard))
    try:
        assert default_budget() <= 2**39
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    assert format_bytes(3 * 2**29) == "1.5 GiB"


def test_counts_are_capped_where_float64_stops_being_exact(tmp_path, capsys):
    path = tmp_path / "config.toml"
    path.write_text(config_text(evaluation=f"test_points = {MAX_COUNT + 1}\n"))
    message = refused(capsys, main(["check", str(path)]), "check")
    assert "evaluation.test_points" in message and str(MAX_COUNT) in message


# ---------------------------------------------------------------------------------------------
# Messages and warnings

def test_shown_cuts_long_values_and_describes_long_integers():
    assert shown("abc") == "'abc'"
    assert shown("x" * 1000).endswith("... (1002 characters)") and len(shown("x" * 1000)) < 90
    assert shown(10**5000) == "an integer of about 5000 digits"
    assert shown([10**5000]).startswith("a list holding")


def test_runtime_warnings_are_silenced_and_others_are_one_line(monkeypatch, capsys):
    import numpy as np

    from theorybench.commands import check

    def noisy(args):
        np.exp(np.array([1e6]))  # an overflow RuntimeWarning, handled by design in the real code
        warnings.warn("the sampler is slow;\n  consider a smaller d", UserWarning)
        return 0

    monkeypatch.setattr(check, "run", noisy)
    assert main(["check"]) == 0
    err = capsys.readouterr().err
    assert "RuntimeWarning" not in err and "overflow" not in err
    assert err == "theorybench check: warning: the sampler is slow; consider a smaller d\n"


def test_sigterm_handler_is_restored_after_main(monkeypatch):
    import signal

    from theorybench.commands import check

    monkeypatch.setattr(check, "run", lambda args: 0)
    before = signal.getsignal(signal.SIGTERM)
    assert main(["check"]) == 0
    assert signal.getsignal(signal.SIGTERM) is before
    assert cli.MAX_MESSAGE >= 1000


# ---------------------------------------------------------------------------------------------
# proptest: the user's own module

def test_an_exception_inside_a_user_bound_is_a_contract_error(tmp_path, capsys):
    module = tmp_path / "raising_bound.py"
    module.write_text(textwrap.dedent("""
        from bounds.catalogue import DeclaredBound


        def broken(instance):
            return 1.0 / 0.0


        BOUNDS = [DeclaredBound(name="broken", kind="upper", provenance="PRIOR", section="§2.4",
                                quantity="log_error_of_direction", statement="divides by zero",
                                value=broken)]
    """))
    status = main(["proptest", "--module", str(module)])
    captured = capsys.readouterr()
    assert status == 2
    assert "theorybench proptest: error: bound 'broken': value(instance) raised ZeroDivisionError" \
        in " ".join(captured.err.split())
    # the user's traceback, verbatim, pointing at their line
    assert f'File "{module}", line 6, in broken' in captured.err
    assert "FAIL" not in captured.out


def test_memory_exhaustion_past_the_guard_is_one_paragraph(tmp_path, capsys, monkeypatch):
    """A budget raised above what the machine has lets an allocation fail: still exit 2, no
    traceback (numpy raises MemoryError, as in the issue's `check` with n = 2, d = 4e9)."""
    from theorybench.commands import check

    def exhausted(args):
        raise MemoryError("Unable to allocate 29.8 GiB for an array with shape (4000000000,)")

    monkeypatch.setattr(check, "run", exhausted)
    message = refused(capsys, main(["check"]), "check")
    assert "ran out of memory" in message and "data.d" in message and "--max-memory" in message
