"""The sandbox's commands refuse bad input before starting anything, and say what runs."""

from __future__ import annotations

import pytest

from runbook.cli import BAD_INPUT, OK, main


def test_a_bad_timings_value_is_refused_and_nothing_starts(
    tmp_path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["sandbox", "start", "--timings", "slow"]) == BAD_INPUT
    assert "instant, aws, or aws:FACTOR" in capsys.readouterr().out
    assert main(["deploy", "--yes", "--sandbox", "--timings", "aws:0"]) == BAD_INPUT
    assert not (tmp_path / ".runbook").exists()


def test_status_and_stop_when_no_sandbox_runs(
    tmp_path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["sandbox", "status"]) == OK
    assert "No sandbox is running" in capsys.readouterr().out
    assert main(["sandbox", "stop"]) == OK
    assert "No sandbox was running" in capsys.readouterr().out


def test_logs_refuses_a_bad_since_before_any_call(
    tmp_path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens: no call
    assert main(["logs", "--since", "last week"]) == 2
    assert "30s, 10m, 2h, 1d" in capsys.readouterr().out
