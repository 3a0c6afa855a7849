"""Errors: a dialog with AWS's code, message and advice; change the form and run again."""

from __future__ import annotations

from textual.widgets import Input

from runbook.state import StateFile
from screens.modals.confirm_run import ConfirmRun
from screens.modals.error_dialog import ErrorDialog
from tests.ui.conftest import SIZE, log_text, plain, run_section, until
from tests.ui.new_account import answer_preflight
from tests.ui.scripted import Refused


async def test_an_aws_error_opens_a_dialog_then_a_retry_succeeds(scripted_app, state_path) -> None:
    """AWS's refusal as botocore raises it goes through the engine's own failure path
    (problem_from, advice_for) to the dialog; the retry with an edited form makes the group
    under its new name (its id recorded as the engine records it)."""
    refused = Refused(
        "UnauthorizedOperation", "You are not authorized to perform: ec2:CreateSecurityGroup"
    )
    app = scripted_app(state=StateFile(state_path), fails={"create_security_group": refused})
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
        app.runbook.fails.clear()  # the permission granted meanwhile: AWS takes the call now
        await run_section(pilot, app, "I")
    assert app.runbook.applied == ["I"]
    assert "todo-lb-sg.GroupId" in StateFile(state_path).get("I").outputs


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
    monkeypatch, scripted_app, stub, offline_aws, settings
) -> None:
    """The summary's worker runs only with AWS to read: clients a Stubber answers (the
    welcome's checks on a new account; the summary itself breaks before its first call)."""
    app = scripted_app(aws=offline_aws)
    answer_preflight(stub, settings, app.runbook.version)

    def broken(**_: object) -> None:
        raise RuntimeError("the summary broke")

    monkeypatch.setattr(app.runbook, "summary", broken)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.screen.query_one("#findings").findings is not None)
        await pilot.press("ctrl+s")
        # Pushed, then composed: the dialog shows once its body is there.
        await until(pilot, lambda: isinstance(app.screen, ErrorDialog) and app.screen.is_mounted)
        body = plain(app.screen.query_one("#error-body"))
        assert "RuntimeError" in body and "the summary broke" in body
        assert app.progress["end"].status == "failed"
        await pilot.press("escape")
        assert app.is_running
