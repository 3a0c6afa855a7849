"""Messages between the engine's worker threads, the screens and the app."""

from __future__ import annotations

from typing import Any

from textual.message import Message

from runbook.errors import Problem
from runbook.events import Event
from runbook.preflight import Finding
from runbook.service_status import ServiceStatus
from runbook.summary import Summary


class EngineEvent(Message):
    """An engine event, carried from a worker thread to the app (post_message is thread-safe)."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


class RunRequested(Message):
    """A section screen asks the app to run its section (or, in a dry run, to show its calls)."""

    def __init__(self, number: str) -> None:
        super().__init__()
        self.number = number


class SectionChosen(Message):
    """The person picked an entry of the section list: a section number or "end"."""

    def __init__(self, number: str) -> None:
        super().__init__()
        self.number = number


class PreflightDone(Message):
    def __init__(self, findings: list[Finding]) -> None:
        super().__init__()
        self.findings = findings


class DryRunPlanned(Message):
    """The calls a section would make, found with read-only calls (a dry run with access)."""

    def __init__(self, number: str, rows: list[dict[str, Any]]) -> None:
        super().__init__()
        self.number = number
        self.rows = rows


class SummaryReady(Message):
    def __init__(self, summary: Summary) -> None:
        super().__init__()
        self.summary = summary


class BeginRequested(Message):
    """Leave the welcome: resume at the first section not done, or forget saved progress first."""

    def __init__(self, *, start_over: bool = False) -> None:
        super().__init__()
        self.start_over = start_over


class SettingsEdited(Message):
    """A field left (or a box ticked, or a fix accepted) with valid values: record them."""

    def __init__(self, where: str) -> None:
        super().__init__()
        self.where = where


class DayTwoViewChanged(Message):
    """The service or logs view came into sight (shown) or left it: start or stop its reads."""

    def __init__(self, view: str, *, shown: bool) -> None:
        super().__init__()
        self.view = view  # service | logs
        self.shown = shown


class ServiceRead(Message):
    """One look at the running service (a poll); or why it could not be read this time."""

    def __init__(self, status: ServiceStatus | None, problem: Problem | None = None) -> None:
        super().__init__()
        self.status = status
        self.problem = problem


class LogLines(Message):
    """New lines of the app's log streams (oldest first), or a note on why there are none."""

    def __init__(self, lines: list[str], note: str = "") -> None:
        super().__init__()
        self.lines = lines
        self.note = note


class SectionsGone(Message):
    """Sections the saved run records as done of which nothing exists any more."""

    def __init__(self, numbers: list[str]) -> None:
        super().__init__()
        self.numbers = numbers


class TargetReached(Message):
    """Reaching the target (the sandbox) said something, or ended: ready, or failed."""

    def __init__(self, said: str, stage: str = "reaching") -> None:
        super().__init__()
        self.said = said
        self.stage = stage
