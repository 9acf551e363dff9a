"""Progress of a long loop: a bar on a terminal, periodic one-line records in a log.

`progress(total, desc=..., unit=...)` returns a context manager with ``update(n)``. When the stream
is a terminal it is a tqdm bar; otherwise (a log file, a CI job, captured output) it writes one line
every `interval` seconds, e.g. ``sweep: 12/70 units (17%), 0.81 units/s, ETA 1m12s``, and a last
line when it closes, only if it wrote any: short runs stay quiet. `delay` holds back both the bar
and the first record until the loop has run that long.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from typing import IO, Any

# Seconds between two log records when the output is not a terminal.
LOG_INTERVAL_S = 30.0


def format_duration(seconds: float) -> str:
    """``75.2`` -> ``"1m15s"``; ``4000`` -> ``"1h06m"``; unknown -> ``"?"``."""
    if not math.isfinite(seconds) or seconds < 0:
        return "?"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class LogProgress:
    """One-line progress records on a non-terminal stream (see the module docstring)."""

    def __init__(self, total: int, *, desc: str, unit: str, initial: int = 0, stream: IO[str],
                 interval: float = LOG_INTERVAL_S, delay: float = 0.0,
                 clock: Callable[[], float] = time.monotonic):
        self.total, self.desc, self.unit, self.stream = total, desc, unit, stream
        self.interval, self.delay, self.clock = interval, delay, clock
        self.done = self.initial = initial
        self.start = clock()
        self.last: float | None = None
        self.written = initial

    def line(self) -> str:
        elapsed = self.clock() - self.start
        new = self.done - self.initial
        rate = new / elapsed if elapsed > 0 else math.nan
        left = (self.total - self.done) / rate if rate > 0 else math.nan
        share = f" ({100 * self.done / self.total:.0f}%)" if self.total else ""
        return (f"{self.desc}: {self.done}/{self.total} {self.unit}s{share}, "
                f"{rate:.3g} {self.unit}s/s, ETA {format_duration(left)}")

    def _write(self) -> None:
        print(self.line(), file=self.stream, flush=True)
        self.last, self.written = self.clock(), self.done

    def update(self, n: int = 1) -> None:
        self.done += n
        now = self.clock()
        if now - self.start < self.delay:
            return
        if (self.last is None and now - self.start >= max(self.interval, self.delay)) or \
                (self.last is not None and now - self.last >= self.interval):
            self._write()

    def close(self) -> None:
        if self.last is not None and self.written != self.done:
            self._write()

    def __enter__(self) -> LogProgress:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def progress(total: int, *, desc: str, unit: str, initial: int = 0, enabled: bool = True,
             stream: IO[str] | None = None, delay: float = 0.0, interval: float | None = None,
             leave: bool = True):
    """A tqdm bar on a terminal, `LogProgress` records otherwise (every `interval` seconds, default
    `LOG_INTERVAL_S`), nothing when not `enabled`."""
    stream = sys.stderr if stream is None else stream
    interval = LOG_INTERVAL_S if interval is None else interval
    terminal = hasattr(stream, "isatty") and stream.isatty()
    if terminal or not enabled:
        from tqdm import tqdm  # imported lazily: only interactive runs draw a bar

        return tqdm(total=total, initial=initial, desc=desc, unit=unit, file=stream, delay=delay, leave=leave,
                    disable=not enabled)
    return LogProgress(total, desc=desc, unit=unit, initial=initial, stream=stream, interval=interval, delay=delay)
