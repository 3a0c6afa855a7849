"""Carrying out a day-two action (runbook/day_two.py plans it): once confirmed, the calls, what
changed kept, and the wait for the service, reported as events like a section's."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from runbook import day_two
from runbook.errors import RunbookError, problem_from
from runbook.events import Notice, StepFailed, StepFinished, StepStarted
from runbook.explain import explain
from runbook.plan import ApiCall, Wait

if TYPE_CHECKING:
    from runbook.engine import Runbook

ConfirmDayTwo = Callable[[day_two.DayTwo], bool]


def yes(_plan: day_two.DayTwo) -> bool:
    return True


def run(engine: Runbook, plan: day_two.DayTwo, confirm: ConfirmDayTwo = yes) -> bool:
    """Once confirmed, make the calls, keep what changed, and wait for the service.

    A changed desired count is a setting: it is recorded as soon as AWS has taken it,
    before the wait, so the next deploy keeps it whatever the rollout does.
    """
    started = engine.clock()
    section = day_two.SECTION
    engine.emit(StepStarted(section, plan.title))
    for note in plan.notes:
        engine.emit(Notice(section, note))
    if not plan.actions:
        engine.emit(Notice(section, "Nothing to change: it is so already."))
        _keep(engine, plan)
        engine.emit(StepFinished(section, "done"))
        return True
    if not confirm(plan):
        engine.emit(StepFinished(section, "declined"))
        return False
    executor = engine.executor()
    try:
        for action in plan.actions:
            if isinstance(action, ApiCall):
                executor.call(action)
        _keep(engine, plan)
        for action in plan.actions:
            if isinstance(action, Wait):
                executor.wait(action)
    except Exception as exc:  # as a section's: a Problem a person can act on
        problem = problem_from(exc)
        details = tuple(
            getattr(exc, "details", ()) or explain(engine.aws, engine.settings, problem.code)
        )
        engine.emit(StepFailed(section, problem.code, problem.message, problem.advice, details))
        raise RunbookError(problem, details) from exc
    engine.emit(StepFinished(section, "done", seconds=round(engine.clock() - started, 1)))
    return True


def _keep(engine: Runbook, plan: day_two.DayTwo) -> None:
    if plan.settings is not None:
        engine.use_settings(plan.settings)
        engine.remember()
    if plan.record:
        engine.state.record_day_two(plan.kind, day_two.stamped(plan.record))
