"""Day two from the summary, one key each: the service, its logs, scale, redeploy, roll back."""

from __future__ import annotations

import time
from typing import Any

from textual.widgets import Input

from runbook.aws import Aws
from runbook.engine import Runbook
from runbook.state import StateFile
from screens.app import RunbookApp, make_app
from screens.modals.confirm_run import ConfirmRun
from screens.modals.desired_count import DesiredCount
from screens.modals.error_dialog import ErrorDialog
from screens.service.logs_screen import LogsScreen
from screens.service.service_screen import ServiceScreen
from screens.summary.summary_screen import SummaryScreen
from tests.ui.conftest import SIZE, plain, until
from tests.ui.scripted import ScriptedEngine
from tests.ui.test_rough_edges import on_screen

CLUSTER, SERVICE = "flask-todo-cluster", "flask-todo-service"


def service(aws: Aws) -> dict[str, Any]:
    return aws.call("ecs", "describe_services", cluster=CLUSTER, services=[SERVICE])["services"][0]


def deployed(make_runbook, **overrides: Any) -> Runbook:
    runbook = make_runbook(**overrides)
    runbook.deploy()
    return runbook


def app_for(make_runbook, **overrides: Any) -> RunbookApp:
    """The app's own engine, on the deployment deployed() made (its state file)."""
    app = make_app(
        lambda listener: make_runbook(listener, **overrides), "sandbox", "local emulator (sandbox)"
    )
    app.poll_every = app.follow_every = 0.1  # the same reads, sooner
    return app


async def to_summary(pilot, app: RunbookApp) -> None:
    await pilot.press("ctrl+s")
    await until(pilot, lambda: isinstance(app.screen, SummaryScreen))


def write_logs(aws: Aws, lines: list[str]) -> None:
    logs = aws.client("logs")
    stream = "todo-api/todo-api/0123456789abcdef"
    logs.create_log_stream(logGroupName="/ecs/flask-todo", logStreamName=stream)
    now = int(time.time() * 1000)
    logs.put_log_events(
        logGroupName="/ecs/flask-todo",
        logStreamName=stream,
        logEvents=[{"timestamp": now - 1000 + i, "message": text} for i, text in enumerate(lines)],
    )


async def test_the_service_its_logs_and_each_change_from_the_summary(
    make_runbook, aws, settings
) -> None:
    """Real engine on the emulator: day two kept whole, from the summary's keys to what ECS
    ends up with. The service and logs views poll ECS and CloudWatch Logs themselves (a change
    made in AWS must show without a key); scale, redeploy and a refused rollback; then, after
    a second release, a rollback that needs two registered revisions and reads the service
    back after it."""
    deployed(make_runbook)
    long = "a long line " + "that goes on " * 10 + "END"
    write_logs(aws, ["GET /healthz 200", "migrations applied", long])
    before = service(aws)["deployments"][0]["id"]
    app = app_for(make_runbook)
    async with app.run_test(size=SIZE) as pilot:
        await to_summary(pilot, app)
        assert "the service, live: deployments, tasks" in plain(app.screen.query_one("#day-two"))
        summary = app.screen
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, ServiceScreen))
        screen = app.service_screen
        await until(pilot, lambda: screen.status is not None)
        assert "flask-todo-service · ACTIVE · 1 of 1 running · flask-todo:1" in plain(
            screen.query_one("#service-headline")
        )
        assert "PRIMARY flask-todo:1 COMPLETED" in plain(screen.query_one("#deployments"))
        assert app.focused is screen.query_one("#service-body")  # keyboard: focus visible
        # Refreshed while on screen: a change in AWS shows without a key.
        aws.call("ecs", "update_service", cluster=CLUSTER, service=SERVICE, desiredCount=2)
        await until(pilot, lambda: screen.status.desired == 2)
        await pilot.press("escape")  # back to the summary as it was: no new look-up
        await until(pilot, lambda: isinstance(app.screen, SummaryScreen))
        assert app.screen is not summary and app.screen.summary is summary.summary
        assert "service" not in app._polls  # the poll stops with the view

        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, LogsScreen))
        await until(pilot, lambda: any("migrations applied" in x for x in app.logs_screen.lines))
        assert any(line.endswith("01234567 GET /healthz 200") for line in app.logs_screen.lines)
        await until(pilot, lambda: "→ and ← scroll" in on_screen(app))  # the long line's hint
        write_logs_later = aws.client("logs")
        write_logs_later.put_log_events(
            logGroupName="/ecs/flask-todo",
            logStreamName="todo-api/todo-api/0123456789abcdef",
            logEvents=[{"timestamp": int(time.time() * 1000), "message": "a new line"}],
        )
        await until(pilot, lambda: any("a new line" in x for x in app.logs_screen.lines))
        assert sum("migrations applied" in x for x in app.logs_screen.lines) == 1  # each once
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, ServiceScreen))

        await to_summary(pilot, app)
        await pilot.press("t")
        await until(pilot, lambda: isinstance(app.screen, DesiredCount))
        await pilot.press(*"5001")  # the field starts selected: typing replaces it
        await pilot.pause()
        assert "between 0 and 5000" in plain(app.screen.query_one("#count-rule"))
        await pilot.press("enter")  # refused: the dialog stays, nothing is called
        assert isinstance(app.screen, DesiredCount)
        field = app.screen.query_one(Input)
        field.value = "3"
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmRun))
        # From the count the service view read (set in AWS above).
        assert app.screen.question == "Change flask-todo-service from 2 to 3 tasks?"
        assert [r["operation"] for r in app.screen.rows] == ["UpdateService", "DescribeServices"]
        assert service(aws)["desiredCount"] == 2  # nothing before yes
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, ServiceScreen))  # watch it roll out
        await until(pilot, lambda: "done in" in str(app.service_screen.action_log.lines))
        assert service(aws)["desiredCount"] == 3
        assert app.runbook.state.settings["service"]["desired_count"] == 3
        assert app.progress["VI"].status == "done"  # a day-two action is not a section's run
        read_before = app._summary
        await pilot.press("escape")  # the summary, read again: the one before is stale
        await until(pilot, lambda: isinstance(app.screen, SummaryScreen))
        await until(pilot, lambda: app._summary is not None and app._summary is not read_before)
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, ServiceScreen))

        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmRun))
        assert app.screen.question == "Redeploy flask-todo-service (flask-todo:1)?"
        await pilot.press("n")  # declined: nothing changes
        await until(pilot, lambda: "not run" in str(app.service_screen.action_log.lines))
        assert service(aws)["deployments"][0]["id"] == before
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmRun))
        await pilot.press("y")
        await until(pilot, lambda: "done in" in str(app.service_screen.action_log.lines))
        assert service(aws)["deployments"][0]["id"] != before

        await pilot.press("b")  # one revision only: refused, with the reason
        await until(pilot, lambda: isinstance(app.screen, ErrorDialog))
        assert app.screen.problem.code == "NoPreviousRevision"
        assert plain(app.screen.query_one(".dialog-title")) == "Roll back refused"
        await pilot.press("escape")
        assert isinstance(app.screen, ServiceScreen)

    # A second release: a new revision, rolled out; then rolled back from the app.
    bigger = settings.replace("task_definition", cpu="512", memory="1024")
    release = make_runbook(settings=bigger)
    for section in ("V", "VI"):
        release.apply(release.step(section))
    app = app_for(make_runbook, settings=bigger)
    async with app.run_test(size=SIZE) as pilot:
        await to_summary(pilot, app)
        await pilot.press("b")
        await until(pilot, lambda: isinstance(app.screen, ConfirmRun))
        assert app.screen.question == "Roll flask-todo-service back to flask-todo:1?"
        assert any("Nothing is deregistered" in note for note in app.screen.notes)
        await pilot.press("y")
        await until(pilot, lambda: "done in" in str(app.service_screen.action_log.lines))
        assert service(aws)["taskDefinition"].endswith("flask-todo:1")
        # The service screen reads the service again after the rollback: no status until then.
        await until(
            pilot,
            lambda: getattr(app.service_screen.status, "revision", None) == "flask-todo:1",
        )


async def test_without_aws_the_day_two_keys_do_nothing(offline_app) -> None:
    app = offline_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b", "ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, SummaryScreen))
        await pilot.press("s", "l", "t", "d", "b")
        await pilot.pause()
        assert isinstance(app.screen, SummaryScreen)
        assert not app._worker_labels and not app._polls


async def test_following_after_a_burst_keeps_every_new_line(aws, settings, state_path) -> None:
    """A burst of over 200 lines while following, then a bigger one: none of it is cut away
    (only the view's first read keeps just the last 500 lines). The engine is scripted; the
    lines are CloudWatch Logs' on the emulator, read on the view's timer as often as it
    ticks (a Stubber answers an exact number of reads, not an open-ended follow)."""
    logs = aws.client("logs")
    logs.create_log_group(logGroupName="/ecs/flask-todo")
    app = make_app(
        lambda listener: ScriptedEngine(
            settings, aws, StateFile(state_path), emit=listener, sleep=lambda _s: None
        ),
        "sandbox",
        "local emulator (sandbox)",
    )
    app.poll_every = app.follow_every = 0.1
    reads: list[int] = []  # each read of the log group, as the view is given it
    given = app.logs_screen.add

    def add(lines: list[str], note: str = "") -> None:
        reads.append(len(lines))
        given(lines, note)

    app.logs_screen.add = add  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        app.action_logs()
        await until(pilot, lambda: isinstance(app.screen, LogsScreen))
        await until(pilot, lambda: reads)  # the first read: nothing yet
        write_logs(aws, [f"burst {i}" for i in range(300)])
        await until(pilot, lambda: any(x.endswith("burst 299") for x in app.logs_screen.lines))
        stream = "todo-api/todo-api/0123456789abcdef"
        now = int(time.time() * 1000)
        logs.put_log_events(
            logGroupName="/ecs/flask-todo",
            logStreamName=stream,
            logEvents=[{"timestamp": now + i, "message": f"after {i}"} for i in range(600)],
        )
        await until(pilot, lambda: any(x.endswith("after 599") for x in app.logs_screen.lines))
        lines = app.logs_screen.lines
        assert not any("earlier lines" in x for x in lines)
        assert sum("burst " in x for x in lines) == 300 and sum("after " in x for x in lines) == 600
