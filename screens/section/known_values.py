"""Values that come from other sections (security group ids, ARNs, the DB endpoint), read-only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.text import Text
from textual.widgets import Static

from runbook.inputs import references
from runbook.settings import Settings
from runbook.steps import Step

# (reference key, its value or None while unknown, the section that produces it)
Row = tuple[str, Any, str]


def inputs(
    step: Step, steps: tuple[Step, ...], settings: Settings, known: Mapping[str, Any]
) -> list[Row]:
    """What this section's calls take from earlier sections, in the order the plan uses them."""
    own = set(step.output_keys(settings))
    producers = {key: s.number for s in steps for key in s.output_keys(settings)}
    seen: dict[str, Row] = {}
    for action in step.plan(settings, None):
        for key in references(action.params):
            if key not in own and key not in seen:
                seen[key] = (key, known.get(key), producers.get(key, "I"))
    return list(seen.values())


def outputs(step: Step, settings: Settings, known: Mapping[str, Any]) -> list[Row]:
    """What this section made, once known."""
    return [(key, known[key], step.number) for key in step.output_keys(settings) if key in known]


def _shown(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value))
    return _arn_lines(str(value))


def _arn_lines(value: str) -> str:
    """An ARN as two lines, where it divides: its account part, then the resource.

    An ARN has no spaces, so a narrow panel folded it anywhere ("task-definitio" / "n/...").
    """
    parts = value.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return value
    return ":".join(parts[:5]) + ":\n    " + parts[5]


class KnownValues(Static):
    """A two-column table: reference key, value (or which section will produce it)."""

    DEFAULT_CSS = """
    KnownValues {
        height: auto;
        padding: 0 1;
    }
    """

    def __init__(self, rows: list[Row] | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[Row] | None = None
        self.show(rows or [])

    def show(self, rows: list[Row]) -> None:
        if rows == self.rows:
            return
        self.rows = rows
        # A key above its value: keys and ARNs are both long, two columns would fold both.
        text = Text(overflow="fold")
        for key, value, producer in rows:
            if text:
                text.append("\n")
            text.append(key, style="dim")
            if value is None:
                text.append(f"\n  known after section {producer}", style="italic dim")
            else:
                text.append(f"\n  {_shown(value)}")
        self.update(text)
        self.display = bool(rows)
