"""Files the user gives us and files we write, handled so that hostile input and a failing disk
give a one-paragraph `UserInputError` (exit status 2), never a traceback, a hang or a torn file.

Reading: a user file is read through a size limit (`MAX_INPUT_BYTES`), so ``/dev/zero`` or a
multi-gigabyte file is refused after reading one byte past the limit instead of filling memory; TOML
is parsed with a nesting-depth limit (`MAX_NESTING`). Writing: whole files go through a temporary
file in the same folder, ``fsync`` and ``os.replace`` (`atomic_write_text`), so a result file is
either absent or complete; appends are a single write followed by ``fsync``, and a failed append is
truncated back (`append_durably`). A write that fails for lack of space (ENOSPC, EDQUOT, EFBIG)
becomes a `DiskFullError`, whose message says what was kept. docs/failure.md states the guarantees.
"""

from __future__ import annotations

import errno
import os
import tempfile
import tomllib
from pathlib import Path
from typing import Any

from theorybench.errors import ConfigError, UserInputError

# 16 MiB: far above any hand-written configuration or suite (a user covariance of d = 500 written
# with 17 significant digits is about 6 MiB), and parsed by tomllib in a few seconds.
MAX_INPUT_BYTES = 16 * 2**20
# Arrays and tables nested deeper than this are refused: the deepest legitimate value (a user
# covariance inside [data.covariance] of a [[setting]]) is 5 levels deep.
MAX_NESTING = 32
_SPACE_ERRORS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


class DiskFullError(UserInputError):
    """A write failed because the disk (or quota, or file-size limit) is full."""


def is_disk_full(error: OSError) -> bool:
    return error.errno in _SPACE_ERRORS


def read_user_file(path: str | Path, kind: str, limit: int = MAX_INPUT_BYTES) -> str:
    """The UTF-8 text of a file the user named, or a `UserInputError` that says why it is unreadable.

    ``kind`` names the file in the message ("configuration", "suite"). At most ``limit + 1`` bytes
    are read, so a device such as ``/dev/zero`` or a huge file is refused at once.
    """
    path = Path(path)
    try:
        with open(path, "rb") as stream:
            data = stream.read(limit + 1)
    except FileNotFoundError:
        raise UserInputError(f"{kind} file {str(path)!r} does not exist.") from None
    except IsADirectoryError:
        raise UserInputError(f"{kind} path {str(path)!r} is a directory, not a TOML file.") from None
    except OSError as error:
        raise UserInputError(f"{kind} file {str(path)!r} cannot be read: {error.strerror or error}.") from None
    if len(data) > limit:
        raise UserInputError(f"{kind} file {str(path)!r} is larger than {limit // 2**20} MiB (or is "
                             "not a regular file): it cannot be a theorybench TOML file.")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UserInputError(f"{kind} file {str(path)!r} is not UTF-8 text (byte {error.start} is "
                             "invalid); TOML files are UTF-8.") from None


def too_deep(value: Any) -> str | None:
    """The dotted key of a value nested more than `MAX_NESTING` lists or tables deep in a parsed
    document (``""`` when the document itself is), or None; found without recursion."""
    stack: list[tuple[Any, int, tuple[str, ...]]] = [(value, 0, ())]
    while stack:
        item, depth, keys = stack.pop()
        if not isinstance(item, (list, dict)):
            continue
        if depth + 1 > MAX_NESTING:
            return ".".join(keys[:4])
        if isinstance(item, dict):
            stack.extend((child, depth + 1, keys + (str(key)[:40],)) for key, child in item.items())
        else:
            stack.extend((child, depth + 1, keys) for child in item)
    return None


def parse_toml(text: str, source: str) -> dict[str, Any]:
    """Parse TOML, refusing malformed text, huge integers and deep nesting with a `ConfigError`.

    tomllib raises `tomllib.TOMLDecodeError` (a ValueError) for malformed text, a plain ValueError
    for an integer of more than 4300 digits and a RecursionError for arrays nested thousands deep.
    """
    if len(text) > MAX_INPUT_BYTES:
        raise ConfigError(f"{source} is larger than {MAX_INPUT_BYTES // 2**20} MiB: it cannot be a "
                          "theorybench TOML file.")
    try:
        values = tomllib.loads(text)
    except RecursionError:
        raise ConfigError(f"{source} nests arrays or tables more than {MAX_NESTING} levels deep; "
                          "theorybench files never need that.") from None
    except ValueError as error:
        message = str(error)
        if "integer string conversion" in message or "int" in message and "digits" in message:
            message = "an integer has more than 4300 digits"
        raise ConfigError(f"{source} is not valid TOML: {message}.") from None
    key = too_deep(values)
    if key is not None:
        raise ConfigError(f"{source}: {key or 'the document'} nests arrays or tables more than "
                          f"{MAX_NESTING} levels deep; theorybench files never need that.")
    return values


def _write_all(descriptor: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(descriptor, view)
        view = view[written:]


def _fsync_directory(directory: Path) -> None:
    # A rename is durable only once the directory entry is on disk.
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _disk_full(path: Path, error: OSError, kept: str) -> DiskFullError:
    return DiskFullError(f"no space left on the device while writing {str(path)!r} "
                         f"({error.strerror or error}). {kept}")


def atomic_write_text(path: str | Path, text: str, *, kept: str = "Nothing was written.") -> None:
    """`atomic_write_bytes` of the UTF-8 encoding of `text`."""
    atomic_write_bytes(path, text.encode("utf-8"), kept=kept)


def atomic_write_bytes(path: str | Path, data: bytes, *, kept: str = "Nothing was written.") -> None:
    """Replace `path` by `data` atomically: a temporary file in the same folder, fsync, `os.replace`.

    On any failure the temporary file is removed and `path` is untouched; a full disk raises
    `DiskFullError` whose message ends with `kept` (what the user still has).
    """
    path = Path(path)
    handle, temporary = -1, None
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        # mkstemp creates the file private (0600); give it the permissions a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(handle, 0o666 & ~umask)
        _write_all(handle, data)
        os.fsync(handle)
        os.close(handle)
        handle = -1
        os.replace(temporary, path)
    except BaseException as error:
        if handle >= 0:
            os.close(handle)
        if temporary is not None and os.path.exists(temporary):
            os.unlink(temporary)
        if isinstance(error, OSError) and is_disk_full(error):
            raise _disk_full(path, error, kept) from None
        raise
    _fsync_directory(path.parent)


def append_durably(path: str | Path, data: bytes, *, kept: str) -> None:
    """Append `data` to `path` in one write, then fsync; on failure truncate back to the old end
    (and remove the file if that leaves it empty).

    A reader therefore never sees part of `data`. A full disk raises `DiskFullError` ending with
    `kept`.
    """
    path = Path(path)
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        end = os.lseek(descriptor, 0, os.SEEK_END)
        try:
            _write_all(descriptor, data)
            os.fsync(descriptor)
        except BaseException as error:
            os.ftruncate(descriptor, end)
            if end == 0:  # no empty file left behind
                os.unlink(path)
            if isinstance(error, OSError) and is_disk_full(error):
                raise _disk_full(path, error, kept) from None
            raise
    finally:
        os.close(descriptor)
