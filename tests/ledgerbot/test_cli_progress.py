"""Progress on stderr when stderr is a log, not a terminal."""

from __future__ import annotations

import importlib
import io
import itertools
import re

import pytest

# The module, not the Typer object ``ledgerbot.cli`` exports under the same name.
app = importlib.import_module("ledgerbot.cli.app")


class _Log(io.StringIO):
    def isatty(self) -> bool:
        return False


def _log(monkeypatch: pytest.MonkeyPatch) -> _Log:
    """stderr as a log file (set in the test itself: pytest swaps stderr between phases)."""
    stream = _Log()
    monkeypatch.setattr(app.sys, "stderr", stream)
    return stream


def test_a_long_loop_writes_a_line_now_and_then_and_its_final_count(monkeypatch: pytest.MonkeyPatch) -> None:
    log = _log(monkeypatch)
    clock = itertools.count(0.0, 7.0)  # every reading of the clock is 7 s later
    monkeypatch.setattr(app.time, "monotonic", lambda: next(clock))
    assert list(app.progress(range(10), total=10, desc="text layers")) == list(range(10))
    lines = log.getvalue().splitlines()
    # A line every 20 s at most: after items 3, 6 and 9 (21, 42, 63 s), then the final count.
    assert [line.split(" (")[0] for line in lines] == [
        "text layers: 3/10",
        "text layers: 6/10",
        "text layers: 9/10",
        "text layers: 10/10",
    ]
    assert re.fullmatch(r"text layers: 3/10 \(0\.14/s, 21 s\)", lines[0])


def test_a_quick_loop_stays_silent(monkeypatch: pytest.MonkeyPatch) -> None:
    log = _log(monkeypatch)
    assert sum(app.progress(iter(range(1000)), desc="read")) == sum(range(1000))
    assert log.getvalue() == ""
