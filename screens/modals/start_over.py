"""Before starting over: what it forgets (progress, settings), and what it keeps (AWS, the tag)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from runbook.settings import Change
from screens.modals.yes_no import YesNo, answers


class StartOver(YesNo):
    """Dismissed with True to forget, False to keep everything as it is."""

    YES, NO = "Start over", "Keep"
    BINDINGS = answers(YES, NO)
    DIALOG_ID = "start-over"

    def __init__(self, done: list[str], forgotten: list[Change], deployment: str) -> None:
        super().__init__()
        self.done = done
        self.forgotten = forgotten
        self.deployment = deployment

    def body(self) -> ComposeResult:
        yield Static("Start over?", classes="dialog-title")
        with VerticalScroll(classes="dialog-body"):
            yield Static(self._text(), id="start-over-text")

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
