"""Before starting over: what it forgets (progress, settings), and what it keeps (AWS, the tag)."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Static

from runbook.settings import Change


class StartOver(ModalScreen[bool]):
    """Dismissed with True to forget, False to keep everything as it is."""

    BINDINGS = [
        Binding("y", "answer(True)", "Start over"),
        Binding("n,escape", "answer(False)", "Keep"),
    ]

    def __init__(self, done: list[str], forgotten: list[Change], deployment: str) -> None:
        super().__init__()
        self.done = done
        self.forgotten = forgotten
        self.deployment = deployment

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="start-over"):
            yield Static("Start over?", classes="dialog-title")
            with VerticalScroll(classes="dialog-body"):
                yield Static(self._text(), id="start-over-text")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Start over (y)", id="yes", variant="warning", compact=True)
                yield Button("Keep (n)", id="no", compact=True)
        yield Footer()

    def _text(self) -> Text:
        text = Text("This forgets:\n", style="bold")
        progress = f"sections {', '.join(self.done)} done" if self.done else "nothing done yet"
        text.append(f"· the progress of this run ({progress})\n")
        if self.forgotten:
            text.append("· these settings, back to the guide's defaults:\n")
            for change in self.forgotten:
                text.append(f"    {change.section}.{change.field}: ", style="dim")
                text.append(f"{change.old!r} -> {change.new!r}\n")
        else:
            text.append("· no settings: they are the guide's defaults already\n")
        text.append("It keeps ", style="bold")
        text.append(
            f"everything in AWS, and the deployment's name ({self.deployment}) and region: "
            "what exists is found again by name, and `runbook status` and `runbook destroy` "
            "still find by their tag whatever was made under a name you change now."
        )
        return text

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
