"""Snapshots of day two at 80x24 and 60x20, from offline apps and fixed data (deterministic)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from botocore.stub import Stubber
from textual.pilot import Pilot

from runbook import day_two
from runbook.aws import Aws
from runbook.engine import Runbook
from runbook.events import CallMade, StepFinished, StepStarted, Waiting
from runbook.next_steps import next_steps
from runbook.service_status import DeploymentRow, EventRow, ServiceStatus, TaskRow
from runbook.settings import Settings
from runbook.state import StateFile
from runbook.summary import Probe, Summary, Target
from screens.app import RunbookApp, make_app
from screens.modals.confirm_run import ConfirmRun
from screens.modals.desired_count import DesiredCount
from screens.progress import SectionProgress
from screens.summary.summary_screen import SummaryScreen
from tests.ui.conftest import SIZE

NARROW = (60, 20)
DNS = "flask-todo-elb-1234567890.us-east-1.elb.amazonaws.com"


def at(minute: int, second: int) -> datetime:
    return datetime(2025, 6, 2, 14, minute, second, tzinfo=UTC)


# A rollout half-way: :5 starting beside :4, one of :5's tasks already stopped.
ROLLING = ServiceStatus(
    "flask-todo-service",
    exists=True,
    status="ACTIVE",
    revision="flask-todo:5",
    desired=2,
    running=3,
    pending=1,
    deployments=[
        DeploymentRow(
            "PRIMARY", "flask-todo:5", 2, 1, 1, "IN_PROGRESS", "ECS deployment detected.", 1
        ),
        DeploymentRow("ACTIVE", "flask-todo:4", 2, 2, 0, "COMPLETED", "", 0),
    ],
    tasks=[
        TaskRow("4f1d2c3b9a8e7f6d", "flask-todo:4", "RUNNING", "healthy", at(1, 5)),
        TaskRow("9b8c7d6e5f4a3b2c", "flask-todo:4", "RUNNING", "healthy", at(1, 9)),
        TaskRow("a1b2c3d4e5f60718", "flask-todo:5", "RUNNING", "initial", at(12, 40)),
        TaskRow("c0ffee00d15ea5e5", "flask-todo:5", "PROVISIONING", "", None),
        TaskRow(
            "dead0beef1234567",
            "flask-todo:5",
            "STOPPED",
            "",
            at(12, 2),
            at(12, 31),
            "Essential container in task exited; todo-api: exit code 2",
        ),
    ],
    events=[
        EventRow(at(12, 40), "has started 1 tasks: (task a1b2c3d4e5f60718)."),
        EventRow(at(12, 31), "has stopped 1 running tasks: (task dead0beef1234567)."),
        EventRow(at(12, 2), "has started 1 tasks: (task dead0beef1234567)."),
        EventRow(at(1, 30), "has reached a steady state."),
        EventRow(at(1, 20), "(deployment ecs-svc/4) deployment completed."),
    ],
)


def offline(tmp_path: Path) -> tuple[Runbook, RunbookApp]:
    state = StateFile(tmp_path / "state.json")
    app = make_app(
        lambda listener: Runbook(Settings(), None, state, emit=listener), "aws", "AWS us-east-1"
    )
    return app.runbook, app


def service_screen(app: RunbookApp):
    async def show(pilot: Pilot) -> None:
        app.service_screen.show(ROLLING)
        for event in (
            StepStarted(day_two.SECTION, "Redeploy flask-todo-service (flask-todo:5)"),
            CallMade(day_two.SECTION, "ecs", "update_service", {}, "ok", 0.2, True),
            Waiting(day_two.SECTION, "service flask-todo-service to be stable", 31.0, "done"),
            StepFinished(day_two.SECTION, "done", seconds=31.4),
        ):
            app.service_screen.record(event)
        await app.switch_screen("service")
        await pilot.pause()

    return show


def test_service(snap_compare, tmp_path: Path) -> None:
    _, app = offline(tmp_path)
    assert snap_compare(app, run_before=service_screen(app), terminal_size=SIZE)


def test_service_narrow(snap_compare, tmp_path: Path) -> None:
    _, app = offline(tmp_path)
    assert snap_compare(app, run_before=service_screen(app), terminal_size=NARROW)


def test_logs(snap_compare, tmp_path: Path) -> None:
    _, app = offline(tmp_path)

    async def show(pilot: Pilot) -> None:
        app.logs_screen.add(
            [
                f'14:{m:02d}:{s:02d} a1b2c3d4 {{"method":"GET","path":"/todos","status":200,'
                f'"ms":{3 + s % 7}}}'
                for m in range(10, 13)
                for s in range(0, 60, 8)
            ]
            + ["14:12:59 a1b2c3d4 migrations: nothing to apply (schema 3)"]
        )
        await app.switch_screen("logs")
        await pilot.pause()

    assert snap_compare(app, run_before=show, terminal_size=SIZE)


def test_desired_count_narrow(snap_compare, tmp_path: Path) -> None:
    runbook, app = offline(tmp_path)

    async def ask(pilot: Pilot) -> None:
        await app.push_screen(DesiredCount(runbook.settings, 2))
        await pilot.press(*"150")
        await pilot.pause()

    assert snap_compare(app, run_before=ask, terminal_size=NARROW)


def test_rollback_confirm(snap_compare, tmp_path: Path) -> None:
    """The calls and what to know, from the rollback's own reads (answered by a Stubber)."""
    aws = Aws("us-east-1", credentials={"aws_access_key_id": "x", "aws_secret_access_key": "y"})
    arn = "arn:aws:ecs:us-east-1:123456789012:task-definition/flask-todo:"
    ecs = Stubber(aws.client("ecs"))
    ecs.add_response(
        "describe_services",
        {
            "services": [
                {
                    "serviceName": "flask-todo-service",
                    "status": "ACTIVE",
                    "taskDefinition": arn + "5",
                    "tags": [{"key": "fargate-runbook:deployment", "value": "flask-todo"}],
                }
            ]
        },
    )
    ecs.add_response("list_task_definitions", {"taskDefinitionArns": [arn + "4", arn + "5"]})
    ecs.add_response(
        "describe_task_definition",
        {
            "taskDefinition": {
                "containerDefinitions": [
                    {
                        "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/"
                        "flask-todo:git-1a2b3c4d5e6f"
                    }
                ]
            }
        },
    )
    with ecs:
        plan = day_two.rollback(aws, Settings())
    runbook, app = offline(tmp_path)
    rows = runbook.rows(list(plan.actions))

    async def confirm(pilot: Pilot) -> None:
        await app.push_screen(ConfirmRun(None, rows, question=plan.question, notes=plan.notes))

    assert snap_compare(app, run_before=confirm, terminal_size=SIZE)


def test_summary_narrow(snap_compare, tmp_path: Path) -> None:
    """60x20: the day-two keys lead the footer; the body lists them too."""
    runbook, app = offline(tmp_path)
    summary = Summary(
        dns_name=DNS,
        targets=[Target("172.31.20.14", 5000, "healthy")],
        probe=Probe(f"http://{DNS}/healthz", True, "HTTP 200"),
    )

    async def finish(pilot: Pilot) -> None:
        app.progress = {key: SectionProgress("done") for key in app.progress}
        await app.switch_screen(
            SummaryScreen(runbook.steps, summary, "aws", next_steps=next_steps(sandbox=False))
        )
        app.screen.query_one("#summary-body").scroll_to(y=9, animate=False)
        await pilot.pause()

    assert snap_compare(app, run_before=finish, terminal_size=NARROW)
