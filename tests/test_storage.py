"""The JSON Lines results file: atomic units, torn-line recovery, canonical order (verify.storage)."""

from __future__ import annotations

import json
import math
import os
import stat

import numpy as np
import pytest

from theorybench.errors import UserInputError
from verify.storage import ResultsFile, canonical_order, decode_row, encode_row, seal_unit, write_json


def unit(setting: str, replicate: int, steps: list[int | None]) -> list[dict]:
    return seal_unit([{"setting": setting, "replicate": replicate, "step": step,
                       "kind": "final" if step is None else "checkpoint", "value": 0.1 * (step or 7)}
                      for step in steps])


def test_encode_row_is_exact_and_canonical():
    value = 0.1 + 0.2  # not representable in short decimal: checks the shortest round trip
    row = {"b": np.float64(value), "a": np.int64(3), "c": np.array([1.5, -2.0]), "d": -math.inf}
    line = encode_row(row)
    assert line == '{"a":3,"b":0.30000000000000004,"c":[1.5,-2.0],"d":"-Infinity"}\n'
    back = decode_row(line)
    assert back["b"] == value and back["d"] == -math.inf


def strict_loads(line: str):
    """json.loads that refuses the NaN / Infinity tokens, as jq and RFC 8259 parsers do."""
    def refuse(token):
        raise ValueError(f"non-standard JSON token {token}")
    return json.loads(line, parse_constant=refuse)


def test_rows_are_strict_json_and_non_finite_values_round_trip(tmp_path):
    row, = seal_unit([{"setting": "NaN", "replicate": 0, "step": None, "kind": "final",
                       "margin": math.inf, "log_error": np.float64(-math.inf), "ratio": math.nan,
                       "values": [1.0, math.inf, np.float32(-np.inf)], "nested": {"x": -math.inf},
                       "reason": "Infinity", "error": "NaN"}])
    line = encode_row(row)
    parsed = strict_loads(line)  # no bare NaN / Infinity token anywhere
    assert parsed["margin"] == "Infinity" and parsed["log_error"] == "-Infinity" and parsed["ratio"] == "NaN"
    back = decode_row(line)
    assert back["margin"] == math.inf and back["log_error"] == -math.inf and math.isnan(back["ratio"])
    assert back["values"] == [1.0, math.inf, -math.inf] and back["nested"] == {"x": -math.inf}
    # free-text columns keep their text even when it spells a non-finite number
    assert back["setting"] == "NaN" and back["error"] == "NaN" and back["reason"] == "Infinity"
    assert encode_row(back) == line  # what a resumed run rewrites is byte for byte what it read
    results = ResultsFile(tmp_path / "rows.jsonl")
    results.append_unit([row])
    recovered = results.recover()
    assert recovered[0]["margin"] == math.inf and recovered[0]["log_error"] == -math.inf
    results.write_canonical(recovered, ["NaN"])
    assert results.path.read_text() == line
    # a file written before rows were strict JSON (bare Infinity token) still resumes
    (tmp_path / "old.jsonl").write_text(line.replace('"Infinity"', "Infinity", 1))
    assert ResultsFile(tmp_path / "old.jsonl").recover()[0]["margin"] == math.inf
    write_json(tmp_path / "environment.json", {"wall_time_s": math.inf})
    assert strict_loads((tmp_path / "environment.json").read_text()) == {"wall_time_s": "Infinity"}


def test_encode_row_refuses_unknown_objects():
    with pytest.raises(TypeError, match="object"):
        encode_row({"x": object()})


def test_append_and_recover_round_trip(tmp_path):
    results = ResultsFile(tmp_path / "sub" / "rows.jsonl")
    assert not results.has_rows()
    results.append_unit(unit("a", 0, [0, 1, None]))
    results.append_unit(unit("b", 0, [0, None]))
    assert results.has_rows()
    assert results.recover() == unit("a", 0, [0, 1, None]) + unit("b", 0, [0, None])


def test_torn_last_line_is_discarded_and_truncated(tmp_path):
    results = ResultsFile(tmp_path / "rows.jsonl")
    results.append_unit(unit("a", 0, [0, None]))
    intact = results.path.read_bytes()
    torn = encode_row(unit("b", 0, [0, None])[0])
    with open(results.path, "ab") as stream:
        stream.write(torn[: len(torn) // 2].encode())
    assert results.recover() == unit("a", 0, [0, None])
    assert results.path.read_bytes() == intact
    results.append_unit(unit("b", 0, [0, None]))  # appends after a clean line end
    assert results.recover() == unit("a", 0, [0, None]) + unit("b", 0, [0, None])


def test_unit_torn_at_a_line_end_is_discarded(tmp_path):
    results = ResultsFile(tmp_path / "rows.jsonl")
    results.append_unit(unit("a", 0, [0, None]))
    partial = unit("b", 0, [0, 1, None])[:2]  # 2 of its 3 rows reached the disk
    with open(results.path, "a") as stream:
        stream.write("".join(encode_row(row) for row in partial))
    assert results.recover() == unit("a", 0, [0, None])
    assert len(results.path.read_text().splitlines()) == 2


def test_a_corrupt_middle_line_is_dropped_and_its_unit_discarded(tmp_path):
    path = tmp_path / "rows.jsonl"
    a, b = unit("a", 0, [None]), unit("b", 0, [0, None])
    path.write_text(encode_row(a[0]) + "not json\n" + encode_row(b[0]) + encode_row(b[1]))
    results = ResultsFile(path)
    assert results.recover() == a + b
    assert results.recovery == (1, ())
    path.write_text(encode_row(a[0]) + encode_row(b[0]) + "not json\n")  # b lost a row to the damage
    assert results.recover() == a
    assert results.recovery == (1, (("b", 0),))
    assert path.read_text() == encode_row(a[0])


def test_a_file_without_any_sealed_row_is_refused(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"x": 1}\n')
    with pytest.raises(UserInputError, match="holds no theorybench row"):
        ResultsFile(path).recover()
    assert path.read_text() == '{"x": 1}\n'  # refused, not rewritten


def test_a_duplicated_unit_is_discarded_whole(tmp_path):
    results = ResultsFile(tmp_path / "rows.jsonl")
    results.append_unit(unit("a", 0, [0, None]))
    results.append_unit(unit("a", 0, [0, None]))
    results.append_unit(unit("b", 0, [None]))
    assert results.recover() == unit("b", 0, [None])
    assert results.recovery == (0, (("a", 0),))


def test_an_edited_row_breaks_its_unit_seal(tmp_path):
    results = ResultsFile(tmp_path / "rows.jsonl")
    rows = unit("a", 0, [0, 1, None])
    edited = [rows[0], {**rows[1], "value": 0.125}, rows[2]]
    results.append_unit(edited)
    results.append_unit(unit("b", 0, [None]))
    assert results.recover() == unit("b", 0, [None])
    assert results.recovery == (0, (("a", 0),))


def test_canonical_order_follows_suite_then_replicate_then_step():
    rows = unit("z", 1, [None, 3, 0]) + unit("a", 0, [1, None]) + unit("z", 0, [0])
    ordered = canonical_order(rows, ["z", "a"])
    assert [(r["setting"], r["replicate"], r["step"]) for r in ordered] == [
        ("z", 0, 0), ("z", 1, 0), ("z", 1, 3), ("z", 1, None), ("a", 0, 1), ("a", 0, None)]


def test_write_canonical_is_independent_of_input_order(tmp_path):
    rows = unit("z", 1, [0, None]) + unit("a", 0, [0, 1, None]) + unit("z", 0, [0, None])
    first, second = ResultsFile(tmp_path / "1.jsonl"), ResultsFile(tmp_path / "2.jsonl")
    first.write_canonical(rows, ["a", "z"])
    second.write_canonical(list(reversed(rows)), ["a", "z"])
    assert first.path.read_bytes() == second.path.read_bytes()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # no temporary left


def test_write_json_is_readable(tmp_path):
    write_json(tmp_path / "environment.json", {"seed": np.int64(5), "wall_time_s": 1.25})
    assert json.loads((tmp_path / "environment.json").read_text()) == {"seed": 5, "wall_time_s": 1.25}


def test_rewritten_file_has_ordinary_permissions(tmp_path):
    umask = os.umask(0)
    os.umask(umask)
    results = ResultsFile(tmp_path / "rows.jsonl")
    results.write_canonical(unit("a", 0, [None]), ["a"])
    assert stat.S_IMODE(results.path.stat().st_mode) == 0o666 & ~umask


def test_a_second_writer_is_refused(tmp_path):
    results = ResultsFile(tmp_path / "rows.jsonl")
    with results.lock():
        with pytest.raises(UserInputError, match="another theorybench run"):
            with ResultsFile(tmp_path / "rows.jsonl").lock():
                pass
    with results.lock():  # released on exit
        pass
    assert [p.name for p in tmp_path.iterdir()] == []  # no lock file left behind
