"""The app shows the image being built and pushed while the database is created (the section
that started it logs its steps, the header carries its counts on every screen), and section
VI's log follows a rollout: each deployment's tasks, and ECS's events."""

from __future__ import annotations

import copy
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from runbook.aws import Aws
from runbook.events import Deployment, ImageProgress, Rollout, ServiceEvent
from runbook.image import Build
from runbook.state import StateFile
from screens.messages import EngineEvent
from screens.section.call_preview import CallPreview
from tests.ui.conftest import SIZE, confirm_run, log_text, show_section, until
from tests.ui.scripted import ScriptedEngine
from tests.ui.test_rough_edges import on_screen


def database_creating_until(monkeypatch, aws: Aws, ready: threading.Event) -> None:
    """RDS answers "creating" (no endpoint yet) until the test says the database is ready."""
    real = aws.call

    def call(service: str, operation: str, /, **params: Any) -> dict[str, Any]:
        response = real(service, operation, **params)
        if operation == "describe_db_instances" and not ready.is_set():
            response = copy.deepcopy(response)
            for db in response["DBInstances"]:
                db["DBInstanceStatus"] = "creating"
                db.pop("Endpoint", None)
        return response

    monkeypatch.setattr(aws, "call", call)


def sections_i_to_iii_done_and_rds_slow(
    monkeypatch, make_runbook, aws: Aws, **runbook: Any
) -> threading.Event:
    """A saved run up to section III; the database stays "creating" until the event is set."""
    earlier = make_runbook(**runbook)
    for number in ("I", "II", "III"):
        earlier.apply(earlier.step(number))
    ready = threading.Event()
    database_creating_until(monkeypatch, aws, ready)
    return ready


@asynccontextmanager
async def section_iv_waiting(
    sandbox_app: Any, state_path: Any, ready: threading.Event, poll_blocks: float
) -> AsyncIterator[tuple[Any, Any]]:
    """The app resumed at section IV, run and confirmed, waiting for the database; each poll
    blocks until `ready` (or `poll_blocks` seconds), so the wait stays in progress. `ready`
    is set when the test is done with it."""
    app = sandbox_app(state=StateFile(state_path), sleep=lambda _s: ready.wait(poll_blocks))
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("r")
            await confirm_run(pilot, app)
            await until(pilot, lambda: app.progress["IV"].waiting)
            yield app, pilot
    finally:
        ready.set()


async def test_the_image_is_built_and_pushed_while_section_iv_waits(
    monkeypatch, make_runbook, sandbox_app, aws: Aws, state_path
) -> None:
    """Real engine on the emulator: the image job runs beside section IV's wait against the
    sandbox's registry."""
    ready = sections_i_to_iii_done_and_rds_slow(
        monkeypatch, make_runbook, aws, build=Build(engine=None)
    )
    async with section_iv_waiting(sandbox_app, state_path, ready, 10) as (app, pilot):
        # The database is still creating, and the image is already in ECR.
        await until(pilot, lambda: "⬆ image pushed:" in log_text(app, "IV"))
        assert app.progress["IV"].waiting.startswith("database")
        log = log_text(app, "IV")
        assert "⬆ image login: logging sandbox-docker in to" in log
        assert "⬆ image build: step 1/8: FROM python:3.11-slim" in log
        assert f"image {app.runbook.version} in ECR" in str(app.sub_title)  # every screen
        ready.set()
        await until(pilot, lambda: app.progress["IV"].status == "done")


async def test_the_header_carries_the_push_and_section_vi_follows_the_rollout(
    scripted_app,
) -> None:
    # What the screens make of the engine's events, posted as the engine posts them: no AWS.
    app = scripted_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b")
        image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/flask-todo:git-0123456789ab"
        app.post_message(
            EngineEvent(
                ImageProgress(
                    "III",
                    image,
                    "push",
                    "3/9 layers",
                    3,
                    9,
                    20_000_000,
                    75_000_000,
                    milestone=False,
                )
            )
        )
        await until(pilot, lambda: "image push 20/75 MB" in str(app.sub_title))
        await pilot.pause()
        assert "flask-todo · image push 20/75 MB" in on_screen(app)  # whole, at 80 columns
        rolling = Rollout(
            "VI",
            "flask-todo-service",
            (
                Deployment("ecs-svc/2", "PRIMARY", "flask-todo:2", "IN_PROGRESS", 1, 1, 0, 0),
                Deployment("ecs-svc/1", "ACTIVE", "flask-todo:1", "COMPLETED", 1, 1, 0, 0),
            ),
            (ServiceEvent("e1", "(service flask-todo-service) has started 1 tasks: (task t2)."),),
        )
        done = Rollout(
            "VI",
            "flask-todo-service",
            (Deployment("ecs-svc/2", "PRIMARY", "flask-todo:2", "COMPLETED", 1, 1, 0, 0),),
            (
                ServiceEvent("e3", "(service flask-todo-service) has reached a steady state."),
                ServiceEvent("e2", "(service flask-todo-service) has stopped 1 running tasks."),
                ServiceEvent("e1", "(service flask-todo-service) has started 1 tasks: (task t2)."),
            ),
        )
        await show_section(pilot, app, "VI")
        for event in (rolling, rolling, done):
            app.post_message(EngineEvent(event))
        await until(pilot, lambda: "steady state" in log_text(app, "VI"))
        lines = log_text(app, "VI").splitlines()
        assert [line.strip() for line in lines] == [
            "↻ PRIMARY flask-todo:2 IN_PROGRESS: 1/1 running",
            "↻ ACTIVE flask-todo:1 COMPLETED: 1/1 running",
            "(service flask-todo-service) has started 1 tasks: (task t2).",
            "↻ PRIMARY flask-todo:2 COMPLETED: 1/1 running",
            "(service flask-todo-service) has stopped 1 running tasks.",
            "(service flask-todo-service) has reached a steady state.",
        ]


async def test_without_an_engine_section_vi_shows_the_push_commands_by_version(
    scripted_app, settings, state_path
) -> None:
    earlier = ScriptedEngine(
        settings, None, StateFile(state_path), sleep=lambda _s: None, build=Build(engine=None)
    )
    for number in ("I", "II", "III", "IV", "V"):
        earlier.apply(earlier.step(number))
    uri = earlier.known["flask-todo-repository.repositoryUri"]
    app = scripted_app(state=StateFile(state_path), build=Build(engine=None))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await until(pilot, lambda: app.screen.name == "section-VI")
        await pilot.pause()
        waits = [r["wait"] for r in app.screen.query_one(CallPreview).rows if "wait" in r]
        assert waits and f"docker push {uri}:{app.runbook.version}" in waits[0]
        assert f"docker build --platform linux/amd64 -t {uri}:{app.runbook.version}" in waits[0]
        assert "<flask-todo-repository" not in waits[0]
