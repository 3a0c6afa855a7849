"""The day-two action under way (or just ended), in a few lines: its calls, its wait, its end."""

from __future__ import annotations

import time

from rich.text import Text
from textual.widgets import Static

from runbook.events import CallMade, Event, Notice, StepFailed, StepFinished, StepStarted, Waiting
from runbook.model_check import operation_name
from runbook.narration import Narrator
from screens.hanging import HangingLines
from screens.progress import elapsed

KEPT = 4  # lines: the title, a call, the wait or the end, what to do


class ActionLog(Static):
    """Fed the engine's day-two events; ticks a wait's elapsed time itself.

    Its lines outlive the screen's visits (an action started from the summary shows here
    once the person comes to look), so they are kept apart from the widget's rendering.
    """

    DEFAULT_CSS = """
    ActionLog {
        height: auto;
        padding: 0 1;
        background: $warning 15%;
    }
    ActionLog.-idle {
        display: none;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, classes="-idle")
        self.lines: list[Text] = []  # also what tests read
        self._waiting = ""
        self._since: float | None = None
        self._calls = 0
        self._title = ""
        self._narrator = Narrator()

    def on_mount(self) -> None:
        self.set_interval(1.0, self._tick)
        self._draw()  # what was recorded before the screen was first shown

    def record(self, event: Event) -> None:
        # The narration follows every event (its counts, the title); this log keeps a digest,
        # and says how the action ended in the narration's words.
        said = self._narrator(event)
        if isinstance(event, StepStarted):
            self._title, self._calls = event.title, 0
            self.lines = [Text(f"▶ {event.title}", style="bold")]
        elif isinstance(event, CallMade) and event.mutating:
            self._calls += 1
            line = Text(f"  → {event.service} {operation_name(event.service, event.operation)}")
            line.append(f"  {event.outcome}", style="green" if event.outcome == "ok" else "dim")
            self.lines.append(line)
        elif isinstance(event, Waiting):
            if event.detail == "done":
                self._waiting, self._since = "", None
                self.lines.append(Text(f"  ✓ {event.what}", style="green"))
            elif event.what != self._waiting:
                self._waiting, self._since = event.what, time.monotonic() - event.elapsed
        elif isinstance(event, Notice) and event.level == "warning":
            self.lines.append(Text(f"  ! {event.message}", style="yellow"))
        elif isinstance(event, StepFinished):  # ended: one line says so, in the narration's words
            self._waiting, self._since = "", None
            self.lines = said
        elif isinstance(event, StepFailed):
            self._waiting, self._since = "", None
            self.lines.append(Text(f"  ✗ {event.code}: {event.message}", style="bold red"))
        self.lines = self.lines[:1] + self.lines[1:][-(KEPT - 1) :]
        self._show()

    @property
    def waiting(self) -> str:
        return self._waiting

    def _tick(self) -> None:
        if self._waiting:
            self._show()

    def _show(self) -> None:
        if self.is_mounted:
            self._draw()

    def _draw(self) -> None:
        lines = list(self.lines)
        if self._waiting:
            lines.append(Text(f"  ⏳ {self._waiting} {elapsed(self._since)}", style="yellow"))
        self.set_class(not self.lines, "-idle")
        self.update(HangingLines(lines))
