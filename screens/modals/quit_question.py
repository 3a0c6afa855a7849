"""Quitting while a section (or a day-two action) runs: say what happens to the work under way."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Static


class QuitQuestion(ModalScreen[bool]):
    BINDINGS = [
        Binding("y", "answer(True)", "Quit"),
        Binding("n,escape", "answer(False)", "Stay"),
    ]

    def __init__(self, running: list[str], doing: str = "") -> None:
        super().__init__()
        self.running = running
        self.doing = doing  # a day-two action under way: "Roll back", say

    def compose(self) -> ComposeResult:
        sections = ", ".join(self.running)
        with Vertical(classes="dialog", id="quit-question"):
            if self.running:
                yield Static("Quit while a section runs?", classes="dialog-title")
                yield Static(
                    f"Section {sections} is still running. AWS carries on with what was already "
                    "asked; the runbook stops waiting. Open it again later and it resumes.",
                    classes="dialog-text",
                )
            if self.doing:
                yield Static(
                    f"{self.doing} is under way. AWS carries on with the rollout; the runbook "
                    "stops watching it (`runbook status` shows how it ended).",
                    classes="dialog-title" if not self.running else "dialog-text",
                )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Quit (y)", id="yes", variant="warning", compact=True)
                yield Button("Stay (n)", id="no", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
