"""Summary: the ALB's DNS name to copy, the target health table, the /healthz probe, next steps."""

from __future__ import annotations

from collections.abc import Callable

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Label, Static

from runbook.steps import Step
from runbook.summary import Summary
from screens.service.service_screen import DAY_TWO_KEYS
from screens.sidebar.section_list import SectionList

DRY_RUN_TEXT = (
    "This was a dry run: nothing was created, so there is no address to show yet. "
    "After a real run, this screen shows the load balancer's address, the health of its "
    "targets, and the answer of /healthz."
)


class SummaryScreen(Screen[None]):
    BINDINGS = [
        # Day two first: what a person does with a running service, one key each.
        Binding("s", "app.service", "Service"),
        Binding("l", "app.logs", "Logs"),
        *DAY_TWO_KEYS,
        Binding("c", "copy", "Copy URL"),
        Binding("r", "app.summary", "Refresh"),
        # Still there, out of the footer: it has no room left at 80 columns.
        Binding("ctrl+p", "app.previous_section", "Previous", show=False),
        Binding("ctrl+s", "app.summary", "Summary", show=False),
    ]

    def __init__(
        self,
        steps: tuple[Step, ...],
        summary: Summary | None,
        mode: str,
        is_on: Callable[[Step], bool] = lambda _step: True,
        next_steps: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(name="summary")
        self.steps = steps
        # Spelled for this deployment: --sandbox, --state when they apply.
        self.next_steps = next_steps or []
        self.is_on = is_on
        self.summary = summary
        self.mode = mode

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            yield SectionList(self.steps, "end", is_on=self.is_on)
            with VerticalScroll(id="summary-body"):
                yield Static("Summary", id="summary-title")
                yield from self._body()
        yield Footer(compact=True)

    def _body(self) -> ComposeResult:
        s = self.summary
        if s is None:
            yield Static(DRY_RUN_TEXT, classes="summary-text")
        else:
            yield Label("Address", classes="heading")
            # The bare DNS name fits an 80-column terminal; c copies the whole URL exactly.
            yield Static(
                Text(s.dns_name, style="bold", overflow="fold")
                if s.dns_name
                else Text("none yet", style="dim"),
                id="dns-name",
            )
            if s.local_url:  # the sandbox: where the load balancer answers on this machine
                yield Static(Text(f"on this machine: {s.local_url}", style="bold"), id="local-url")
            if s.url:
                yield Static(Text("c copies it as a URL, http://…", style="dim"))
            yield Label("Targets", classes="heading")
            yield Static(self._targets(s), id="targets")
            yield Label("Health check", classes="heading")
            yield Static(self._probe(s), id="probe")
            if s.notes:
                yield Label("Notes", classes="heading")
                yield Static("\n".join(s.notes), id="notes", classes="summary-text")
            yield Label("Day two", classes="heading")
            yield Static(self._day_two(), id="day-two")
        yield Label("Next steps", classes="heading")
        yield Static(self._next_steps(), id="next-steps")

    def _targets(self, s: Summary) -> Table | Text:
        if not s.targets:
            return Text("No target is registered with the target group.", style="dim")
        table = Table(box=None, padding=(0, 1), header_style="bold")
        for column in ("target", "port", "state", "why"):
            table.add_column(column, overflow="fold")
        for t in s.targets:
            style = "green" if t.state == "healthy" else "yellow"
            why = " ".join(part for part in (t.reason, t.description) if part)
            table.add_row(t.id, str(t.port), Text(t.state, style=style), why)
        return table

    def _probe(self, s: Summary) -> Text:
        if s.probe is None:
            return Text("not probed", style="dim")
        text = Text("✓ " if s.probe.ok else "✗ ", style="green" if s.probe.ok else "red")
        # The address is shown above; the path alone keeps the line short.
        path = s.probe.url.removeprefix(s.local_url or s.url) or s.probe.url
        text.append(f"GET {path} through the load balancer: {s.probe.detail}")
        return text

    def _day_two(self) -> Table:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold cyan", no_wrap=True)
        table.add_column()
        table.add_row("s", "the service, live: deployments, tasks, events")
        table.add_row("l", "its logs, following")
        table.add_row("t", "scale: how many tasks run")
        table.add_row("d", "redeploy: new tasks, same revision")
        table.add_row("b", "roll back to the previous revision")
        return table

    def _next_steps(self) -> Table:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold cyan", no_wrap=True)
        table.add_column()
        for command, what in self.next_steps:
            table.add_row(command, what)
        return table

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "copy":
            return bool(self.summary and self.summary.url)
        return True

    def action_copy(self) -> None:
        if self.summary and self.summary.url:
            url = self.summary.local_url or self.summary.url  # one that answers from here
            self.app.copy_to_clipboard(url)
            self.notify(f"Copied {url}")
