"""The one yes/no dialog: a question's body, then two buttons; y answers yes, n or escape no.

Running a section, quitting while one runs and starting over each give only their words
(the body, the buttons' names) and which answer has the focus first.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer


def answers(yes: str, no: str) -> list[Binding]:
    """The keys, named in the footer as the buttons are."""
    return [Binding("y", "answer(True)", yes), Binding("n,escape", "answer(False)", no)]


class YesNo(ModalScreen[bool]):
    """Dismissed with True for yes, False for no."""

    YES, NO = "Yes", "No"  # the buttons' words; BINDINGS = answers(YES, NO) names the keys
    BINDINGS = answers(YES, NO)
    VARIANT = "warning"  # the yes button's look
    FOCUS = "no"  # the answer a stray Enter gives
    DIALOG_ID = "yes-no"

    def body(self) -> ComposeResult:
        """The question and what to know before answering."""
        yield from ()

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id=self.DIALOG_ID):
            yield from self.body()
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.YES} (y)", id="yes", variant=self.VARIANT, compact=True)
                yield Button(f"{self.NO} (n)", id="no", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(f"#{self.FOCUS}", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
