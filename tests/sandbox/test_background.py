"""The background sandbox's life: it starts once, refuses other timings while running, stops
by itself when unused, and `stop` ends it and removes its data."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from runbook.sandbox import SandboxError, Timings, ensure_running, running, stop
from runbook.sandbox.background import gone, read_info


def test_unused_it_stops_by_itself_and_other_timings_are_refused(tmp_path: Path) -> None:
    info = tmp_path / ".runbook" / "sandbox.json"
    url = ensure_running(info, idle=3)
    known = read_info(info)
    assert known is not None and known["timings"] == "instant"
    try:
        assert ensure_running(info) == url  # the same one, found again
        with pytest.raises(SandboxError, match="already running with --timings instant"):
            ensure_running(info, timings=Timings.parse("aws:0.1"))
        deadline = time.monotonic() + 30
        while not gone(known["pid"]):
            assert time.monotonic() < deadline, "it never stopped by itself"
            time.sleep(0.2)
        assert running(info) is None and not info.exists()
        assert not Path(known["folder"]).exists()
        assert "no call for" in (info.parent / "sandbox.log").read_text()
    finally:
        stop(info)


def test_stop_ends_it_and_says_when_none_ran(tmp_path: Path) -> None:
    info = tmp_path / ".runbook" / "sandbox.json"
    assert stop(info) is False
    ensure_running(info, timings=Timings.parse("aws:0.5"))
    known = read_info(info)
    assert known is not None and known["timings"] == "aws:0.5"
    assert stop(info) is True
    assert gone(known["pid"]) and not Path(known["folder"]).exists()
