"""Before the app changes anything: resources already carry this deployment's tag that its
state file records none of. Take them over, or stop (asked behind the welcome screen)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from screens.modals.yes_no import YesNo, answers


class TakeOver(YesNo):
    """Dismissed with True to manage them from this state file, False to change nothing."""

    YES, NO = "Take over", "Stop"
    BINDINGS = answers(YES, NO)
    DIALOG_ID = "take-over"

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def body(self) -> ComposeResult:
        yield Static("Resources already carry this deployment's tag", classes="dialog-title")
        with VerticalScroll(classes="dialog-body"):
            yield Static(self.question, id="take-over-text")
