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

from runbook.events import Event, ImageProgress, StepFailed, StepFinished, Waiting
from runbook.narration import IMAGE_RUNNING, Narrator, image_now
from runbook.typical_waits import spoken, typical
from screens.hanging import HangingLines
from screens.progress import elapsed

MAX_LINES = 1000


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
            image_now(event),
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
        self._narrator = Narrator()

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
        """The narration's lines (the same words the command line prints), and the live lines
        of a wait and of the image build, which only this log shows ticking."""
        for line in self._narrator(event):
            self.write(line)
        if isinstance(event, Waiting):
            self._wait(event)
        elif isinstance(event, ImageProgress):
            self._image(event)
        elif isinstance(event, StepFinished | StepFailed):
            self._stop_waiting()

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

    def _image(self, event: ImageProgress) -> None:
        """The background build's live counts, on a line of their own while it runs."""
        line = self.query_one("#image-line", Static)
        running = event.phase in IMAGE_RUNNING
        line.display = running
        if running:
            line.update(image_line(event))

    def _wait(self, event: Waiting) -> None:
        if event.detail == "done":
            self._stop_waiting()
            return
        if event.what != self._waiting:
            self._waiting = event.what
            self._waiting_since = time.monotonic() - event.elapsed
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
