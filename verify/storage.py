"""The results file of a sweep: JSON Lines, one tidy row per line, safe to interrupt and resume.

A sweep is made of *units*, one per (setting, replicate). Every row of a unit is appended to the
file in one ``write`` followed by ``flush`` and ``os.fsync``, so that after a crash the file holds
whole units, plus at most one torn unit at its end. Each row carries ``unit_rows``, the number of
rows its unit produced, so a torn unit is recognised even when it broke exactly at a line end:
on resume (`ResultsFile.recover`) the torn last line and every incomplete unit are discarded, and
the set of completed units tells the runner which units are still to do.

When the sweep is complete the file is rewritten in a canonical order (the suite's setting order,
then replicate, then step, whole-run rows with ``step = null`` after the checkpoints) through a
temporary file and ``os.replace``, so reruns with the same seed give a bit-identical file whatever
order the units completed in. Rows hold no wall times and no host names: those go to
``environment.json`` (`write_json`).

Row contract (shared with `verify.measure` and `verify.runner`): every row is a JSON object with at
least ``setting`` (str), ``replicate`` (int >= 0), ``step`` (int >= 0 or null), ``kind``
(``"checkpoint"``, ``"final"`` or ``"error"``), and the seal added by `seal_unit`: ``unit_rows``
(int, the number of rows of its unit) and ``unit_sha256`` (the SHA-256 of the unit's rows without
this field, `unit_checksum`). On resume every line is checked against this schema and every unit
against its seal: a damaged line (not UTF-8, not JSON, nested too deep, a field of the wrong type)
is dropped, and a unit with a missing, extra or altered row is discarded whole and recomputed, so a
resumed file is never half-kept (docs/failure.md).

Every line is strict JSON (RFC 8259), readable by ``jq`` and any JSON parser: a non-finite float
(an infinite margin, a log-probability of ``-inf``) is written as the string ``"Infinity"``,
``"-Infinity"`` or ``"NaN"``, and `decode_row` turns exactly these strings back into the floats
(except in free-text columns such as ``setting`` and ``error``), so a resumed run reads what it wrote.
"""

from __future__ import annotations

import contextlib
import fcntl  # POSIX: theorybench runs on Linux and macOS
import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from theorybench.errors import UserInputError
from theorybench.jsonio import NON_FINITE, strict_json_value
from theorybench.safeio import append_durably, atomic_write_text

__all__ = ["ResultsFile", "atomic_write_text", "canonical_order", "decode_row", "encode_row",
           "row_problem", "seal_unit", "unit_checksum", "unit_key", "write_json"]

UnitKey = tuple[str, int]


def _to_builtin(value: Any) -> Any:
    """`json.dumps` hook: NumPy scalars and arrays become the equal Python numbers and lists."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"a value of type {type(value).__name__} cannot be stored in a results row")


# Columns holding free text (a setting name, an exception message, a reason), never decoded as
# numbers: these and every column whose name ends in "reason" or "refusal".
TEXT_COLUMNS = frozenset({"setting", "kind", "error", "error_type", "stop_reason", "bound_best"})


def _is_text(column: str) -> bool:
    return column in TEXT_COLUMNS or column.endswith(("reason", "refusal"))


def _restore(value: Any) -> Any:
    """Inverse of `strict_json_value` on parsed JSON: the strings of `NON_FINITE` become floats again."""
    if isinstance(value, str):
        return NON_FINITE.get(value, value)
    if isinstance(value, list):
        return [_restore(item) for item in value]
    if isinstance(value, dict):
        return {key: _restore(item) for key, item in value.items()}
    return value


def encode_row(row: dict[str, Any]) -> str:
    """One row as a canonical strict-JSON line (sorted keys, no spaces, floats by shortest round trip).

    Python's float ``repr`` is the shortest string that reads back to the same float64, so the
    encoding is exact and deterministic: equal rows give equal bytes. Non-finite floats become the
    strings of `NON_FINITE` (strict JSON has no NaN or Infinity); `decode_row` reads them back.
    """
    return json.dumps(strict_json_value(row), sort_keys=True, separators=(",", ":"), default=_to_builtin,
                      allow_nan=False) + "\n"


def decode_row(line: str) -> Any:
    """A row from its JSON line (`encode_row`'s inverse): ``"Infinity"``, ``"-Infinity"`` and
    ``"NaN"`` become floats again, except in the free-text columns (`TEXT_COLUMNS`, ``*reason``,
    ``*refusal``).

    Raises `json.JSONDecodeError` for a line that is not JSON. A value that is not an object is
    returned as parsed (the caller rejects it).
    """
    row = json.loads(line)
    if not isinstance(row, dict):
        return row
    return {key: value if _is_text(key) else _restore(value) for key, value in row.items()}


ROW_KINDS = ("checkpoint", "final", "error")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _count(value: Any, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def row_problem(row: Any) -> str | None:
    """Why `row` breaks the row contract (module docstring), or None when it keeps it."""
    if not isinstance(row, dict):
        return f"a JSON {type(row).__name__}, not an object"
    checks = (
        ("setting", lambda v: isinstance(v, str) and v != "", "a non-empty string"),
        ("replicate", lambda v: _count(v, 0), "an integer >= 0"),
        ("step", lambda v: v is None or _count(v, 0), "an integer >= 0 or null"),
        ("kind", lambda v: v in ROW_KINDS, f"one of {', '.join(ROW_KINDS)}"),
        ("unit_rows", lambda v: _count(v, 1), "an integer >= 1"),
        ("unit_sha256", lambda v: isinstance(v, str) and _SHA256.match(v) is not None, "64 hex digits"),
    )
    for name, ok, allowed in checks:
        if name not in row:
            return f"no {name!r}"
        if not ok(row[name]):
            return f"{name!r} is not {allowed}"
    return None


def unit_checksum(rows: Iterable[dict[str, Any]]) -> str:
    """SHA-256 of a unit's rows without their ``unit_sha256`` field: the sorted `encode_row` lines,
    so that the checksum does not depend on the order the rows are stored in."""
    lines = sorted(encode_row({k: v for k, v in row.items() if k != "unit_sha256"}) for row in rows)
    return hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()


def seal_unit(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of one unit with ``unit_rows`` and ``unit_sha256`` added (the last step before
    storage: any later change to a row breaks the seal)."""
    counted = [{**row, "unit_rows": len(rows)} for row in rows]
    checksum = unit_checksum(counted)
    return [{**row, "unit_sha256": checksum} for row in counted]


def unit_key(row: dict[str, Any]) -> UnitKey:
    """The (setting, replicate) unit a row belongs to."""
    return (row["setting"], int(row["replicate"]))


def canonical_order(rows: Iterable[dict[str, Any]], setting_order: Sequence[str]) -> list[dict[str, Any]]:
    """Rows sorted by (setting position in the suite, replicate, step), whole-run rows last.

    The sort is stable, so rows of one unit with equal steps keep the order the work unit gave them.
    Settings absent from `setting_order` are a caller error (a results file from another suite).
    """
    position = {name: index for index, name in enumerate(setting_order)}

    def key(row: dict[str, Any]) -> tuple[int, int, bool, int]:
        step = row.get("step")
        return (position[row["setting"]], int(row["replicate"]), step is None, 0 if step is None else int(step))

    return sorted(rows, key=key)


def write_json(path: Path, value: Any) -> None:
    """Write `value` as indented strict JSON (non-finite floats as strings), atomically (used for
    ``environment.json``)."""
    atomic_write_text(Path(path), json.dumps(strict_json_value(value), indent=2, sort_keys=True, default=_to_builtin,
                                             allow_nan=False) + "\n")


class ResultsFile:
    """A JSON Lines results file at `path` (created with its folder on the first append).

    Parameters
    ----------
    path : str or Path
        Location of ``rows.jsonl``.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.recovery: tuple[int, tuple[UnitKey, ...]] = (0, ())

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold an exclusive lock on the file's folder for the block.

        Two runs appending to one file would interleave their units; the second one is refused at
        once (`UserInputError`) instead. POSIX ``flock`` on the folder itself, so no lock file is
        left behind, and the kernel releases the lock if the holder dies.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path.parent, os.O_RDONLY)
        try:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise UserInputError(
                    f"another theorybench run is writing into {str(self.path.parent)!r}; wait for it to "
                    "finish or choose another --out folder."
                ) from None
            yield
        finally:
            os.close(descriptor)  # closing the last descriptor releases the lock

    def has_rows(self) -> bool:
        """True when the file exists and is not empty (a run would overwrite computed results).

        A path that exists but is not a regular file (a folder, a device) is refused.
        """
        if self.path.exists() and not self.path.is_file():
            raise UserInputError(f"results path {str(self.path)!r} exists but is not a regular file; "
                                 "remove it or choose another --out folder.")
        return self.path.is_file() and self.path.stat().st_size > 0

    def _parse(self) -> tuple[list[dict[str, Any]], int, bool]:
        """The lines that are rows (`row_problem` is None), the number of damaged lines, and whether
        the text after the last newline (a torn line) was dropped."""
        if not self.has_rows():
            return [], 0, False
        try:
            data = self.path.read_bytes()
        except OSError as error:
            raise UserInputError(f"results file {str(self.path)!r} cannot be read "
                                 f"({error.strerror or error}).") from None
        lines = data.split(b"\n")
        # The bytes after the final newline are empty for an intact file and a torn line otherwise.
        torn = lines[-1] != b""
        rows, damaged = [], 0
        for line in lines[:-1]:
            try:
                row = decode_row(line.decode("utf-8"))
            except (UnicodeDecodeError, ValueError, RecursionError):
                # not UTF-8, not JSON, or nested deeper than the parser's recursion limit
                damaged += 1
                continue
            if row_problem(row) is not None:
                damaged += 1
                continue
            rows.append(row)
        if damaged and not rows:
            raise UserInputError(
                f"results file {str(self.path)!r} holds no theorybench row (none of its {damaged} "
                "line(s) is a sealed row of this version's format); it was not written by theorybench "
                "report, or by an older version. Choose another --out folder."
            )
        return rows, damaged, torn

    def recover(self) -> list[dict[str, Any]]:
        """The rows of every intact unit, after discarding damaged lines and broken units.

        A unit is intact when all its rows agree on ``unit_rows`` and ``unit_sha256``, there are
        exactly ``unit_rows`` of them and their `unit_checksum` is ``unit_sha256``. Anything else
        (a torn unit, a lost, duplicated or edited row) is discarded whole, so the runner recomputes
        it. If anything was discarded, the file is rewritten (atomically) with only the kept rows;
        ``self.recovery`` then says what was dropped: ``(damaged_lines, discarded_units)``.

        Returns
        -------
        list of dict
            Rows of intact units, in file order.
        """
        rows, damaged, torn = self._parse()
        groups: dict[UnitKey, list[dict[str, Any]]] = {}
        for row in rows:
            groups.setdefault(unit_key(row), []).append(row)
        broken = set()
        for key, group in groups.items():
            seals = {(row["unit_rows"], row["unit_sha256"]) for row in group}
            if len(seals) != 1 or len(group) != group[0]["unit_rows"] \
                    or unit_checksum(group) != group[0]["unit_sha256"]:
                broken.add(key)
        kept = [row for row in rows if unit_key(row) not in broken]
        self.recovery = (damaged, tuple(sorted(broken)))
        if damaged or torn or broken:
            atomic_write_text(self.path, "".join(encode_row(row) for row in kept),
                              kept=f"{str(self.path)!r} is unchanged; free some space and resume again.")
        return kept

    def append_unit(self, rows: Sequence[dict[str, Any]]) -> None:
        """Append all rows of one unit in a single write, then fsync; a failed write is truncated
        back, so the file never holds part of a unit it did not report."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = "".join(encode_row(row) for row in rows).encode("utf-8")
        append_durably(self.path, payload, kept=(
            f"{str(self.path)!r} holds every unit finished before, and none in part; free some space "
            "and rerun the same command with --resume to continue."))

    def write_canonical(self, rows: Iterable[dict[str, Any]], setting_order: Sequence[str]) -> None:
        """Rewrite the file with `rows` in canonical order (temporary file and `os.replace`)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.path, "".join(encode_row(row) for row in canonical_order(rows, setting_order)),
                          kept=f"{str(self.path)!r} still holds every unit (in completion order); free "
                               "some space and rerun the same command with --resume to finish.")
