"""The command line shows a failure once, with the advice that fits what happened."""

from __future__ import annotations

from pathlib import Path

import pytest

from runbook import cli
from runbook.aws import Aws
from runbook.cli import target
from runbook.recovery.faults import Backoff
from tests.faults.proxy import FaultProxy, Rule, Schedule
from tests.faults.wire import THROTTLE


def test_a_throttled_deploy_is_reported_once_as_throttling(
    aws: Aws,
    proxy: FaultProxy,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The command sleeps for real: no backoff, so the sends run out at once.
    aws.backoff = Backoff(sends=3, throttled_base=0.0, other_base=0.0)
    monkeypatch.setattr(target, "aws_for", lambda *_: aws)
    proxy.schedule = Schedule(Rule(THROTTLE, "ec2", {"CreateSecurityGroup"}, times=None))

    status = cli.main(["deploy", "--yes", "--new", "--state", str(tmp_path / "state.json")])

    out = capsys.readouterr().out
    assert status == cli.FAILED
    assert out.count("✗ RequestLimitExceeded: AWS throttled the request") == 1
    assert out.count("What to do:") == 1
    assert "throttling this account's requests" in out
    assert "quota" not in out
    # The resends show as such while they happen.
    assert out.count("↻ ec2 CreateSecurityGroup  RequestLimitExceeded, sending again") == 2
