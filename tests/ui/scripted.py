"""A scripted engine for UI tests: the real engine's planning, with its runs told, not made.

Each section's calls are the real offline plan (step.plan with nothing discovered), confirmed
through the app's own dialog; then it sends the engine's real events in the order a run sends
them (started, each call made, each wait ticking then done, finished) and records the section
in the state file as the engine does. No AWS, no emulator: what the app shows of a run is
tested in milliseconds; a few tests keep full runs through the real engine on the emulator.
"""

from __future__ import annotations

from typing import Any

from runbook.engine import Confirm, Runbook, yes
from runbook.events import CallMade, StepFinished, StepStarted, Waiting
from runbook.plan import ApiCall
from runbook.steps import Step

CALL_SECONDS = 0.01


class ScriptedEngine(Runbook):
    """Built as the engine is (settings, no AWS, a state file, a listener); `apply` is told.

    waits: the elapsed seconds each wait reports before it is done (one Waiting each).
    """

    def __init__(self, *args: Any, waits: tuple[float, ...] = (0.0, 5.0), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.waits = waits
        self.applied: list[str] = []  # the sections run, in order

    def apply(self, step: Step, confirm: Confirm = yes) -> bool:
        if not step.enabled(self.settings):
            self.state.record(step.number, "skipped")
            self.emit(StepFinished(step.number, "skipped"))
            return True
        self.emit(StepStarted(step.number, step.title))
        actions = self.plan(step, offline=True)
        if actions and not confirm(step, actions):
            self.emit(StepFinished(step.number, "declined"))
            return False
        self.remember()
        self.state.record(step.number, "running")
        for action in actions:
            if isinstance(action, ApiCall):
                self.emit(
                    CallMade(
                        step.number,
                        action.service,
                        action.operation,
                        dict(action.params),
                        "ok",
                        CALL_SECONDS,
                        action.mutating,
                    )
                )
                continue
            for elapsed in self.waits:
                self.emit(Waiting(step.number, action.what, elapsed))
                self.sleep(0)  # where a closing app stops it, as in a real wait
            self.emit(Waiting(step.number, action.what, self.waits[-1], "done"))
        self.applied.append(step.number)
        self.state.record(step.number, "done", {})
        self.emit(StepFinished(step.number, "done", {}, CALL_SECONDS * len(actions)))
        return True
