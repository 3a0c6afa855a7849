"""The six sections and the summary, each with its state, always in view on the left."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from runbook.steps import Step
from screens.messages import SectionChosen
from screens.progress import SUMMARY, Progress, SectionProgress, elapsed

ICONS = {
    "to do": "○",
    "running": "◐",
    "done": "✓",
    "failed": "✗",
    "skipped": "-",
    "interrupted": "◌",
}
STYLES = {
    "running": "bold yellow",
    "done": "green",
    "failed": "bold red",
    "skipped": "dim",
    "interrupted": "yellow",
}


class SectionList(OptionList):
    """Enter (or a click) on an entry opens that section; the highlight marks where you are."""

    DEFAULT_CSS = """
    SectionList {
        width: 25;
        height: 1fr;
        border: none;
        border-right: vkey $foreground 20%;
        padding: 0 0;
        background: $boost;
    }
    SectionList:focus {
        border: none;
        border-right: vkey $accent;
    }
    """

    def __init__(
        self,
        steps: tuple[Step, ...],
        current: str,
        *,
        is_on: Callable[[Step], bool] = lambda _step: True,
        id: str | None = None,
    ) -> None:
        self.steps = steps
        self.current = current
        # Sections beyond the guide stay off until their settings turn them on.
        self.is_on = is_on
        self._progress: Progress = {}
        entries = self._entries()
        self._shown = {option.id: option.prompt for option in entries}  # the prompts drawn
        super().__init__(*entries, id=id)

    def on_mount(self) -> None:
        self.border_title = "Sections"
        self.highlighted = self._index(self.current) if self.current else 0
        # The app's progress is the one source of truth; every screen's list follows it.
        self.watch(self.app, "progress", self._show, init=True)
        self.set_interval(1.0, self._tick)

    def _index(self, number: str) -> int:
        return [*(s.number for s in self.steps), SUMMARY].index(number)

    def _entries(self) -> list[Option]:
        entries = [(s.number, s.title, self.is_on(s)) for s in self.steps]
        entries.append((SUMMARY, "Summary", True))
        return [
            Option(self._prompt(number, title, self._progress.get(number), on), id=number)
            for number, title, on in entries
        ]

    def _prompt(
        self, number: str, title: str, progress: SectionProgress | None, on: bool = True
    ) -> Text:
        progress = progress or SectionProgress()
        icon = ICONS.get(progress.status, " ")
        mark = "▸" if number == self.current else " "
        label = "" if number == SUMMARY else number
        line = Text(mark)
        line.append(icon, style=STYLES.get(progress.status, ""))
        line.append(f" {label:<5}{title}")
        if number == self.current:
            line.stylize("bold")
        status = progress.status
        if status in ("to do", "skipped") and not on:
            status = "off"  # turned off by its settings: "skipped" would say someone chose
        if progress.waiting:
            status = f"waiting {elapsed(progress.waiting_since)}"
        elif progress.running and number != SUMMARY:
            status = f"running {elapsed(progress.started)}"
        elif progress.running:
            status = "reading…"
        line.append(f"\n        {status}", style=STYLES.get(progress.status, "dim"))
        return line

    def _show(self, progress: Progress) -> None:
        self._progress = progress
        if not self.screen.is_current:
            return  # its screen shows it again on resume (refresh_entries)
        highlighted = self.highlighted
        for option in self._entries():
            assert option.id is not None
            # Only the entries that read differently: each replaced one is drawn again whole.
            if self._shown.get(option.id) != option.prompt:
                self._shown[option.id] = option.prompt
                self.replace_option_prompt(option.id, option.prompt)
        self.highlighted = highlighted

    def refresh_entries(self) -> None:
        """Show the entries again (a setting may have turned a section on or off)."""
        self._show(self._progress)

    def _tick(self) -> None:
        # Only the elapsed times of running sections change between events.
        if any(p.running for p in self._progress.values()):
            self._show(self._progress)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        assert event.option.id is not None
        self.post_message(SectionChosen(event.option.id))
