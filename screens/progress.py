"""Where each section stands in this session: status, and what it is waiting for since when."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from runbook.events import Event, StepFailed, StepFinished, StepStarted, Waiting
from runbook.state import StateFile
from runbook.steps import Step

# The summary is the seventh entry of the section list; the engine calls it "end".
SUMMARY = "end"


@dataclass(frozen=True)
class SectionProgress:
    status: str = "to do"
    started: float | None = None  # monotonic, while running
    waiting: str = ""  # what the engine is waiting for, while it waits
    waiting_since: float | None = None
    before: str = "to do"  # the status before this run: a declined run goes back to it

    @property
    def running(self) -> bool:
        return self.status == "running"


Progress = dict[str, SectionProgress]


def from_state(steps: tuple[Step, ...], state: StateFile) -> Progress:
    """The state file's statuses; a "running" left by a closed session was interrupted."""
    progress: Progress = {}
    for step in steps:
        status = state.get(step.number).status
        progress[step.number] = SectionProgress("interrupted" if status == "running" else status)
    progress[SUMMARY] = SectionProgress()
    return progress


def advance(progress: Progress, event: Event, now: float | None = None) -> Progress:
    """The progress after one engine event (a new dict, so reactive watchers fire)."""
    now = time.monotonic() if now is None else now
    current = progress.get(event.section)
    if current is None:
        return progress
    if isinstance(event, StepStarted):
        updated = SectionProgress("running", started=now, before=current.status)
    elif isinstance(event, Waiting):
        if event.detail == "done":
            updated = replace(current, waiting="", waiting_since=None)
        elif current.waiting == event.what:
            return progress
        else:
            updated = replace(current, waiting=event.what, waiting_since=now - event.elapsed)
    elif isinstance(event, StepFinished) and event.status == "declined":
        updated = SectionProgress(current.before)  # nothing was done: as it was
    elif isinstance(event, StepFinished):
        updated = SectionProgress(event.status)
    elif isinstance(event, StepFailed):
        updated = SectionProgress("failed")
    else:
        return progress
    return {**progress, event.section: updated}


def elapsed(since: float | None, now: float | None = None) -> str:
    """m:ss since a monotonic time."""
    if since is None:
        return ""
    seconds = int((time.monotonic() if now is None else now) - since)
    return f"{seconds // 60}:{seconds % 60:02d}"
