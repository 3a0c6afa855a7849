"""How many tasks the service should run: a number, checked as the settings check it."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Static

from runbook.day_two import count_errors
from runbook.settings import Settings
from runbook.validation import TASKS_PER_SERVICE
from runbook.words import count


class DesiredCount(ModalScreen[int | None]):
    """Dismissed with the count to plan for (its calls are shown next), or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, settings: Settings, running_now: int | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.now = running_now if running_now is not None else settings.service.desired_count

    def compose(self) -> ComposeResult:
        s = self.settings
        if s.auto_scaling.max_tasks:
            text = (
                f"Auto Scaling owns {s.service.name}'s count ({self.now} now, at most "
                f"{s.auto_scaling.max_tasks}): this sets its minimum. Recorded with the settings."
            )
        else:
            text = (
                f"{s.service.name} runs {count(self.now, 'task')} now. From 0 to "
                f"{TASKS_PER_SERVICE}; recorded "
                "with the settings, so the next deploy keeps it."
            )
        with Vertical(classes="dialog", id="desired-count"):
            yield Static("Tasks to run", classes="dialog-title")
            yield Static(text, classes="dialog-text")
            yield Input(str(self.now), type="integer", id="count", compact=True)
            yield Static("", id="count-rule")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Show the calls (enter)", id="ok", variant="primary", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        field = self.query_one(Input)
        field.focus()
        field.action_select_all()

    def _checked(self) -> int | None:
        """The count if the rules take it; otherwise the rule is shown under the field."""
        field = self.query_one(Input)
        try:
            count = int(field.value)
        except ValueError:
            errors = ["a whole number of tasks"]
            count = None
        else:
            errors = count_errors(self.settings, count)
        rule = "; ".join(e.split(": ", 1)[-1] for e in errors)
        self.query_one("#count-rule", Static).update(rule)
        field.set_class(bool(errors), "-invalid")
        return None if errors else count

    @on(Input.Changed)
    def _changed(self) -> None:
        self._checked()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self._done()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "ok":
            self._done()
        else:
            self.dismiss(None)

    def _done(self) -> None:
        count = self._checked()
        if count is not None:
            self.dismiss(count)

    def action_cancel(self) -> None:
        self.dismiss(None)
