"""Plain prompt mode (`runbook deploy --plain`): the app's questions as line prompts, with rich.

Same defaults, same rules (the engine's field_errors), the same confirmation of each section's
calls. With assume_yes it asks nothing at all, for scripts and CI.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from typing import Any

import questionary
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from runbook.cli import render
from runbook.engine import EngineFor, Runbook
from runbook.errors import Problem, RunbookError
from runbook.events import Event, StepFailed, StepFinished, Waiting
from runbook.labels import label
from runbook.narration import Narrator
from runbook.plan import Action
from runbook.preflight import Finding
from runbook.settings import Settings
from runbook.steps import Step
from runbook.summary import Summary
from runbook.validation import field_errors
from runbook.words import explained

LEVEL_MARKS = {"ok": "[green]✓[/]", "info": "[cyan]·[/]", "warning": "[yellow]![/]"}


class Declined(Exception):
    """The person stopped answering (ctrl+c in a prompt)."""


def run_plain(
    engine_for: EngineFor, console: Console, assume_yes: bool = False, dry_run: bool = False
) -> int:
    """Walk the six sections in the terminal; the exit status (0 done, 1 failed, 130 stopped)."""
    printer = EventPrinter(console)
    try:
        with engine_for(printer) as runbook:
            return _walk(runbook, console, assume_yes=assume_yes, dry_run=dry_run)
    except RunbookError as exc:
        show_problem(console, exc.problem, exc.details)
        return 1
    except Declined:
        console.print("\nStopped. Run it again to continue where you left off.")
        return 130
    finally:
        printer.stop()


def _walk(runbook: Runbook, console: Console, *, assume_yes: bool, dry_run: bool) -> int:
    where = "dry run: no AWS calls" if runbook.aws is None else runbook.aws.label or "AWS"
    console.rule("[bold]fargate-runbook")
    console.print(
        f"Deploying [bold]{escape(runbook.settings.deployment.name)}[/] "
        f"to {escape(where)}, region {escape(runbook.settings.deployment.region)}"
        + (" [yellow](dry run: nothing will change)[/]" if dry_run else "")
    )
    _preflight(runbook, console, assume_yes)
    for step in runbook.steps:
        console.print()
        console.rule(f"[bold]Section {step.number} · {escape(step.title)}", align="left")
        console.print(explained(step.explanation, runbook.settings), style="dim")
        if not assume_yes:
            runbook.use_settings(ask_section(runbook.settings, step))
        if not step.enabled(runbook.settings):
            console.print(f"Section {step.number} is off with these settings: nothing to do.")
        elif dry_run:
            rows = (
                runbook.preview(step) if runbook.aws is None else runbook.rows(runbook.plan(step))
            )
            console.print(calls_table(rows, "would make, and nothing changed:"))
        if dry_run:
            continue
        confirm = (lambda _s, _a: True) if assume_yes else _confirmer(runbook, console)
        if not runbook.apply(step, confirm=confirm):
            console.print(
                f"Section {step.number} was not run; the next sections need what it makes, "
                "so this run stops here. Run it again to continue."
            )
            return 0
    if not dry_run:
        show_summary(console, runbook.summary(wait=True), runbook.next_steps())
    return 0


def _preflight(runbook: Runbook, console: Console, assume_yes: bool) -> None:
    findings = runbook.preflight()
    console.print("\n[bold]Checks before we start")
    for finding in findings:
        _show_finding(console, finding)
    for finding in findings:
        fix = finding.fix
        if fix is None:
            continue
        # Unattended, a fix is taken only for what would certainly fail (a warning).
        take = finding.level in ("warning", "error") if assume_yes else _ask_yes(fix.description)
        if take:
            runbook.use_settings(fix.apply(runbook.settings))
            console.print(f"  [green]✓[/] settings changed: {escape(fix.description)}")


def _show_finding(console: Console, finding: Finding) -> None:
    mark = LEVEL_MARKS.get(finding.level, "[red]✗[/]")
    console.print(f"  {mark} [bold]{escape(finding.topic)}[/]: {escape(finding.message)}")


# -- questions ----------------------------------------------------------------------------


def ask_section(settings: Settings, step: Step) -> Settings:
    """One question per field, prefilled with the current value, validated as typed."""
    for field in dataclasses.fields(settings.section(step.key)):
        current = getattr(settings.section(step.key), field.name)
        # The guide's words, and the config file's own key so an answer is easy to keep.
        question = f"{label(step.key, field.name)} ({step.key}.{field.name})"
        if isinstance(current, bool):
            answer: Any = questionary.confirm(question, default=current).ask()
        else:
            text = questionary.text(
                question,
                default=str(current),
                validate=validator(settings, step.key, field.name, type(current)),
            ).ask()
            answer = None if text is None else parse(text, type(current))
        if answer is None:
            raise Declined
        settings = settings.replace(step.key, **{field.name: answer})
    return settings


def parse(text: str, kind: type) -> Any:
    return int(text.strip()) if kind is int else text.strip()


def validator(settings: Settings, key: str, name: str, kind: type) -> Callable[[str], bool | str]:
    """questionary's validate=: True, or the engine's rule for this field."""

    def check(text: str) -> bool | str:
        try:
            value = parse(text, kind)
        except ValueError:
            return "must be a whole number"
        errors = field_errors(settings.replace(key, **{name: value}), key)
        return errors.get(name, True)

    return check


def _ask_yes(question: str) -> bool:
    answer = questionary.confirm(question[:1].upper() + question[1:] + "?", default=True).ask()
    if answer is None:
        raise Declined
    return bool(answer)


def _confirmer(runbook: Runbook, console: Console) -> Callable[[Step, list[Action]], bool]:
    def confirm(step: Step, actions: list[Action]) -> bool:
        rows = runbook.rows(actions)
        console.print(calls_table(rows, "will make:"))
        render.changes(console, runbook.differences(step))
        calls = sum(1 for row in rows if "wait" not in row)
        these = "this" if calls == 1 else "these"
        return _ask_yes(f"run {these} {render.count(calls, 'call')} for section {step.number}")

    return confirm


# -- output -------------------------------------------------------------------------------


def calls_table(rows: list[dict[str, Any]], caption: str) -> Table:
    table = Table(title=f"The calls this section {caption}", title_justify="left", box=None)
    table.add_column("#", style="cyan", justify="right")
    table.add_column("call", style="bold", no_wrap=True)
    table.add_column("why")
    number = 0
    for row in rows:
        if "wait" in row:
            table.add_row("⏳", f"{row['service']} {row['operation']}", f"wait: {row['wait']}")
        else:
            number += 1
            table.add_row(str(number), f"{row['service']} {row['operation']}", row["why"])
    if not rows:
        table.add_row("", "none", "everything this section makes already matches the settings")
    return table


def show_problem(console: Console, problem: Problem, details: tuple[str, ...] = ()) -> None:
    console.print(f"\n[bold red]✗ {escape(problem.code)}[/]: {escape(problem.message)}")
    console.print(f"[bold]What to do:[/] {escape(problem.advice)}")
    for line in details:
        console.print(f"  · {escape(line)}", style="dim")


def show_summary(
    console: Console, summary: Summary, next_steps: list[tuple[str, str]] | None = None
) -> None:
    console.print()
    console.rule("[bold]Summary", align="left")
    console.print(f"Address: [bold]{escape(summary.url) or 'none yet'}[/]")
    if summary.targets:
        table = Table("target", "port", "state", "why", box=None)
        for t in summary.targets:
            why = " ".join(part for part in (t.reason, t.description) if part)
            table.add_row(t.id, str(t.port), t.state, why)
        console.print(table)
    else:
        console.print("Targets: none registered with the target group", style="dim")
    if summary.probe is not None:
        mark = "[green]✓[/]" if summary.probe.ok else "[red]✗[/]"
        console.print(
            f"Health check: {mark} GET {escape(summary.probe.url)}: {escape(summary.probe.detail)}"
        )
    for note in summary.notes:
        console.print(note, style="italic")
    steps = Table.grid(padding=(0, 2))
    steps.add_column(style="cyan", no_wrap=True)
    steps.add_column()
    for command, what in next_steps or []:
        steps.add_row(command, what)
    console.print("\n[bold]Next steps")
    console.print(steps)


class EventPrinter:
    """Prints the narration of each event; a spinner with the elapsed time while the engine
    waits."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._narrator = Narrator()
        self._progress: Progress | None = None
        self._tasks: dict[str, TaskID] = {}
        self._lock = threading.RLock()

    def __call__(self, event: Event) -> None:
        with self._lock:  # the image's background build reports from its own thread
            self._print(event)

    def _print(self, event: Event) -> None:
        lines = self._narrator(event)
        if isinstance(event, StepFailed):
            self.stop()  # run_plain prints the problem with its advice
            return
        ends_a_wait = isinstance(event, Waiting) and event.detail == "done"
        if isinstance(event, StepFinished) or (ends_a_wait and event.what in self._tasks):
            self.stop()
        for line in lines:
            self.console.print(line, soft_wrap=True)
        if isinstance(event, Waiting) and not ends_a_wait:
            self._wait(event)

    def _wait(self, event: Waiting) -> None:
        if event.what in self._tasks:
            return
        if self._progress is None:
            # Rich refreshes on its own thread, so the elapsed time moves while we sleep.
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self._progress.start()
        self._tasks[event.what] = self._progress.add_task(f"waiting for {event.what}")

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
        self._progress = None
        self._tasks.clear()
