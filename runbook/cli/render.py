"""Rich renderings for the command line: plans, findings, progress, status, summary."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from runbook.day_two import SECTION as DAY_TWO
from runbook.day_two import rolls_forward
from runbook.events import (
    Event,
    ImageProgress,
    Rollout,
    StepFailed,
    StepStarted,
    Waiting,
)
from runbook.narration import IMAGE_RUNNING, Narrator, image_now, waiting_now
from runbook.words import count

# What the renderings are given: their modules load with the commands that use them.
if TYPE_CHECKING:
    from rich.status import Status

    from runbook.drift import Fact
    from runbook.inventory import Tagged
    from runbook.preflight import Finding
    from runbook.steps import Observed, Step
    from runbook.summary import Summary

LEVEL_STYLE = {"ok": "green", "info": "cyan", "warning": "yellow", "error": "bold red"}
MARK = {"ok": "✓", "info": "·", "warning": "!", "error": "✗"}


def _compact(params: dict[str, Any], width: int = 110) -> str:
    text = json.dumps(params, separators=(", ", ": "), default=str)
    return text if len(text) <= width else text[: width - 1] + "…"


def plan_table(
    rows: list[dict[str, Any]], *, title: str = "Plan", full: bool = False, width: int = 80
) -> Table:
    """One row per call: what it is for, then its parameters (in full, or one line of them)."""
    one_section = len({row["section"] for row in rows}) <= 1
    table = Table(
        title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, show_lines=full
    )
    table.add_column("#", justify="right", style="dim", no_wrap=True)
    if not one_section:
        table.add_column("§", no_wrap=True)
    table.add_column("call", no_wrap=True)
    table.add_column("why / parameters", ratio=1, overflow="fold")
    preview = max(40, width - 48)
    for n, row in enumerate(rows, 1):
        call = Text(f"{row['service']}.{row['operation']}", style="bold")
        params = (
            json.dumps(row["params"], indent=1, default=str)
            if full
            else _compact(row["params"], preview)
        )
        why = Text(f"wait: {row['wait']}" if "wait" in row else row.get("why", ""), style="italic")
        refused = [
            Text(f"\n✗ AWS would refuse {r['param']} = {r['value']}: {r['rule']}", style="bold red")
            for r in row.get("refused", ())
        ]
        cells = [
            str(n),
            *([] if one_section else [row["section"]]),
            call,
            Text.assemble(why, "\n", (params, "dim"), *refused),
        ]
        table.add_row(*cells)
    return table


def refused(
    console: Console,
    rows: list[dict[str, Any]],
    outcome: str = "nothing was sent, and a deploy stops before sending them",
) -> None:
    """The calls AWS's documented rules refuse: parameter, value, rule, fix, and the source."""
    console.print(
        f"[bold red]✗ {count(len(rows), 'call')} would be refused by AWS:[/] {outcome}.",
        highlight=False,
        soft_wrap=True,
    )
    # Plain Text: a value or a fix may hold brackets ("under [database]"), not markup.
    for row in rows:
        for r in row["refused"]:
            call = f"{row['service']}.{row['operation']}"
            said = f"  {call} {r['param']} = {r['value']}: {r['rule']}"
            console.print(Text(said), soft_wrap=True)
            console.print(Text.assemble("    ", ("fix:", "yellow"), f" {r['fix']}"), soft_wrap=True)
            console.print(Text(f"    rule: {r['source']}", style="dim"), soft_wrap=True)


def findings(console: Console, found: Iterable[Finding]) -> None:
    console.rule("Preflight")
    for f in found:
        style = LEVEL_STYLE[f.level]
        console.print(f"[{style}]{MARK[f.level]}[/] {f.topic}: {f.message}", highlight=False)
        if f.fix:
            console.print(f"    [yellow]fix:[/] {f.fix.description}", highlight=False)


class Progress:
    """Prints the narration of events as they come, under a rule per section; a wait's time
    ticks on a status line (on a terminal) with the image build's latest counts beside it."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._narrator = Narrator()
        self._status: Status | None = None
        self._waiting_text = ""
        self._image = ""  # the background build's latest counts, shown beside a wait
        self._lock = threading.RLock()

    def __call__(self, event: Event) -> None:
        with self._lock:  # the image's background build reports from its own thread
            self._show(event)

    def _print(self, lines: list[Text]) -> None:
        for line in lines:
            self.console.print(line, soft_wrap=True)

    def _show(self, event: Event) -> None:
        lines = self._narrator(event)
        # The image builds in the background and a rollout is part of a wait: neither ends
        # the wait's status line; their news prints above it.
        if isinstance(event, Waiting):
            self._waiting(event, lines)
            return
        if isinstance(event, ImageProgress):
            running = event.phase in IMAGE_RUNNING
            self._image = image_now(event) if running else ""
            self._print(lines)
            self._show_status()
            return
        if isinstance(event, Rollout):
            self._print(lines)
            return
        self._stop_status()
        if isinstance(event, StepStarted):  # a section's heading; a day-two action's title
            heading = event.title if event.section == DAY_TWO else f"{event.section}. {event.title}"
            self.console.rule(Text(heading, style="bold"))
        if isinstance(event, StepFailed):
            # The command prints the failure once, with its advice, when the engine's error
            # reaches it (printing it here too showed it twice).
            return
        self._print(lines)

    def _waiting(self, event: Waiting, lines: list[Text]) -> None:
        if event.detail == "done":
            self._stop_status()
            self._print(lines)
            return
        self._print(lines)  # the wait begins: said once
        now = waiting_now(event.what, event.elapsed, event.detail)
        if self.console.is_terminal:
            self._waiting_text = now
            self._show_status()
        else:
            self.console.print(f"  … {now}", highlight=False)

    def _show_status(self) -> None:
        if not (self.console.is_terminal and self._waiting_text):
            return
        text = self._waiting_text + (f" · {self._image}" if self._image else "")
        if self._status is None:
            self._status = self.console.status(text)
            self._status.start()
        else:
            self._status.update(text)

    def _stop_status(self) -> None:
        self._waiting_text = ""
        if self._status is not None:
            self._status.stop()
            self._status = None

    def close(self) -> None:
        self._stop_status()


def error(
    console: Console, code: str, message: str, advice: str, details: Iterable[str] = ()
) -> None:
    # Soft-wrapped: people copy error lines, so the terminal wraps them, not rich.
    console.print(f"[bold red]✗ {code}[/]: {message}", highlight=False, soft_wrap=True)
    for line in details:
        console.print(f"    {line}", highlight=False, soft_wrap=True)
    console.print(f"[yellow]What to do:[/] {advice}", highlight=False, soft_wrap=True)


def short_id(resource_id: str) -> str:
    """sg-123 stays; an ARN becomes its last part, which is what the console shows."""
    tail = resource_id.removesuffix(":*")
    return tail.rsplit("/", 1)[-1].rsplit(":", 1)[-1] if tail else ""


def status_table(observed: list[tuple[Step, Observed]]) -> Table:
    # Four columns, the ID under its name: it has to fit 80 columns.
    table = Table(title="Resources", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("§", no_wrap=True)
    table.add_column("kind", min_width=10, overflow="fold")
    table.add_column("name / id", min_width=24, overflow="fold")
    table.add_column("state", min_width=10, overflow="fold")
    for step, seen in observed:
        for r in seen.resources:
            state = Text(r.state, style="green" if r.exists else "dim")
            if r.exists and not r.ours:
                state.append(" (not ours)", style="yellow")
            if r.reason:  # why it failed, where the person looks first
                state.append(f"\n{r.reason}", style="red")
            ident = short_id(r.id)
            name = Text(r.name)
            # The emulator spells ECS's service-linked role AWSServiceRoleForecs; AWS's
            # names compare without case, so the same name once is enough.
            if ident and ident.lower() != r.name.lower():
                name.append(f"\n{ident}", style="dim")
            table.add_row(step.number, r.kind, name, state)
    return table


def changes(console: Console, found: list[Fact]) -> None:
    """Where what exists differs from the settings: how each is applied, or why it is not."""
    if not found:
        return
    console.print(Text("Changes to what exists:", style="bold"))
    for fact in found:
        mark, style = ("→", "cyan") if fact.in_place else ("!", "yellow")
        console.print(Text.assemble((f"  {mark} ", style), fact.explain()), soft_wrap=True)


def facts(console: Console, found: list[Fact]) -> None:
    """The settings that matter, as AWS has them; the settings' value only where it differs."""
    if not found:
        return
    table = Table(
        title="Settings that matter", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False
    )
    table.add_column("§", no_wrap=True)
    table.add_column("setting", overflow="fold")
    table.add_column("in AWS", overflow="fold", ratio=1)
    table.add_column("the settings say", overflow="fold")
    for f in found:
        if f.differs:
            wanted = Text(str(f.wanted), style="yellow")
            how = "deploy changes it" if f.in_place else "not in place: see plan"
            wanted.append(f"\n{how}", style="dim")
        else:
            wanted = Text("the same", style="dim")
        table.add_row(f.section, f.label, str(f.current), wanted)
    console.print(table)
    # As plan and deploy say it: the next deploy undoes a rollback, and which one.
    for warning in rolls_forward(found):
        console.print(Text(f"! {warning}", style="yellow"), soft_wrap=True)


def leftovers(console: Console, found: list[Tagged], unchecked: list[str]) -> None:
    """What carries our tag under names the settings no longer give, and what was not checked."""
    if found:
        table = Table(
            title="Also ours, under names no longer in the settings (destroy removes them)",
            title_justify="left",
            box=box.SIMPLE_HEAD,
            pad_edge=False,
        )
        table.add_column("kind", overflow="fold")
        table.add_column("name / id", overflow="fold")
        table.add_column("state", overflow="fold")
        for t in found:
            name = Text(t.name)
            ident = short_id(t.id)
            if ident and ident != t.name:
                name.append(f"\n{ident}", style="dim")
            table.add_row(t.kind, name, Text(t.state, style="green"))
        console.print(table)
    for note in unchecked:
        console.print(Text(f"! not looked at by tag: {note}", style="yellow"), soft_wrap=True)


def destroy_report(console: Console, report: list[Any], state_path: Path | None) -> None:
    """Exactly what destroy removed, what was already gone, and what it could not remove."""
    console.rule("Destroy report")
    removed = [r for r in report if r.outcome == "removed"]
    gone = [r for r in report if r.outcome == "already gone"]
    failed = [r for r in report if r.outcome in ("failed", "not confirmed")]
    for title, rows, mark, style in (
        ("Removed", removed, "✓", "green"),
        ("Already gone", gone, "·", "dim"),
        ("Could not remove", failed, "✗", "red"),
    ):
        if not rows:
            continue
        console.print(Text(f"{title} ({len(rows)}):", style="bold"))
        for r in rows:
            line = Text.assemble((f"  {mark} ", style), f"{r.section}: {r.what}")
            if r.reason:
                line.append(f"\n      {r.reason}", style="dim")
            if r.advice:
                line.append(f"\n      What to do: {r.advice}", style="yellow")
            console.print(line, soft_wrap=True)
    if failed:
        console.print(
            Text(
                f"{count(len(failed), 'resource')} of this deployment could not be removed "
                "(reasons above). Run `runbook destroy` again once they are free: it only "
                "looks for what is left.",
                style="yellow",
            ),
            soft_wrap=True,
        )
    else:
        kept = (
            f" Its settings stay recorded in {state_path}: a deploy would make the same "
            "again; delete the file to forget them."
            if state_path is not None
            else ""
        )
        console.print(
            Text(
                f"Deleted everything this deployment made ({count(len(removed), 'call')}).{kept}",
                style="green",
            ),
            soft_wrap=True,
        )


def next_steps(console: Console, steps: list[tuple[str, str]]) -> None:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    for command, what in steps:
        grid.add_row(command, what)
    console.print("Next:")
    console.print(grid)


def summary(console: Console, result: Summary) -> None:
    console.rule("Summary")
    if not result.dns_name:
        for note in result.notes:
            console.print(note)
        return
    console.print(f"Load balancer: [bold]{result.url}[/]", highlight=False)
    if result.local_url:  # the sandbox: where it answers on this machine
        console.print(f"On this machine: [bold]{result.local_url}[/]", highlight=False)
    table = Table(title="Target health", title_justify="left")
    for column in ("target", "port", "state", "reason"):
        table.add_column(column)
    for t in result.targets:
        style = "green" if t.state == "healthy" else "yellow"
        table.add_row(
            t.id,
            str(t.port),
            Text(t.state, style=style),
            " ".join(x for x in (t.reason, t.description) if x),
        )
    if not result.targets:
        table.add_row("(none registered)", "", "", "")
    console.print(table)
    if result.probe:
        mark = "[green]✓[/]" if result.probe.ok else "[yellow]![/]"
        console.print(f"{mark} GET {result.probe.url}: {result.probe.detail}", highlight=False)
    for note in result.notes:
        console.print(f"[cyan]Note:[/] {note}", highlight=False)
