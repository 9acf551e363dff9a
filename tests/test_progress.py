"""Progress reporting (theorybench.progress): a bar on a terminal, periodic one-line records in a log."""

from __future__ import annotations

import io

from theorybench.progress import LogProgress, format_duration, progress


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_log_records_are_periodic_one_liners_with_rate_and_eta():
    stream, clock = io.StringIO(), Clock()
    with LogProgress(100, desc="sweep", unit="unit", initial=10, stream=stream, interval=30, clock=clock) as meter:
        for _ in range(30):  # 30 units in 60 s: 0.5 unit/s, 60 left -> ETA 2 min
            clock.now += 2.0
            meter.update()
    lines = stream.getvalue().splitlines()
    # one record at 30 s (15 units), one at 60 s (30 units); the close adds nothing new
    assert lines == ["sweep: 25/100 units (25%), 0.5 units/s, ETA 2m30s",
                     "sweep: 40/100 units (40%), 0.5 units/s, ETA 2m00s"]


def test_short_runs_stay_quiet_and_a_final_line_closes_a_logged_run():
    stream, clock = io.StringIO(), Clock()
    with LogProgress(5, desc="x", unit="step", stream=stream, interval=30, clock=clock) as meter:
        clock.now = 10.0
        meter.update(5)
    assert stream.getvalue() == ""
    with LogProgress(5, desc="x", unit="step", stream=stream, interval=30, delay=40, clock=clock) as meter:
        # started at 10 s; 5 units in 51 s: 0.098 unit/s
        clock.now = 45.0  # 35 s after its start: held back by the 40 s delay
        meter.update(1)
        clock.now = 60.0
        meter.update(1)
        clock.now = 61.0
        meter.update(3)
    assert stream.getvalue().splitlines() == ["x: 2/5 steps (40%), 0.04 steps/s, ETA 1m15s",
                                              "x: 5/5 steps (100%), 0.098 steps/s, ETA 0s"]


def test_a_terminal_gets_a_bar_and_a_log_gets_records():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    with progress(3, desc="sweep", unit="unit", stream=terminal) as bar:
        bar.update(3)
    assert "sweep" in terminal.getvalue() and "3/3" in terminal.getvalue()
    assert isinstance(progress(3, desc="sweep", unit="unit", stream=io.StringIO()), LogProgress)
    silent = io.StringIO()
    with progress(3, desc="sweep", unit="unit", stream=silent, enabled=False) as bar:
        bar.update(3)
    assert silent.getvalue() == ""


def test_durations():
    assert [format_duration(s) for s in (0, 59.4, 75.2, 3600, 4000, float("nan"), -1)] == \
        ["0s", "59s", "1m15s", "1h00m", "1h06m", "?", "?"]
