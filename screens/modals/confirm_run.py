"""Before anything changes: the exact calls a section will make, and Run or Cancel."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Static

from runbook.steps import Step
from screens.section.call_preview import CallPreview


class ConfirmRun(ModalScreen[bool]):
    """Dismissed with True to run the calls, False to leave the section as it is."""

    BINDINGS = [
        Binding("y", "answer(True)", "Run"),
        Binding("n,escape", "answer(False)", "Cancel"),
    ]

    def __init__(self, step: Step, rows: list[dict[str, Any]]) -> None:
        super().__init__()
        self.step = step
        self.rows = rows

    def compose(self) -> ComposeResult:
        calls = sum(1 for row in self.rows if "wait" not in row)
        waits = len(self.rows) - calls
        with Vertical(classes="dialog", id="confirm-run"):
            yield Static(
                f"Run section {self.step.number} · {self.step.title}?", classes="dialog-title"
            )
            yield Static(
                f"{calls} call(s) that change your account"
                + (f", then {waits} wait(s)" if waits else "")
                + ". Looked up just now: only what is missing or different.",
                classes="dialog-text",
            )
            with VerticalScroll(classes="dialog-body"):
                yield CallPreview(self.rows, params=True)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Run (y)", id="yes", variant="primary", compact=True)
                yield Button("Cancel (n)", id="no", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#yes", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
