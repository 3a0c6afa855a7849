"""One narration: the command line, the plain prompts and the app's log word each event alike."""

from __future__ import annotations

import io

from rich.console import Console

from runbook.cli.prompts import EventPrinter
from runbook.cli.render import Progress
from runbook.events import (
    CallMade,
    Deployment,
    Event,
    Notice,
    Rollout,
    ServiceEvent,
    StepFinished,
    StepStarted,
    Waiting,
)
from runbook.narration import Narrator

DEPLOYMENT = Deployment("ecs-svc/1", "PRIMARY", "flask-todo:2", "IN_PROGRESS", 1, 0, 1, 0)
RUN: list[Event] = [
    StepStarted("VI", "Service"),
    CallMade("VI", "ecs", "create_service", {}, "ok", 0.25, True),
    CallMade(
        "VI", "ecs", "describe_services", {}, "ThrottlingException, sending again", 0.01, False
    ),
    Notice("VI", "the next deploy rolls forward", "warning"),
    Waiting("VI", "service flask-todo-service to be stable", 5.0),
    Rollout(
        "VI", "flask-todo-service", (DEPLOYMENT,), (ServiceEvent("e1", "has started 1 tasks"),)
    ),
    Waiting("VI", "service flask-todo-service to be stable", 65.0, "done"),
    StepFinished("VI", "done", seconds=70.0),
    StepFinished("VIII", "skipped"),
]


def said_by(listener_for) -> str:
    console = Console(width=200, file=io.StringIO(), color_system=None, force_terminal=False)
    listener = listener_for(console)
    for event in RUN:
        listener(event)
    return console.file.getvalue()  # type: ignore[attr-defined]


def test_the_command_line_and_the_prompts_print_the_narrations_lines() -> None:
    narrator = Narrator()
    lines = [line.plain for event in RUN for line in narrator(event)]
    assert lines == [
        "Section VI: looking at what exists…",
        "  → ecs CreateService  ok  0.25 s",
        "  ↻ ecs DescribeServices  ThrottlingException, sending again  0.01 s",
        "  ! the next deploy rolls forward",
        "  ⏳ waiting for service flask-todo-service to be stable (usually 1 to 5 min)",
        "  ↻ PRIMARY flask-todo:2 IN_PROGRESS: 0/1 running, 1 pending",
        "      has started 1 tasks",
        "  ✓ service flask-todo-service to be stable: ready after 1:05",
        "✓ Section VI done in 70.0 s",
        "- Section VIII · Auto scaling is off with these settings: nothing to do",
    ]
    for out in (said_by(Progress), said_by(EventPrinter)):
        for line in lines:
            assert line in out
