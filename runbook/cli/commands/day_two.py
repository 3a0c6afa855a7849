"""`runbook rollback`, `runbook redeploy`, `runbook scale N`: show the calls, ask, run, watch.

Each builds its plan from what exists (runbook/day_two.py), prints the calls and what to know,
asks (unless --yes), runs them with the engine, and prints the rollout as it goes (the
service's deployments when they change, its new events) until the service is stable or the
circuit breaker has rolled it back, explained.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from rich.text import Text

from runbook.cli.codes import BAD_INPUT, FAILED, OK
from runbook.events import Event, StepStarted, Waiting

if TYPE_CHECKING:
    from rich.console import Console

    from runbook.day_two import DayTwo
    from runbook.engine import EngineFor, Runbook

SECTION = "day two"  # runbook.day_two.SECTION


class Rollout:
    """While the service is waited for: its deployments when they change, its new events."""

    def __init__(self, console: Console) -> None:
        self.console = console
        # How it reads the service: the engine's, once it is built (this listener is part of
        # what it is built with, and it says nothing before it runs the action).
        self.runbook: Runbook | None = None
        self._deployments = ""
        self._events: set[tuple[str, str]] = set()

    def __call__(self, event: Event) -> None:
        if isinstance(event, StepStarted) and event.section == SECTION:
            self.look(quiet=True)  # what was there before: only news is printed
        elif isinstance(event, Waiting) and event.section == SECTION:
            self.look()

    def look(self, *, quiet: bool = False) -> None:
        from rich.padding import Padding

        from runbook import render_service, service_status

        if self.runbook is None:
            return
        try:
            status = service_status.read(self.runbook.aws, self.runbook.settings)
        except Exception:  # watching must never stop the action it watches
            return
        shown = render_service.deployments(status)
        if shown.plain != self._deployments and not quiet:
            self.console.print(Text("  deployments:", style="bold"))
            self.console.print(Padding(shown, (0, 0, 0, 4)))
        self._deployments = shown.plain
        for e in reversed(status.events):  # oldest first, as they happened
            key = (render_service.clock(e.at), e.message)
            if key not in self._events and not quiet:
                self.console.print(
                    Text.assemble("  event ", (key[0], "dim"), f" {e.message}"), soft_wrap=True
                )
            self._events.add(key)


def run(console: Console, engine_for: EngineFor, args: argparse.Namespace) -> int:
    from runbook.cli import render

    progress, rollout = render.Progress(console), Rollout(console)

    def show(event: Event) -> None:
        rollout(event)  # what the service did, before the wait's end is said
        progress(event)  # the title, the notes, each call, the wait, done

    with engine_for(show) as runbook:
        rollout.runbook = runbook
        try:
            return _run(console, runbook, args, progress)
        finally:
            progress.close()


def _run(console: Console, runbook: Runbook, args: argparse.Namespace, progress: Any) -> int:
    from rich.prompt import Confirm

    from runbook import day_two, day_two_run, render_service, service_status
    from runbook.cli import render
    from runbook.errors import RunbookError

    try:
        assert runbook.aws is not None
        count = getattr(args, "count", None)
        plan = day_two.plan(runbook.aws, runbook.settings, args.command, count)
    except RunbookError as exc:
        p = exc.problem
        render.error(console, p.code, p.message, p.advice)
        return BAD_INPUT if p.code == "InvalidSettings" else FAILED

    def confirm(plan: DayTwo) -> bool:
        if args.yes:
            return True
        progress.close()
        rows = runbook.rows(list(plan.actions))
        console.print(render.plan_table(rows, title="Calls to make", width=console.width))
        return Confirm.ask(plan.question, console=console, default=True)

    done = day_two_run.run(runbook, plan, confirm)
    progress.close()
    if not done:
        console.print("Nothing was changed.")
        return OK
    status = service_status.read(runbook.aws, runbook.settings)
    console.print(render_service.headline(status))
    console.print(Text("Deployments", style="bold"))
    console.print(render_service.deployments(status), soft_wrap=True)
    console.print(Text("Tasks", style="bold"))
    console.print(render_service.tasks(status), soft_wrap=True)
    return OK
