"""The app's log, following: the same lines as `runbook logs --follow`, in a scrolling view.

The app polls CloudWatch Logs while this screen is in sight and appends what is new; the log
widget draws only the lines in view, so a burst of lines never stalls the UI, and it keeps
the newest in view unless the person has scrolled up to read.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, Log, Static

from runbook.events import Event
from screens.messages import DayTwoViewChanged
from screens.service.action_log import ActionLog
from screens.service.service_screen import DAY_TWO_KEYS

MAX_LINES = 5000


class LogsScreen(Screen[None]):
    """Installed once: what was read stays when the person looks elsewhere and comes back."""

    BINDINGS = [
        Binding("escape", "app.back", "Back"),
        Binding("s", "app.service", "Service"),
        *DAY_TWO_KEYS,
        Binding("ctrl+s", "app.summary", "Summary", show=False),
    ]

    def __init__(self, source: str) -> None:
        super().__init__(name="logs")
        self.source = source  # the log group and stream prefix, for the title
        self.note = ""
        self.action_log = ActionLog(id="logs-action")
        self._pending: list[str] = []
        self._widest = 0  # the longest line held, to say when → scrolls to the rest

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self._title(), id="logs-title")
        yield self.action_log
        yield Log(max_lines=MAX_LINES, id="log-view")
        yield Footer(compact=True)

    def on_resize(self) -> None:
        self._show_title()

    def _show_title(self) -> None:
        self.query_one("#logs-title", Static).update(self._title())

    def _cut(self) -> bool:
        """Whether a line is wider than the view: the log does not wrap, it scrolls."""
        views = self.query(Log)
        if not views:
            return False
        width = views.first().scrollable_content_region.width
        return width > 0 and self._widest > width

    def on_mount(self) -> None:
        if self._pending:
            self.query_one(Log).write_lines(self._pending)
            self._pending = []
            self.call_after_refresh(self._show_title)

    def on_screen_resume(self) -> None:
        self.query_one(Log).focus()
        self.post_message(DayTwoViewChanged("logs", shown=True))

    def on_screen_suspend(self) -> None:
        self.post_message(DayTwoViewChanged("logs", shown=False))

    def record(self, event: Event) -> None:
        self.action_log.record(event)

    def add(self, lines: list[str], note: str = "") -> None:
        """New lines at the bottom; a note (no log group yet, a failed read) in the title."""
        if note != self.note:
            self.note = note
            if self.is_mounted:
                self.query_one("#logs-title", Static).update(self._title())
        if not lines:
            return
        widest = max(self._widest, *(len(line) for line in lines))
        if widest != self._widest:
            self._widest = widest
            if self.is_mounted:
                self.call_after_refresh(self._show_title)
        if self.is_mounted:
            self.query_one(Log).write_lines(lines)
        else:
            self._pending = (self._pending + lines)[-MAX_LINES:]

    @property
    def lines(self) -> list[str]:
        """What the view holds (tests read it)."""
        if not self.is_mounted:
            return list(self._pending)
        return list(self.query_one(Log).lines)

    def _title(self) -> Text:
        text = Text.assemble(("Logs ", "bold"), (self.source, ""), (" · following", "dim"))
        if self._cut():
            text.append(" · long lines: → and ← scroll", style="dim")
        if self.note:
            text.append(f"\n{self.note}", style="yellow")
        return text
