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
least ``setting`` (str), ``replicate`` (int), ``step`` (int or null), ``kind`` (``"checkpoint"``,
``"final"`` or ``"error"``) and ``unit_rows`` (int, added by the runner).

Every line is strict JSON (RFC 8259), readable by ``jq`` and any JSON parser: a non-finite float
(an infinite margin, a log-probability of ``-inf``) is written as the string ``"Infinity"``,
``"-Infinity"`` or ``"NaN"``, and `decode_row` turns exactly these strings back into the floats
(except in free-text columns such as ``setting`` and ``error``), so a resumed run reads what it wrote.
"""

from __future__ import annotations

import contextlib
import fcntl  # POSIX: theorybench runs on Linux and macOS
import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from theorybench.errors import UserInputError
from theorybench.jsonio import NON_FINITE, strict_json_value

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


def _fsync_directory(directory: Path) -> None:
    # A rename is durable only once the directory entry is on disk.
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def atomic_write_text(path: Path, text: str) -> None:
    """Replace `path` by `text` atomically: a temporary file in the same folder, fsync, `os.replace`."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp creates the file private (0600); give it the permissions a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(handle, 0o666 & ~umask)
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    _fsync_directory(path.parent)


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
        """True when the file exists and is not empty (a run would overwrite computed results)."""
        return self.path.is_file() and self.path.stat().st_size > 0

    def _parse(self) -> tuple[list[dict[str, Any]], bool]:
        """All complete, parseable lines, and whether anything (a torn last line) was dropped."""
        if not self.path.is_file():
            return [], False
        text = self.path.read_text(encoding="utf-8")
        lines = text.split("\n")
        # The text after the final newline is empty for an intact file and a torn line otherwise.
        dropped = lines[-1] != ""
        rows = []
        for number, line in enumerate(lines[:-1], start=1):
            try:
                row = decode_row(line)
            except json.JSONDecodeError:
                # Units are appended whole, so only the text after the last newline can be torn.
                raise UserInputError(
                    f"results file {str(self.path)!r} is corrupt at line {number} (not JSON); it was "
                    "not written by an interrupted theorybench run. Choose another --out folder."
                ) from None
            if not isinstance(row, dict) or "setting" not in row or "replicate" not in row \
                    or "unit_rows" not in row:
                raise UserInputError(
                    f"results file {str(self.path)!r} line {number} is not a theorybench row (it needs "
                    "'setting', 'replicate' and 'unit_rows'). Choose another --out folder."
                )
            rows.append(row)
        return rows, dropped

    def recover(self) -> list[dict[str, Any]]:
        """The rows of every complete unit, after discarding a torn last line and incomplete units.

        If anything was discarded, the file is rewritten (atomically) with only the kept rows, so
        that later appends follow a clean line end.

        Returns
        -------
        list of dict
            Rows of complete units, in file order.
        """
        rows, dropped = self._parse()
        counts: dict[UnitKey, int] = {}
        for row in rows:
            counts[unit_key(row)] = counts.get(unit_key(row), 0) + 1
        kept = []
        for row in rows:
            expected = int(row["unit_rows"])
            count = counts[unit_key(row)]
            if count > expected:
                raise UserInputError(
                    f"results file {str(self.path)!r} holds {count} rows for setting "
                    f"{row['setting']!r} replicate {row['replicate']} but that unit produced "
                    f"{expected}: the file was edited or written by two runs at once. Choose another "
                    "--out folder."
                )
            if count == expected:
                kept.append(row)
        if dropped or len(kept) < len(rows):
            atomic_write_text(self.path, "".join(encode_row(row) for row in kept))
        return kept

    def append_unit(self, rows: Sequence[dict[str, Any]]) -> None:
        """Append all rows of one unit in a single write, then flush and fsync."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = "".join(encode_row(row) for row in rows).encode("utf-8")
        with open(self.path, "ab") as stream:
            stream.write(payload)
            stream.flush()
            os.fsync(stream.fileno())

    def write_canonical(self, rows: Iterable[dict[str, Any]], setting_order: Sequence[str]) -> None:
        """Rewrite the file with `rows` in canonical order (temporary file and `os.replace`)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.path, "".join(encode_row(row) for row in canonical_order(rows, setting_order)))
