"""Where the target stands while the app reaches it behind the welcome screen: the sandbox being
looked for or started (with the seconds so far), ready, or not reachable."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal

from rich.text import Text
from textual.widgets import Static

TICK = 0.2  # seconds between redraws of the seconds so far


@dataclass
class Reaching:
    """What the app knows of reaching its target; the welcome screen draws it."""

    what: str  # "Sandbox": the welcome's label for it
    said: str = "looking for it"
    since: float = field(default_factory=time.monotonic)
    stage: Literal["reaching", "ready", "failed"] = "reaching"


class TargetStatus(Static):
    """One line under "Where": what reaching the target has said, and how long it has taken."""

    DEFAULT_CSS = """
    TargetStatus {
        height: auto;
    }
    """

    def __init__(self, reaching: Reaching, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.reaching = reaching

    def on_mount(self) -> None:
        self.show()
        if self.reaching.stage == "reaching":
            self._timer = self.set_interval(TICK, self.show)

    def show(self) -> None:
        """Drawn again: the seconds so far, or where it ended."""
        self.update(self.text())
        timer = getattr(self, "_timer", None)
        if timer is not None and self.reaching.stage != "reaching":
            timer.stop()

    def text(self) -> Text:
        reaching = self.reaching
        text = Text(f"{reaching.what:<12}", style="dim")
        if reaching.stage == "reaching":
            seconds = time.monotonic() - reaching.since
            text.append(f"{reaching.said}… {seconds:.1f} s", style="italic")
            text.append(
                "\n            Sections can be read and edited now; one run asks for waits "
                "until it answers.",
                style="dim",
            )
        elif reaching.stage == "ready":
            text.append("✓ ", style="green")
            text.append(reaching.said)
        else:
            text.append("✗ ", style="red")
            text.append(reaching.said)
        return text
