"""A Static given new text only when its text differs.

Static.update always asks for a layout and drops the widget's measured size, even for the
text it already shows; a section's form validates on every keystroke and rewrites its notes
each time, so the unchanged ones were measured again at every layout (#18.3).
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


def update_changed(widget: Static, text: str | Text) -> None:
    if widget.content != text:
        widget.update(text)
