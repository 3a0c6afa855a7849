"""An AWS error a person can act on: AWS's code and message, what to do, and the details."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Static

from runbook.errors import Problem


class ErrorDialog(ModalScreen[None]):
    BINDINGS = [Binding("escape", "close", "Close")]

    def __init__(
        self,
        where: str,
        problem: Problem,
        details: tuple[str, ...] = (),
        *,
        refused: bool = False,
    ) -> None:
        super().__init__()
        self.where = where
        # Refused: nothing was called (no earlier revision to roll back to, say); not a failure.
        self.refused = refused
        self.problem = problem
        self.details = details

    def compose(self) -> ComposeResult:
        p = self.problem
        body = Text()
        body.append(p.code, style="bold red")
        if p.operation:
            body.append(f"  ({p.operation})", style="dim")
        body.append(f"\n{p.message}\n\n")
        body.append("What to do: ", style="bold")
        body.append(p.advice)
        for line in self.details:
            body.append(f"\n· {line}", style="dim")
        with Vertical(classes="dialog", id="error-dialog"):
            outcome = "refused" if self.refused else "failed"
            yield Static(f"{self.where} {outcome}", classes="dialog-title")
            with VerticalScroll(classes="dialog-body"):
                yield Static(body, id="error-body")
            yield Button("Close (esc)", id="close", variant="error", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#close", Button).focus()

    def on_button_pressed(self) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
