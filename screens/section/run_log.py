"""A section's live log: each call and its result, and what the engine is waiting for, ticking."""

from __future__ import annotations

import time
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import RichLog, Static

from runbook.events import CallMade, Event, Notice, StepFailed, StepFinished, StepStarted, Waiting
from runbook.model_check import operation_name
from screens.progress import elapsed


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"


class RunLog(Vertical):
    """Fed the engine's events for one section; ticks the elapsed time of a wait itself."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lines: list[Text] = []  # also what tests read
        self._waiting = ""
        self._waiting_since: float | None = None
        self._calls = 0

    def compose(self) -> ComposeResult:
        yield Static("", id="waiting-line")
        yield RichLog(wrap=True, markup=False, max_lines=1000, id="log-lines")

    def on_mount(self) -> None:
        self.border_title = "Log"
        self.query_one("#waiting-line").display = False
        # Waiting events come every ~5 s; the person should see the seconds move.
        self.set_interval(1.0, self._tick)

    @property
    def waiting(self) -> str:
        return self._waiting

    def write(self, text: Text | str, style: str = "") -> None:
        line = text if isinstance(text, Text) else Text(text, style=style)
        self.lines.append(line)
        self.query_one("#log-lines", RichLog).write(line)
        self.display = True

    def record(self, event: Event) -> None:
        if isinstance(event, StepStarted):
            self._calls = 0
            self.write(f"Section {event.section}: looking at what exists…", "bold")
        elif isinstance(event, CallMade):
            self._calls += 1
            self.write(self._call_line(event))
        elif isinstance(event, Waiting):
            self._wait(event)
        elif isinstance(event, Notice):
            self.write(f"  {event.message}", "yellow" if event.level == "warning" else "")
        elif isinstance(event, StepFinished):
            self._stop_waiting()
            if event.status == "done":
                nothing = " (nothing to change: it was all there)" if not self._calls else ""
                self.write(f"✓ Section {event.section} done in {event.seconds} s{nothing}", "green")
            else:
                self.write(f"- Section {event.section} not run: you declined", "dim")
        elif isinstance(event, StepFailed):
            self._stop_waiting()
            self.write(f"✗ {event.code}: {event.message}", "bold red")
            if event.advice:
                self.write(f"  What to do: {event.advice}")

    def dry_run(self, number: str, rows: list[dict[str, Any]]) -> None:
        self.write(f"Dry run: section {number} would make these calls; nothing changed.", "bold")
        for row in rows:
            what = f"wait: {row['wait']}" if "wait" in row else row["why"]
            self.write(f"  · {row['service']} {row['operation']}")
            self.write(f"      {what}", "dim")
        if not rows:
            self.write("  · nothing: everything this section makes already exists")

    def _call_line(self, event: CallMade) -> Text:
        line = Text("  → " if event.mutating else "  ? ", style="cyan")
        line.append(f"{event.service} {operation_name(event.service, event.operation)}")
        outcome = event.outcome
        line.append(
            f"  {outcome}",
            style="green" if outcome == "ok" else "dim" if outcome == "already done" else "red",
        )
        line.append(f"  {event.seconds:.2f} s", style="dim")
        return line

    def _wait(self, event: Waiting) -> None:
        if event.detail == "done":
            after = f" after {_clock(event.elapsed)}" if event.elapsed >= 1 else ""
            self.write(f"  ✓ {event.what}: ready{after}", "green")
            self._stop_waiting()
            return
        if event.what != self._waiting:
            self._waiting = event.what
            self._waiting_since = time.monotonic() - event.elapsed
            self.write(f"  ⏳ waiting for {event.what}", "yellow")
        self._tick()

    def _stop_waiting(self) -> None:
        self._waiting, self._waiting_since = "", None
        self.query_one("#waiting-line").display = False

    def _tick(self) -> None:
        if not self._waiting:
            return
        line = self.query_one("#waiting-line", Static)
        since = elapsed(self._waiting_since)
        line.update(Text.assemble(("⏳ ", "yellow"), f"{self._waiting}  ", (since, "bold")))
        line.display = True
