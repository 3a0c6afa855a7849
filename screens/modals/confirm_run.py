"""Before anything changes: the exact calls a section or a day-two action makes; Run or Cancel."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from runbook.drift import Fact
from runbook.steps import Step
from runbook.words import count
from screens.modals.yes_no import YesNo, answers
from screens.section.call_preview import CallPreview


class ConfirmRun(YesNo):
    """Dismissed with True to run the calls, False to leave the section as it is."""

    YES, NO = "Run", "Cancel"
    BINDINGS = answers(YES, NO)
    VARIANT = "primary"
    FOCUS = "yes"
    DIALOG_ID = "confirm-run"

    def __init__(
        self,
        step: Step | None,
        rows: list[dict[str, Any]],
        changes: list[Fact] | None = None,
        *,
        question: str = "",
        notes: tuple[str, ...] = (),
    ) -> None:
        super().__init__()
        self.step = step
        self.rows = rows
        self.changes = changes or []
        # A day-two action asks its own question ("Roll ... back to flask-todo:4?") and says
        # what to know before answering.
        self.question = question or (
            f"Run section {step.number} · {step.title}?" if step is not None else "Run?"
        )
        self.notes = notes

    def body(self) -> ComposeResult:
        calls = sum(1 for row in self.rows if "wait" not in row)
        waits = len(self.rows) - calls
        yield Static(self.question, classes="dialog-title")
        yield Static(
            f"{count(calls, 'call')} that change"
            + ("s" if calls == 1 else "")
            + " your account"
            + (f", then {count(waits, 'wait')}" if waits else "")
            + (
                ". Read from AWS just now."
                if self.notes
                else ". Looked up just now: only what is missing or different."
            ),
            classes="dialog-text",
        )
        with VerticalScroll(classes="dialog-body"):
            if self.notes:  # short, and what to know before saying yes: first
                yield Static(
                    Text("\n".join(f"· {note}" for note in self.notes), style="cyan"),
                    id="day-two-notes",
                )
            if self.changes:
                yield Static(self._changes(), id="changes")
            yield CallPreview(self.rows, params=True)

    def _changes(self) -> Text:
        text = Text("Changes to what exists:\n", style="bold")
        for fact in self.changes:
            mark, style = ("→ ", "cyan") if fact.in_place else ("! ", "yellow")
            text.append(mark, style=style)
            text.append(fact.explain() + "\n", style="" if fact.in_place else "yellow")
        return text
