"""Errors: a dialog with AWS's code, message and advice; change the form and run again."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError
from textual.widgets import Input

from runbook.aws import Aws
from screens.modals.confirm_run import ConfirmRun
from screens.modals.error_dialog import ErrorDialog
from tests.ui.conftest import SIZE, log_text, plain, run_section, until
from tests.ui.scripted import Refused


def fail_once(monkeypatch, aws: Aws, operation: str, code: str, message: str) -> None:
    real = aws.send  # every request goes out through send, reads and changes alike
    failed: list[str] = []

    def send(service: str, op: str, params: dict[str, Any]) -> dict[str, Any]:
        if op == operation and not failed:
            failed.append(op)
            raise ClientError({"Error": {"Code": code, "Message": message}}, op)
        return real(service, op, params)

    monkeypatch.setattr(aws, "send", send)


async def test_an_aws_error_opens_a_dialog_then_a_retry_succeeds(
    monkeypatch, sandbox_app, aws: Aws
) -> None:
    """Real engine on the emulator: AWS's error travels from botocore through the engine's
    failure path to the dialog, and the retry with an edited form makes the group in AWS."""
    fail_once(
        monkeypatch,
        aws,
        "create_security_group",
        "UnauthorizedOperation",
        "You are not authorized to perform: ec2:CreateSecurityGroup",
    )
    app = sandbox_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b", "ctrl+r")
        await until(pilot, lambda: isinstance(app.screen, ConfirmRun))
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, ErrorDialog))
        body = plain(app.screen.query_one("#error-body"))
        assert "UnauthorizedOperation" in body
        assert "not authorized to perform: ec2:CreateSecurityGroup" in body
        assert "What to do: Your credentials lack a permission" in body
        assert app.progress["I"].status == "failed"
        await pilot.press("escape")
        await until(pilot, lambda: app.screen.name == "section-I")
        # Change the form (keyboard only), then run the section again.
        field = app.screen.query_one("#field-elb_sg", Input)
        assert app.screen.focused is field
        await pilot.press("ctrl+u", *"todo-lb-sg")
        assert field.value == "todo-lb-sg"
        await run_section(pilot, app, "I")
    names = [g["GroupName"] for g in aws.call("ec2", "describe_security_groups")["SecurityGroups"]]
    assert "todo-lb-sg" in names


async def test_a_section_run_too_early_names_the_section_to_run_first(scripted_app) -> None:
    app = scripted_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b", "ctrl+n")
        await until(pilot, lambda: app.screen.name == "section-II")
        await pilot.press("ctrl+r")
        # Refused before anything is asked: the engine checks a section's inputs first.
        await until(pilot, lambda: isinstance(app.screen, ErrorDialog))
        body = plain(app.screen.query_one("#error-body"))
        assert "NeedsEarlierSection" in body
        assert "Run section I first" in body
        assert app.progress["II"].status == "failed"
        assert app.runbook.applied == []


async def test_a_refused_call_is_said_in_the_log_and_the_dialog(scripted_app) -> None:
    refused = Refused("InvalidParameterValue", "Value (flask-todo-elb-sg) for GroupName is invalid")
    app = scripted_app(fails={"create_security_group": refused})
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b", "ctrl+r")
        await until(pilot, lambda: isinstance(app.screen, ConfirmRun))
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, ErrorDialog))
        body = plain(app.screen.query_one("#error-body"))
        assert "InvalidParameterValue" in body and "(flask-todo-elb-sg) for GroupName" in body
        await pilot.press("escape")
        await until(pilot, lambda: app.screen.name == "section-I")
        assert "ec2 CreateSecurityGroup  InvalidParameterValue" in log_text(app, "I")
        assert app.progress["I"].status == "failed"


async def test_an_unexpected_error_in_a_worker_is_a_dialog_not_a_crash(
    monkeypatch, sandbox_app
) -> None:
    """On the emulator: the summary's worker runs only with AWS to read (none here is scripted)."""
    app = sandbox_app()

    def broken(**_: object) -> None:
        raise RuntimeError("the summary broke")

    monkeypatch.setattr(app.runbook, "summary", broken)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+s")
        # Pushed, then composed: the dialog shows once its body is there.
        await until(pilot, lambda: isinstance(app.screen, ErrorDialog) and app.screen.is_mounted)
        body = plain(app.screen.query_one("#error-body"))
        assert "RuntimeError" in body and "the summary broke" in body
        assert app.progress["end"].status == "failed"
        await pilot.press("escape")
        assert app.is_running
