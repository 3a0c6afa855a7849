"""The AWS calls a section will make (or made), one per line with the reason in plain words."""

from __future__ import annotations

import json
from typing import Any

from rich.text import Text
from textual.widgets import Static


def render_rows(rows: list[dict[str, Any]], *, params: bool = False) -> Text:
    """Numbered calls; waits marked as such; with params, each top-level parameter on a line."""
    text = Text()
    if not rows:
        text.append("No calls: everything this section makes already exists.", style="dim")
        return text
    number = 0
    for row in rows:
        if text:
            text.append("\n")
        if "wait" in row:
            text.append(" ⏳ ", style="yellow")
            text.append(f"{row['service']} {row['operation']}", style="bold")
            text.append(f"\n    wait: {row['wait']}", style="dim")
        else:
            number += 1
            text.append(f"{number:>2}. ", style="cyan")
            text.append(f"{row['service']} {row['operation']}", style="bold")
            text.append(f"\n    {row['why']}", style="dim")
        if params:
            for key, value in row["params"].items():
                shown = value if isinstance(value, str) else json.dumps(value, default=str)
                text.append(f"\n      {key}: ", style="italic")
                text.append(shown)
    return text


class CallPreview(Static):
    """Rows from Runbook.preview / Runbook.rows; secrets arrive already masked."""

    DEFAULT_CSS = """
    CallPreview {
        height: auto;
        padding: 0 1;
    }
    """

    def __init__(
        self,
        rows: list[dict[str, Any]] | None = None,
        *,
        params: bool = False,
        id: str | None = None,
    ) -> None:
        self.rows = rows or []
        self.params = params
        super().__init__(render_rows(self.rows, params=params), id=id)

    def show(self, rows: list[dict[str, Any]]) -> None:
        if rows != self.rows:
            self.rows = rows
            self.update(render_rows(rows, params=self.params))
