"""Events: the one interface between the engine and any front end (app, prompts, JSON log)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import IO, Any, Literal

# Named states, never read out of the words meant for people (the outcome, the detail).
# What became of one call: sent and done; already done (found made, or nothing to do); met a
# fault or a "not yet" and is being sent again; or failed (AWS refused, or retries ran out).
CallResult = Literal["ok", "already done", "sending again", "failed"]
# How a section (or a day-two action) ended without failing: done, nothing for it to do
# (skipped), or the person said no at its confirmation (declined). Failures are StepFailed.
StepOutcome = Literal["done", "skipped", "declined"]
NoticeLevel = Literal["info", "warning"]
# The app's image: logging in, building, pushing, then pushed (or found present), or failed.
ImagePhase = Literal["login", "build", "push", "pushed", "present", "failed"]


@dataclass(frozen=True)
class StepStarted:
    section: str
    title: str


@dataclass(frozen=True)
class CallMade:
    section: str
    service: str
    operation: str
    params: dict[str, Any]  # rendered: known values in, secrets masked
    # For people: "ok", "already done" (found made, or nothing to do), an AWS error code, or
    # "<code>, sending again" for an attempt that met a fault and is being retried.
    outcome: str
    seconds: float
    mutating: bool
    result: CallResult = "ok"  # the same, named: what logic reads


@dataclass(frozen=True)
class Waiting:
    section: str
    what: str
    elapsed: float
    detail: str = ""  # for people: what it is at; "done" once over
    over: bool = False  # what it waited for has come: the last event of this wait


@dataclass(frozen=True)
class Notice:
    section: str
    message: str
    level: NoticeLevel = "info"


@dataclass(frozen=True)
class StepFinished:
    section: str
    status: StepOutcome
    outputs: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass(frozen=True)
class StepFailed:
    section: str
    code: str
    message: str
    advice: str
    details: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImageProgress:
    """The app's image, built and pushed in the background while other sections run."""

    section: str  # the section whose run started it
    image: str  # <repository URI>:<version>
    phase: ImagePhase
    message: str  # one line, in the engine's words or the runbook's
    layers_done: int = 0
    layers_total: int = 0
    bytes_done: int = 0
    bytes_total: int = 0
    # False when only the counts moved: a front end may redraw one line instead of adding one.
    milestone: bool = True


@dataclass(frozen=True)
class Deployment:
    """One of an ECS service's deployments, as describe_services tells it."""

    id: str
    status: str  # PRIMARY (the one ECS rolls towards) | ACTIVE (older, being replaced)
    task_definition: str  # family:revision
    rollout: str  # IN_PROGRESS | COMPLETED | FAILED
    desired: int
    running: int
    pending: int
    failed: int
    reason: str = ""

    def line(self) -> str:
        """PRIMARY flask-todo:2 IN_PROGRESS: 1/2 running, 1 pending"""
        return (
            f"{self.status} {self.task_definition} {self.rollout}: "
            f"{self.running}/{self.desired} running"
            + (f", {self.pending} pending" if self.pending else "")
            + (f", {self.failed} failed" if self.failed else "")
        )


@dataclass(frozen=True)
class ServiceEvent:
    id: str
    message: str


@dataclass(frozen=True)
class Rollout:
    """A service rolling onto a revision: its deployments (old and new tasks) and its events
    since the rollout began, newest first; sent whenever either changes."""

    section: str
    service: str
    deployments: tuple[Deployment, ...]
    events: tuple[ServiceEvent, ...]


Event = (
    StepStarted | CallMade | Waiting | Notice | StepFinished | StepFailed | ImageProgress | Rollout
)
Listener = Callable[[Event], None]


def ignore(_: Event) -> None:
    """A listener for callers that want nothing."""


def fan_out(*listeners: Listener) -> Listener:
    def send(event: Event) -> None:
        for listener in listeners:
            listener(event)

    return send


def json_lines(stream: IO[str]) -> Listener:
    """A JSON-lines log: one object per event, with its type (whole lines: the image's
    background build writes from its own thread)."""
    lock = threading.Lock()

    def write(event: Event) -> None:
        line = json.dumps({"event": type(event).__name__, **asdict(event)}, default=str)
        with lock:
            stream.write(line + "\n")
            stream.flush()

    return write
