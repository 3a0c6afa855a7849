"""Dry run: Run shows the calls that would be made, and nothing changes."""

from __future__ import annotations

from screens.app import make_app
from screens.modals.confirm_run import ConfirmRun
from tests.ui.conftest import SIZE, log_text, until


def _security_groups(aws) -> list[str]:
    groups = aws.call("ec2", "describe_security_groups")["SecurityGroups"]
    return [g["GroupName"] for g in groups if g["GroupName"] != "default"]


async def test_dry_run_with_access_shows_calls_and_changes_nothing(make_runbook, aws) -> None:
    """Real engine on the emulator: a dry run with access discovers, and must change nothing in
    AWS."""
    app = make_app(make_runbook, "dry run", "dry run: no AWS calls that change anything")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b")
        await until(pilot, lambda: app.screen.name == "section-I")
        await pilot.press("ctrl+r")
        await until(pilot, lambda: "would make these calls" in log_text(app, "I"))
        log = log_text(app, "I")
        assert log.count("ec2 CreateSecurityGroup") == 3
        assert "nothing changed" in log
        assert not isinstance(app.screen, ConfirmRun)
        assert app.progress["I"].status == "to do"
    assert _security_groups(aws) == []
    assert not any(op.split(".")[1].startswith(("Create", "Authorize")) for op in aws.calls)


async def test_offline_dry_run_makes_no_call_at_all(offline_app) -> None:
    app = offline_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b", "ctrl+n", "ctrl+n", "ctrl+n")
        await until(pilot, lambda: app.screen.name == "section-IV")
        await pilot.press("ctrl+r")
        await pilot.pause()
        log = log_text(app, "IV")
        assert "rds CreateDBInstance" in log
        assert "wait: database flask-todo-db to be available" in log
        assert app.runbook.state.path.exists() is False
