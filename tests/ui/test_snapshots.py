"""Snapshots of the key screens at 80x24, from offline apps and fixed data (deterministic)."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot

from runbook.engine import Runbook
from runbook.errors import Problem
from runbook.next_steps import next_steps
from runbook.settings import Settings
from runbook.state import StateFile
from runbook.summary import Probe, Summary, Target
from screens.app import RunbookApp, make_app
from screens.modals.confirm_run import ConfirmRun
from screens.modals.error_dialog import ErrorDialog
from screens.progress import SectionProgress
from screens.summary.summary_screen import SummaryScreen
from tests.ui.conftest import SIZE

DNS = "flask-todo-elb-1234567890.us-east-1.elb.amazonaws.com"


NARROW = (60, 20)


def test_welcome(snap_compare, offline_app) -> None:
    assert snap_compare(offline_app(), terminal_size=SIZE)


def test_welcome_narrow(snap_compare, offline_app) -> None:
    """60x20: the section list folds away and the title stays in view."""
    assert snap_compare(offline_app(), terminal_size=NARROW)


def test_section_screen(snap_compare, offline_app) -> None:
    assert snap_compare(offline_app(), press=["b"], terminal_size=SIZE)


def test_section_screen_narrow(snap_compare, offline_app) -> None:
    assert snap_compare(offline_app(), press=["b"], terminal_size=NARROW)


def test_a_broken_field_and_its_hint_in_view(snap_compare, offline_app) -> None:
    """At 80x24 the rule under the field and "Fix the fields marked" beside Run both show."""
    assert snap_compare(offline_app(), press=["b", "ctrl+u", *"sg-web"], terminal_size=SIZE)


def test_confirm_dialog_shows_the_calls(snap_compare, offline_app) -> None:
    app = offline_app(Settings().replace("database", instance_class="db.t4g.micro"))

    async def confirm(pilot: Pilot) -> None:
        step = app.runbook.step("IV")
        await pilot.app.push_screen(ConfirmRun(step, app.runbook.preview(step)))

    assert snap_compare(app, run_before=confirm, terminal_size=SIZE)


def test_error_dialog(snap_compare, offline_app) -> None:
    app = offline_app()
    problem = Problem(
        "InvalidParameterCombination",
        "RDS does not support creating a DB instance with the following combination: "
        "DBInstanceClass=db.t2.micro, Engine=postgres, EngineVersion=16.4.",
        "AWS refused this combination of settings. For RDS this is usually the instance "
        "class: choose db.t4g.micro or db.t3.micro and run again.",
        "CreateDBInstance",
    )

    async def fail(pilot: Pilot) -> None:
        await pilot.press("b")
        await pilot.app.push_screen(ErrorDialog("Section IV · RDS PostgreSQL", problem))

    assert snap_compare(app, run_before=fail, terminal_size=SIZE)


def test_summary(snap_compare, tmp_path: Path) -> None:
    state = StateFile(tmp_path / "state.json")
    app: RunbookApp = make_app(
        lambda listener: Runbook(Settings(), None, state, emit=listener), "aws", "AWS us-east-1"
    )
    runbook = app.runbook
    summary = Summary(
        dns_name=DNS,
        targets=[
            Target("172.31.20.14", 5000, "healthy"),
            Target(
                "172.31.40.7",
                5000,
                "unhealthy",
                "Target.ResponseCodeMismatch",
                "Health checks failed with these codes: [502]",
            ),
        ],
        probe=Probe(f"http://{DNS}/healthz", True, "HTTP 200"),
    )

    async def finish(pilot: Pilot) -> None:
        app.progress = {key: SectionProgress("done") for key in app.progress}
        await app.switch_screen(
            SummaryScreen(runbook.steps, summary, "aws", next_steps=next_steps(sandbox=False))
        )
        await pilot.pause()

    assert snap_compare(app, run_before=finish, terminal_size=SIZE)
