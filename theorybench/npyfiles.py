"""Arrays given by a ``.npy`` file path in a configuration: loaded once, identified by content.

A user covariance (``data.covariance.matrix_file``) or mean vector (``data.mean_file``) may be a
NumPy ``.npy`` file instead of a TOML list: a 1000 x 1000 matrix as TOML is 4 MB of text that
takes seconds to parse, and a configuration that embeds it writes it again into every result. A
file-backed array is identified by its path *and* the SHA-256 of the file's bytes; results record
both, never the array, and a configuration that pins a hash refuses a file whose content changed.

Decoded arrays are cached per (path, hash) and returned read-only, so the configuration, the samplers and
the theory share one copy per process; ``allow_pickle=False`` keeps loading a pure data read.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np

from theorybench.errors import ConfigError

_CACHE: dict[tuple[str, str], np.ndarray] = {}


def _read_bytes(path: str, key: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{key} = {path!r}: the file does not exist (a relative path is read "
                          "from the directory of the configuration file).") from None
    except IsADirectoryError:
        raise ConfigError(f"{key} = {path!r} is a directory, not a .npy file.") from None
    except OSError as error:
        raise ConfigError(f"{key} = {path!r} cannot be read: {error.strerror or error}.") from None


def _decode(path: str, key: str, content: bytes) -> np.ndarray:
    try:
        array = np.load(io.BytesIO(content), allow_pickle=False)
    except (ValueError, OSError, EOFError) as error:
        raise ConfigError(f"{key} = {path!r} is not a readable .npy file of numbers ({error}); "
                          "write it with numpy.save(path, array).") from None
    if not isinstance(array, np.ndarray) or not np.issubdtype(array.dtype, np.number) \
            or np.issubdtype(array.dtype, np.complexfloating):
        raise ConfigError(f"{key} = {path!r} holds a {getattr(array, 'dtype', type(array))} array: "
                          "it must hold real numbers.")
    array = np.array(array, dtype=np.float64)  # a private float64 copy, whatever was saved
    array.flags.writeable = False
    return array


def load_npy(path: str, key: str, expected_sha256: str | None = None) -> tuple[np.ndarray, str]:
    """The float64 array in the ``.npy`` file at ``path`` and the SHA-256 (hex) of its bytes.

    Parameters
    ----------
    path : str
        The file, as the configuration records it.
    key : str
        The configuration key that named it (for messages), e.g. ``data.mean_file``.
    expected_sha256 : str or None
        A pinned hash: a file whose bytes hash differently is refused.

    Raises
    ------
    ConfigError
        Missing or unreadable file, not a ``.npy`` of real numbers, or a hash mismatch.
    """
    # The bytes are read and hashed on every call (~20 ms for 8 MB): a file that changed under a
    # pinned hash must be refused, not served from the cache. Only the decoding is cached.
    content = _read_bytes(path, key)
    digest = hashlib.sha256(content).hexdigest()
    if expected_sha256 is not None and digest != expected_sha256:
        raise ConfigError(
            f"{key} = {path!r} has SHA-256 {digest}, but the configuration pins {expected_sha256}: "
            "the file changed since the configuration was written. Restore the file, or remove the "
            "pinned hash to accept the new content."
        )
    if (path, digest) not in _CACHE:
        _CACHE[(path, digest)] = _decode(path, key, content)
    return _CACHE[(path, digest)], digest
