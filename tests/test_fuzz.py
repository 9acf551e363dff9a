"""Fuzz of the command line (issue 10): hypothesis-generated hostile configurations, suites,
results files and arguments for `check`, `simulate`, `report`, `proptest` and ``--resume``.

The oracle is by construction: every generated bad input carries one defect that
theorybench.config / verify.suite must refuse (a value of the wrong type, out of its range, an
unknown key, nesting past the limit), so it must exit 2 with a one-paragraph message naming the
key; every generated valid input (theorybench.strategies, and valid extremes) must exit 0. No case
may raise out of `main` (a traceback) or exceed `CASE_BUDGET_S`. The default run draws a few
hundred cases (520); ``pytest -m slow`` draws four times as many (2080).
"""

from __future__ import annotations

import json
import math
import signal
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import verify.analysis
from theorybench.cli import main
from theorybench.config import MAX_COUNT, MAX_SEED, config_to_toml
from theorybench.strategies import configs
from verify.storage import decode_row, encode_row

# The acceptance's per-case budget (issue 10): a refusal takes milliseconds and the largest valid
# case (a report resumed over two units) well under a second on an idle core.
CASE_BUDGET_S = 10.0
HANG_S = 6 * CASE_BUDGET_S


def fuzz(examples: int):
    """Derandomised (the same cases every run), no hypothesis deadline (`CASE_BUDGET_S` is ours)."""
    return settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large])


# ---------------------------------------------------------------------------------------------
# TOML text of arbitrary values (tomli_w cannot write NaN keys, huge integers or deep nesting)

def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value == math.inf else
                                                 "-inf" if value == -math.inf else repr(value))
    if isinstance(value, str):
        # A JSON string is a TOML basic string, once DEL (which JSON leaves raw) is escaped and
        # characters outside the BMP are written raw (JSON's surrogate-pair escapes are not TOML).
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(value)


def nested(depth: int):
    value = 1
    for level in range(depth):
        value = [value] if level % 2 else {"a": value}
    return value


BASE = {"data": {"n": 6, "d": 8}, "network": {"m": 2},
        "training": {"max_steps": 3, "checkpoints": 3}, "evaluation": {"test_points": 50}}

junk = st.one_of(st.text(max_size=30), st.booleans(), st.lists(st.integers(), max_size=3),
                 st.dictionaries(st.sampled_from("abc"), st.integers(), max_size=2),
                 st.integers(min_value=10**309, max_value=10**400), st.builds(nested, st.integers(33, 60)))
non_finite = st.sampled_from([math.nan, math.inf, -math.inf])

# (section, key) -> a strategy of values that key must refuse
COUNT_MINIMUM = {("data", "n"): 2, ("data", "d"): 1, ("network", "m"): 1, ("training", "max_steps"): 1,
                 ("training", "checkpoints"): 2, ("evaluation", "test_points"): 1}
REAL_RANGES = {("data", "signal"): lambda v: v >= 0, ("data", "class_balance"): lambda v: 0 < v < 1,
               ("data", "label_flip"): lambda v: 0 <= v < 0.5, ("network", "gamma"): lambda v: 0 < v < 1,
               ("network", "init_scale"): lambda v: v >= 0, ("training", "step_size"): lambda v: v > 0,
               ("training", "divergence_log_margin"): lambda v: v > 0,
               ("evaluation", "confidence"): lambda v: 0 < v < 1}
CHOICES = {("data", "mean_direction"), ("training", "loss"), ("training", "implementation")}


def bad_values(section: str, key: str) -> st.SearchStrategy:
    if (section, key) in COUNT_MINIMUM:
        low = COUNT_MINIMUM[section, key]
        return st.one_of(junk, st.integers(max_value=low - 1), st.integers(min_value=MAX_COUNT + 1),
                         st.floats(allow_nan=True))
    if (section, key) in REAL_RANGES:
        inside = REAL_RANGES[section, key]
        return st.one_of(junk, non_finite, st.floats(allow_nan=False, allow_infinity=False).filter(
            lambda v: not inside(v)), st.integers(-10**6, 10**6).filter(lambda v: not inside(v)))
    return st.one_of(st.text(max_size=30).filter(lambda v: v not in ("e1", "ones", "exponential", "logistic",
                                                                    "gram", "weight")),
                     st.integers(), st.booleans(), st.builds(nested, st.integers(33, 60)))


BAD_KEYS = sorted(COUNT_MINIMUM) + sorted(REAL_RANGES) + sorted(CHOICES)


@st.composite
def hostile_configs(draw):
    """(TOML text, words the refusal must contain): one defect in the issue's base configuration."""
    values = json.loads(json.dumps(BASE))
    defect = draw(st.sampled_from(["value", "unknown key", "seed", "covariance", "nesting"]))
    if defect == "value":
        section, key = draw(st.sampled_from(BAD_KEYS))
        values[section][key] = draw(bad_values(section, key))
        words = [f"{section}.{key}"]
    elif defect == "unknown key":
        key = draw(st.text("abcdefghij_", min_size=1, max_size=12).filter(
            lambda k: k not in ("n", "d", "signal", "mean", "mean_direction", "class_balance", "label_flip")))
        values["data"][key] = 1
        words = [f"unknown key {key!r}"]
    elif defect == "seed":
        values["seed"] = draw(st.one_of(st.integers(max_value=-1), st.integers(min_value=MAX_SEED + 1,
                                                                             max_value=2**200), junk))
        words = ["seed"]
    elif defect == "covariance":
        size = 8
        entry = draw(st.one_of(st.booleans(), st.text(max_size=5), non_finite,
                               st.integers(min_value=10**309, max_value=10**330),
                               st.sampled_from([1e200, -1e200, 1e308, -1e308])))
        i, j = draw(st.integers(0, size - 1)), draw(st.integers(0, size - 1))
        rows = [[(entry if (a, b) in ((i, j), (j, i)) else float(a == b)) for b in range(size)]
                for a in range(size)]
        values["data"]["covariance"] = {"family": "user", "matrix": rows}
        words = ["data.covariance.matrix"]
    else:
        values["data"]["mean"] = nested(draw(st.integers(33, 200)))
        words = ["more than 32 levels"]
    text = "".join(f"{k} = {toml_value(v)}\n" for k, v in values.items() if not isinstance(v, dict))
    text += "".join(f"[{k}]\n" + "".join(f"{kk} = {toml_value(vv)}\n" for kk, vv in v.items())
                    for k, v in values.items() if isinstance(v, dict))
    return text, words


def run_cli(argv: list[str], capsys) -> tuple[int, str]:
    """main(argv) with its status (argparse's SystemExit counts as its code) and stderr."""
    def over_budget(signum, frame):
        raise TimeoutError(f"{argv} is still running after {HANG_S} s")

    previous = signal.signal(signal.SIGALRM, over_budget)
    signal.setitimer(signal.ITIMER_REAL, HANG_S)  # a hang fails the case instead of the whole run
    start = time.perf_counter()
    try:
        status = main(argv)
    except SystemExit as exit_:
        status = exit_.code
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    elapsed = time.perf_counter() - start
    err = capsys.readouterr().err
    assert elapsed < CASE_BUDGET_S, f"{argv} took {elapsed:.1f} s"
    assert "Traceback" not in err
    return status, " ".join(err.split())


def check_hostile_config(tmp_path: Path, capsys, case) -> None:
    text, words = case
    path = tmp_path / "hostile.toml"
    path.write_text(text)
    command = ["check", str(path)] if len(text) % 2 else ["simulate", str(path), "--out", str(tmp_path / "out")]
    status, message = run_cli(command, capsys)
    assert status == 2, (text, message)
    assert message.startswith(f"theorybench {command[0]}: error:")
    for word in words:
        assert word in message, (text, message)
    assert len(message) < 2500  # echoes are cut (errors.shown, cli.MAX_MESSAGE)


# ---------------------------------------------------------------------------------------------
# Valid configurations, including valid extremes, are accepted

# Up to 1e150: squared norms (||mu||^2, ||w||^2, the Gram matrix) must fit float64, or the sample
# is refused with a message asking to rescale (bounds/theorem_4_8.py), which is not "accepted".
extreme_reals = st.one_of(st.floats(1e-300, 1e150), st.just(0.0))


@st.composite
def valid_extremes(draw):
    values = json.loads(json.dumps(BASE))
    values["data"]["signal"] = draw(extreme_reals)
    values["network"]["init_scale"] = draw(extreme_reals)
    values["training"]["step_size"] = draw(st.floats(1e-300, 1e300))
    values["network"]["gamma"] = draw(st.floats(1e-300, 1 - 1e-16))
    scale = draw(st.sampled_from([None, 1e-150, 1e-50, 1.0, 1e50, 1e150]))
    if scale is not None:
        # scale * I, with one symmetric pair (or diagonal entry) tiny relative to the scale: still PSD
        i, j = draw(st.integers(0, 7)), draw(st.integers(0, 7))
        tiny = scale * draw(st.sampled_from([0.0, 1e-200, 5e-324]))
        rows = [[tiny if (a, b) in ((i, j), (j, i)) else scale * (a == b) for b in range(8)] for a in range(8)]
        values["data"]["covariance"] = {"family": "user", "matrix": rows}
    text = "".join(f"[{k}]\n" + "".join(f"{kk} = {toml_value(vv)}\n" for kk, vv in v.items())
                   for k, v in values.items())
    return text


def check_valid(tmp_path: Path, capsys, text: str, command: list[str]) -> None:
    path = tmp_path / "valid.toml"
    path.write_text(text)
    # check's default 200 draws of the configuration are the same code 2 draws run, 100 times over
    extra = ["--out", str(tmp_path / "out")] if command[0] == "simulate" else []
    status, message = run_cli([*command, str(path), *extra], capsys)
    assert status == 0, (text, message)
    assert "Warning" not in message


# ---------------------------------------------------------------------------------------------
# Suites

SUITE_BODY = {"base": {"data.n": 6, "data.d": 8, "network.m": 2, "training.max_steps": 3,
                       "training.checkpoints": 3, "evaluation.test_points": 50}}


@st.composite
def hostile_suites(draw):
    top: dict = {}
    setting = {"name": "weak", "regime": "weak"}
    verify_options: dict = {}
    defect = draw(st.sampled_from(["root_seed", "replicates", "verify", "setting", "sweep", "nesting"]))
    if defect == "root_seed":
        top["root_seed"] = draw(st.one_of(st.integers(max_value=-1), st.integers(min_value=MAX_SEED + 1,
                                                                               max_value=2**300), junk))
        words = ["root_seed"]
    elif defect == "replicates":
        top["replicates"] = draw(st.one_of(st.integers(max_value=0), st.integers(min_value=10**9,
                                                                               max_value=2**200), junk))
        words = ["replicates"]
    elif defect == "verify":
        key = draw(st.sampled_from(["band_ratio", "direction_tolerance", "agreement_tolerance",
                                    "family_confidence"]))
        verify_options[key] = draw(st.one_of(junk, non_finite, st.sampled_from([-1.0, -0.5, 1.0, 1e300]),
                                             st.integers(min_value=10**309, max_value=10**400)))
        if key == "band_ratio" and verify_options[key] == 1e300:
            verify_options[key] = 1.0
        words = [f"verify.{key}"]
    elif defect == "setting":
        key = draw(st.sampled_from(["name", "regime", "group", "notes"]))
        setting[key] = draw(st.one_of(st.integers(), st.booleans(), st.lists(st.integers(), max_size=2),
                                      st.just("") if key in ("name", "group") else st.just(7),
                                      st.text("[]=,", min_size=1, max_size=3) if key == "name" else st.just(7),
                                      st.text("xyz", min_size=1, max_size=5) if key == "regime" else st.just(7)))
        words = [key]
    elif defect == "sweep":
        setting["sweep"] = draw(st.one_of(
            st.just({"n": [1]}), st.just({"nosuchkey": [1, 2]}), st.just({"n": []}), st.just({"n": 5}),
            st.just({"gamma": [0.5, 2.0]}), st.just({"d": list(range(8, 19)), "n": list(range(2, 13)),
                                                    "m": list(range(2, 204, 2))})))  # 11 * 11 * 101 > 10^4
        words = ["setting"]
    else:
        top["extra"] = nested(draw(st.integers(33, 300)))
        words = ["more than 32 levels"]
    text = "".join(f"{k} = {toml_value(v)}\n" for k, v in top.items())
    if verify_options:
        text += "[verify]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in verify_options.items())
    text += "[base]\n" + "".join(f"{json.dumps(k)} = {toml_value(v)}\n" for k, v in SUITE_BODY["base"].items())
    text += "[[setting]]\n" + "".join(f"{json.dumps(k)} = {toml_value(v)}\n" for k, v in setting.items())
    return text, words


def check_hostile_suite(tmp_path: Path, capsys, case) -> None:
    text, words = case
    path = tmp_path / "suite.toml"
    path.write_text(text)
    out = tmp_path / "out"
    status, message = run_cli(["report", str(path), "--out", str(out), "--executor", "serial"], capsys)
    assert status == 2, (text, message)
    assert "suite.toml" in message or "suite 'suite'" in message, message
    for word in words:
        assert word in message, (text, message)
    assert not (out / "rows.jsonl").exists()


# ---------------------------------------------------------------------------------------------
# Results files: any single-line corruption, then --resume

RESUME_SUITE = "replicates = 2\n" + "[base]\n" + "".join(
    f"{json.dumps(k)} = {toml_value(v)}\n" for k, v in SUITE_BODY["base"].items()) + \
    '[[setting]]\nname = "weak"\nregime = "weak"\n[[setting]]\nname = "strong"\nregime = "strong"\ndata.signal = 5.0\n'


@pytest.fixture(scope="module")
def clean_rows(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz-clean")
    suite = folder / "suite.toml"
    suite.write_text(RESUME_SUITE)
    assert main(["report", str(suite), "--out", str(folder / "out"), "--executor", "serial"]) == 0
    return suite, (folder / "out" / "rows.jsonl").read_bytes()


json_values = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                                     st.text(max_size=10)),
                           lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                   st.dictionaries(st.text(max_size=5), inner, max_size=3)),
                           max_leaves=8)


@st.composite
def corruptions(draw, line_count: int):
    index = draw(st.integers(0, line_count))  # line_count: the text after the last newline
    kind = draw(st.sampled_from(["bytes", "json", "field", "empty", "truncate", "duplicate"]))
    if kind == "bytes":
        payload = draw(st.binary(max_size=40).filter(lambda b: b"\n" not in b))
        return index, lambda line, lines: payload
    if kind == "json":
        payload = json.dumps(draw(json_values)).encode()
        return index, lambda line, lines: payload
    if kind == "field":
        field = draw(st.sampled_from(["setting", "replicate", "step", "kind", "unit_rows", "unit_sha256",
                                      "config_hash", "seed", "package_version", "log_loss", "train_error"]))
        value = draw(json_values)

        def edit(line, lines):
            row = decode_row(line.decode()) if line else {}
            row[field] = value
            return encode_row(row).rstrip("\n").encode()
        return index, edit
    if kind == "empty":
        return index, lambda line, lines: b""
    if kind == "truncate":
        cut = draw(st.integers(0, 200))
        return index, lambda line, lines: line[:cut]
    other = draw(st.integers(0, line_count - 1))
    return index, lambda line, lines: lines[other]


def check_resume(tmp_path: Path, capsys, monkeypatch, clean, corruption) -> None:
    suite, rows = clean
    index, corrupt = corruption
    lines = rows.split(b"\n")
    changed = corrupt(lines[index], lines)
    lines[index] = changed
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    (out / "rows.jsonl").write_bytes(b"\n".join(lines))
    status, message = run_cli(["report", str(suite), "--out", str(out), "--executor", "serial", "--resume"],
                              capsys)
    # Exit 0 with the clean bytes, or a refusal (2): a corrupted unit is never half-kept.
    event(f"resume exit status {status}")
    assert status in (0, 2), message
    if status == 0:
        assert (out / "rows.jsonl").read_bytes() == rows, message
    else:
        assert message.startswith("theorybench report: error:")


# ---------------------------------------------------------------------------------------------
# Command-line arguments

@st.composite
def hostile_arguments(draw, config: str, out: str):
    command = draw(st.sampled_from(["check", "simulate", "proptest", "report"]))
    pieces = {
        "--seed": st.one_of(st.integers(max_value=-1).map(str), st.text(max_size=6), st.just("1e3")),
        "--max-memory": st.one_of(st.text(max_size=8), st.sampled_from(["0", "1K", "-4G", "1MiB", "nan"])),
        "--constant": st.one_of(st.text(max_size=10), st.sampled_from(["C_2=0", "C_2=-1", "C_2=nan", "nosuch=1"])),
        "--workers": st.one_of(st.integers(max_value=0).map(str), st.text(max_size=4)),
        "--profile": st.text(max_size=8),
        "--bound": st.text(max_size=8).map(lambda t: "zz-" + t),  # never a shipped bound's name
        "--module": st.sampled_from(["/nonexistent.py", "/dev/zero", "/", "no.such.module"]),
    }
    allowed = {"check": ["--seed", "--max-memory", "--constant"], "simulate": ["--seed", "--max-memory"],
               "report": ["--seed", "--max-memory", "--workers"],
               "proptest": ["--seed", "--profile", "--bound", "--module"]}[command]
    flag = draw(st.sampled_from(allowed))
    argv = [command, flag, draw(pieces[flag])]
    if command == "report":
        argv = [command, str(Path(config).with_name("suite.toml")), "--out", out, "--executor", "serial",
                flag, argv[2]]
    elif command == "proptest" and flag != "--bound":
        argv += ["--bound", "no-such-bound"]  # never a real (long) search
    elif command in ("check", "simulate"):
        argv.insert(1, config)
        if command == "simulate":
            argv += ["--out", out]
    return argv


def check_arguments(tmp_path: Path, capsys, argv: list[str]) -> None:
    status, message = run_cli(argv, capsys)
    # Some drawn values are valid (a --seed of "1e3" is refused, "-1" too; a --max-memory of 1MiB
    # is valid and refuses the run): every outcome is 0 or 2, never a traceback.
    event(f"{argv[0]} exit status {status}")
    assert status in (0, 2), (argv, message)
    if status == 2:
        assert "error" in message, (argv, message)


@pytest.fixture(scope="module", autouse=True)
def warm(tmp_path_factory):
    """One `check` and one `simulate` before any case is timed: the first call imports the theory
    layer (sympy statements, scipy), seconds that belong to no case."""
    folder = tmp_path_factory.mktemp("warm")
    config = folder / "config.toml"
    config.write_text("".join(f"[{k}]\n" + "".join(f"{kk} = {vv}\n" for kk, vv in v.items())
                              for k, v in BASE.items()))
    assert main(["check", str(config), "--sample"]) == 0
    assert main(["simulate", str(config), "--out", str(folder / "out")]) == 0


@pytest.fixture
def workspace(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "config.toml").write_text("".join(f"[{k}]\n" + "".join(f"{kk} = {vv}\n" for kk, vv in v.items())
                                                for k, v in BASE.items()))
    (folder / "suite.toml").write_text(RESUME_SUITE)
    return folder


@pytest.fixture
def quiet_analysis(monkeypatch):
    """The report without its analysis (sections and figures take seconds): the fuzz is about input."""
    monkeypatch.setattr(verify.analysis, "analyse", lambda suite, rows: [])


# ---------------------------------------------------------------------------------------------
# The tests: 200 + 60 + 60 + 60 + 60 + 80 = 520 cases by default, 4 times as many under -m slow

def _fuzz_tests(scale: int, mark=None):
    @fuzz(200 * scale)
    @given(case=hostile_configs())
    def hostile_config(tmp_path, capsys, case):
        check_hostile_config(tmp_path, capsys, case)

    @fuzz(60 * scale)
    @given(config=configs(), command=st.sampled_from([["check", "--draws", "2"], ["check", "--sample", "--draws", "2"], ["simulate"]]))
    def valid_config(tmp_path, capsys, config, command):
        check_valid(tmp_path, capsys, config_to_toml(config), command)

    @fuzz(60 * scale)
    @given(text=valid_extremes(), command=st.sampled_from([["check", "--draws", "2"], ["check", "--sample", "--draws", "2"], ["simulate"]]))
    def valid_extreme(tmp_path, capsys, text, command):
        check_valid(tmp_path, capsys, text, command)

    @fuzz(60 * scale)
    @given(case=hostile_suites())
    def hostile_suite(tmp_path, capsys, case):
        check_hostile_suite(tmp_path, capsys, case)

    @fuzz(60 * scale)
    @given(data=st.data())
    def resume(tmp_path, capsys, monkeypatch, clean_rows, quiet_analysis, data):
        lines = clean_rows[1].count(b"\n")
        check_resume(tmp_path, capsys, monkeypatch, clean_rows, data.draw(corruptions(lines)))

    @fuzz(80 * scale)
    @given(data=st.data())
    def arguments(workspace, quiet_analysis, capsys, data):
        argv = data.draw(hostile_arguments(str(workspace / "config.toml"), str(workspace / "out")))
        check_arguments(workspace, capsys, argv)
        out = workspace / "out"
        if out.exists():  # a valid report run: start the next case clean
            for path in sorted(out.rglob("*"), reverse=True):
                path.rmdir() if path.is_dir() else path.unlink()

    tests = {"hostile_config": hostile_config, "valid_config": valid_config, "valid_extreme": valid_extreme,
             "hostile_suite": hostile_suite, "resume": resume, "arguments": arguments}
    return {name: (mark(test) if mark else test) for name, test in tests.items()}


_default = _fuzz_tests(1)
_slow = _fuzz_tests(4, pytest.mark.slow)
test_hostile_configs_exit_2_naming_the_key = _default["hostile_config"]
test_valid_configs_are_accepted = _default["valid_config"]
test_valid_extremes_are_accepted = _default["valid_extreme"]
test_hostile_suites_exit_2_before_any_unit = _default["hostile_suite"]
test_resume_after_any_single_line_corruption = _default["resume"]
test_hostile_arguments_exit_0_or_2 = _default["arguments"]
test_slow_hostile_configs = _slow["hostile_config"]
test_slow_valid_configs = _slow["valid_config"]
test_slow_valid_extremes = _slow["valid_extreme"]
test_slow_hostile_suites = _slow["hostile_suite"]
test_slow_resume = _slow["resume"]
test_slow_hostile_arguments = _slow["arguments"]
