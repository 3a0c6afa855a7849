"""Quitting while a section (or a day-two action) runs: say what happens to the work under way."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from screens.modals.yes_no import YesNo, answers


class QuitQuestion(YesNo):
    YES, NO = "Quit", "Stay"
    BINDINGS = answers(YES, NO)
    DIALOG_ID = "quit-question"

    def __init__(self, running: list[str], doing: str = "") -> None:
        super().__init__()
        self.running = running
        self.doing = doing  # a day-two action under way: "Roll back", say

    def body(self) -> ComposeResult:
        sections = ", ".join(self.running)
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
