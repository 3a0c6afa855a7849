"""The AWS calls a section will make (or made), one per line with the reason in plain words."""

from __future__ import annotations

import json
import re
from typing import Any

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.text import Text
from textual.widgets import Static

# An ECR image URI's registry part: the account's own registry, 55 characters without a space.
ECR_REGISTRY = re.compile(r"\b\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/")


def readable(why: str) -> str:
    """A reason as a person reads it: an image by its repository and tag, which fit a line.

    With the registry the URI could not wrap, and a dialog cut the tag, the part that matters.
    """
    return ECR_REGISTRY.sub("", why)


def render_rows(rows: list[dict[str, Any]] | None, *, params: bool = False) -> Group:
    """Numbered calls; waits marked as such; with params, each top-level parameter on a line.

    None: the section is off. A parameter is cut to one line: a task definition's JSON would
    fill the dialog and cost a redraw per keystroke; `runbook plan --full` prints it in full.
    """
    if rows is None:
        return Group(Text("None: these settings turn this section off.", style="dim"))
    if not rows:
        return Group(Text("No calls: everything here already matches the settings.", style="dim"))
    lines: list[RenderableType] = []
    number = 0
    for row in rows:
        if "wait" in row:
            head = Text(" ⏳ ", style="yellow")
            why = f"wait: {row['wait']}"
        else:
            number += 1
            head = Text(f"{number:>2}. ", style="cyan")
            why = readable(row["why"])
        head.append(f"{row['service']} {row['operation']}", style="bold")
        # Indented as a block, so a long reason wraps under itself.
        lines += [head, Padding(Text(why, style="dim"), (0, 0, 0, 4))]
        if params:
            for key, value in row["params"].items():
                shown = value if isinstance(value, str) else json.dumps(value, default=str)
                line = Text(f"      {key}: ", style="italic", no_wrap=True, overflow="ellipsis")
                line.append(shown, style="not italic")
                lines.append(line)
    return Group(*lines)


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
        self.rows = rows  # None: the section is off
        self.params = params
        super().__init__(render_rows(self.rows, params=params), id=id)

    def show(self, rows: list[dict[str, Any]] | None) -> None:
        if rows != self.rows:
            self.rows = rows
            self.update(render_rows(rows, params=self.params))
