"""The running service: its deployments, its tasks and its newest events, refreshed while shown.

The app polls the read calls while this screen is in sight (no confirmation: they change
nothing) and stops when it is left. The day-two actions are one key each from here, and the
one under way shows its calls and its wait above the deployments.
"""

from __future__ import annotations

from rich.console import RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Label, Static

from runbook import render_service
from runbook.errors import Problem
from runbook.events import Event
from runbook.service_status import ServiceStatus
from screens.hanging import HangingLines
from screens.messages import DayTwoViewChanged
from screens.service.action_log import ActionLog

# The keys of day two, on the summary, this screen and the logs.
DAY_TWO_KEYS = [
    Binding("t", "app.scale", "Scale"),
    Binding("d", "app.redeploy", "Redeploy"),
    Binding("b", "app.rollback", "Roll back"),
]


class ServiceScreen(Screen[None]):
    """Installed once: the action log and the last look outlive a visit elsewhere."""

    BINDINGS = [
        Binding("escape", "app.back", "Back"),
        Binding("l", "app.logs", "Logs"),
        *DAY_TWO_KEYS,
        Binding("r", "app.refresh_service", "Refresh", show=False),
        Binding("ctrl+s", "app.summary", "Summary", show=False),
    ]

    def __init__(self, service: str) -> None:
        super().__init__(name="service")
        self.service = service
        self.action_log = ActionLog(id="service-action")
        self.status: ServiceStatus | None = None
        self.problem: Problem | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="service-body"):
            yield Static(self._headline(), id="service-headline")
            yield self.action_log
            yield Label("Deployments", classes="heading")
            yield Static(self._part(render_service.deployments), id="deployments")
            yield Label("Tasks", classes="heading")
            yield Static(self._part(render_service.tasks), id="tasks")
            yield Label("Events, newest first (UTC)", classes="heading")
            yield Static(self._part(render_service.events), id="events")
        yield Footer(compact=True)

    def on_screen_resume(self) -> None:
        self.query_one("#service-body").focus()
        self.post_message(DayTwoViewChanged("service", shown=True))

    def on_screen_suspend(self) -> None:
        self.post_message(DayTwoViewChanged("service", shown=False))

    def record(self, event: Event) -> None:
        """A day-two event: the action under way, shown above the deployments."""
        self.action_log.record(event)

    def show(self, status: ServiceStatus | None, problem: Problem | None = None) -> None:
        """A new look (or why there is none this time: the last one stays, marked)."""
        if status is not None:
            self.status = status
        self.problem = problem
        if not self.is_mounted:
            return
        self.query_one("#service-headline", Static).update(self._headline())
        for key, part in (
            ("deployments", render_service.deployments),
            ("tasks", render_service.tasks),
            ("events", render_service.events),
        ):
            self.query_one(f"#{key}", Static).update(self._part(part))

    def _headline(self) -> Text:
        if self.status is None:
            text = Text(f"{self.service}: looking…", style="dim")
        else:
            text = render_service.headline(self.status)
        if self.problem is not None:
            text.append(
                f"\n! not refreshed: {self.problem.code}: {self.problem.message}", style="yellow"
            )
        return text

    def _part(self, part: object) -> RenderableType:
        if self.status is None or not self.status.exists:
            return Text("-", style="dim")
        # A stopped task's reason continues under itself at 80 columns, not at column 0.
        return HangingLines(part(self.status).split("\n"))  # type: ignore[operator]
