"""A section's live log: each call and its result, and what the engine is waiting for, ticking."""

from __future__ import annotations

import time
from typing import Any

from rich.console import RenderableType
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from runbook.events import (
    CallMade,
    Event,
    ImageProgress,
    Notice,
    Rollout,
    StepFailed,
    StepFinished,
    StepStarted,
    Waiting,
)
from runbook.model_check import operation_name
from runbook.typical_waits import spoken, typical
from screens.hanging import HangingLines
from screens.progress import elapsed

MAX_LINES = 1000


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"


def waiting_line(
    what: str, since: float | None, now: float | None = None, detail: str = ""
) -> RenderableType:
    """⏳ what, the elapsed m:ss, and against AWS's usual time, a bar and the usual span; or
    what the wait's own source says (detail: the image build's step, say)."""
    now = time.monotonic() if now is None else now
    grid = Table.grid(padding=(0, 1), expand=True)
    grid.add_column(ratio=1)
    grid.add_column(no_wrap=True, justify="right")
    head = Text.assemble(("⏳ ", "yellow"), what, overflow="ellipsis", no_wrap=True)
    seconds = 0.0 if since is None else max(0.0, now - since)
    right = Text(elapsed(since, now), style="bold")
    span = typical(what)
    if span is None:
        grid.add_row(head, right)
        if detail:
            grid.add_row(Text(detail, style="dim", overflow="ellipsis", no_wrap=True), "")
        return grid
    high = span[1]
    bar = ProgressBar(total=high, completed=min(seconds, high), width=12)
    note = spoken(span) if seconds <= high else f"longer than the usual {high // 60} min"
    grid.add_row(head, right)
    below = Table.grid(padding=(0, 1))
    below.add_row(bar, Text(note, style="dim"))
    outer = Table.grid(expand=True)
    outer.add_row(grid)
    outer.add_row(below)
    return outer


def image_line(event: ImageProgress) -> RenderableType:
    """⬆ the image being built or pushed: what it does, and the bytes pushed, as a bar."""
    grid = Table.grid(padding=(0, 1), expand=True)
    grid.add_column(ratio=1)
    grid.add_column(no_wrap=True, justify="right")
    grid.add_row(
        Text.assemble(
            ("⬆ ", "cyan"),
            f"image {event.phase}: {event.message}",
            no_wrap=True,
            overflow="ellipsis",
        ),
        Text(f"{event.layers_done}/{event.layers_total} layers" if event.layers_total else ""),
    )
    if event.bytes_total:
        bar = ProgressBar(total=event.bytes_total, completed=event.bytes_done, width=24)
        below = Table.grid(padding=(0, 1))
        below.add_row(
            bar, Text(f"{event.bytes_done / 1e6:.1f} of {event.bytes_total / 1e6:.1f} MB", "dim")
        )
        grid.add_row(below, "")
    return grid


class RunLog(Vertical):
    """Fed the engine's events for one section; ticks the elapsed time of a wait itself.

    The lines are re-wrapped to the panel's width whenever it changes, so a long line (an
    ARN, the image's push commands) is never cut off, and continues under its own text.
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lines: list[Text] = []  # also what tests read
        self._waiting = ""
        self._waiting_since: float | None = None
        self._waiting_detail = ""
        self._calls = 0
        self._warnings = 0
        self._deployments: dict[str, str] = {}
        self._events: set[str] = set()

    def compose(self) -> ComposeResult:
        yield Static("", id="image-line")
        yield Static("", id="waiting-line")
        with VerticalScroll(id="log-lines"):
            yield Static("", id="log-text")

    def on_mount(self) -> None:
        self.border_title = "Log"
        self.query_one("#waiting-line").display = False
        self.query_one("#image-line").display = False
        # Waiting events come every ~5 s; the person should see the seconds move.
        self.set_interval(1.0, self._tick)

    @property
    def waiting(self) -> str:
        return self._waiting

    def write(self, text: Text | str, style: str = "") -> None:
        line = text if isinstance(text, Text) else Text(text, style=style)
        self.lines.append(line)
        del self.lines[:-MAX_LINES]
        scroller = self.query_one("#log-lines", VerticalScroll)
        following = scroller.scroll_y >= scroller.max_scroll_y - 1
        self.query_one("#log-text", Static).update(HangingLines(self.lines))
        self.display = True
        if following:
            scroller.call_after_refresh(scroller.scroll_end, animate=False)

    def record(self, event: Event) -> None:
        if isinstance(event, StepStarted):
            self._calls = self._warnings = 0
            self.write(f"Section {event.section}: looking at what exists…", "bold")
        elif isinstance(event, CallMade):
            self._calls += 1
            self.write(self._call_line(event))
        elif isinstance(event, Waiting):
            self._wait(event)
        elif isinstance(event, ImageProgress):
            self._image(event)
        elif isinstance(event, Rollout):
            self._rollout(event)
        elif isinstance(event, Notice):
            warning = event.level == "warning"
            self._warnings += warning
            self.write(f"  {'! ' if warning else ''}{event.message}", "yellow" if warning else "")
        elif isinstance(event, StepFinished):
            self._stop_waiting()
            if event.status == "done":
                self.write(
                    f"✓ Section {event.section} done in {event.seconds} s{self._outcome()}",
                    "green",
                )
            elif event.status == "declined":
                self.write(
                    f"- Section {event.section} not run: you cancelled; nothing changed", "dim"
                )
            else:
                self.write(f"- Section {event.section} is off with these settings: nothing to do")
        elif isinstance(event, StepFailed):
            self._stop_waiting()
            self.write(f"✗ {event.code}: {event.message}", "bold red")
            for line in event.details:  # the why: RDS's events, stopped tasks' reasons
                self.write(f"  {line}", "red")
            if event.advice:
                self.write(f"  What to do: {event.advice}")

    def _outcome(self) -> str:
        if self._calls:
            return ""
        if self._warnings:
            return " (no call could change what differs: see above)"
        return " (nothing to change: it all matches the settings)"

    def dry_run(self, number: str, rows: list[dict[str, Any]], *, off: bool = False) -> None:
        if off:
            self.write(f"Dry run: section {number} is off with these settings: no calls.", "bold")
            return
        self.write(f"Dry run: section {number} would make these calls; nothing changed.", "bold")
        for row in rows:
            what = f"wait: {row['wait']}" if "wait" in row else row["why"]
            self.write(f"  · {row['service']} {row['operation']}")
            self.write(f"      {what}", "dim")
        if not rows:
            self.write("  · nothing: everything this section makes already matches the settings")

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

    def _image(self, event: ImageProgress) -> None:
        """The background build: its steps in the log, its live counts on a line of its own."""
        if event.milestone:
            style = {"failed": "red", "pushed": "green", "present": "green"}.get(event.phase, "")
            self.write(f"  ⬆ image {event.phase}: {event.message}", style)
        line = self.query_one("#image-line", Static)
        running = event.phase in ("login", "build", "push")
        line.display = running
        if running:
            line.update(image_line(event))

    def _rollout(self, event: Rollout) -> None:
        """Each deployment's counts when they change (old and new tasks), then ECS's events."""
        for d in event.deployments:
            text = d.line()
            if self._deployments.get(d.id) != text:
                self._deployments[d.id] = text
                failed = d.rollout == "FAILED"
                self.write(f"  ↻ {text}", "red" if failed else "cyan")
        for e in reversed(event.events):  # oldest first, as they happened
            if e.id not in self._events:
                self._events.add(e.id)
                self.write(f"      {e.message}", "dim")

    def _wait(self, event: Waiting) -> None:
        if event.detail == "done":
            after = f" after {_clock(event.elapsed)}" if event.elapsed >= 1 else ""
            self.write(f"  ✓ {event.what}: ready{after}", "green")
            self._stop_waiting()
            return
        if event.what != self._waiting:
            self._waiting = event.what
            self._waiting_since = time.monotonic() - event.elapsed
            span = typical(event.what)
            usual = f" ({spoken(span)})" if span else ""
            self.write(f"  ⏳ waiting for {event.what}{usual}", "yellow")
        self._waiting_detail = event.detail
        self._tick()

    def _stop_waiting(self) -> None:
        self._waiting, self._waiting_since, self._waiting_detail = "", None, ""
        self.query_one("#waiting-line").display = False

    def _tick(self) -> None:
        if not self._waiting:
            return
        line = self.query_one("#waiting-line", Static)
        line.update(waiting_line(self._waiting, self._waiting_since, detail=self._waiting_detail))
        line.display = True
