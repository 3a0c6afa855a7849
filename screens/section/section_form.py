"""A section's settings as a form: one row per field, the engine's rule shown under a bad value."""

from __future__ import annotations

import dataclasses
from typing import Any

from textual.app import ComposeResult
from textual.containers import Grid
from textual.widgets import Checkbox, Input, Label, Static

from runbook.labels import PLACEHOLDERS, label


class SectionForm(Grid):
    """Edits one settings dataclass; the screen validates with the engine and shows errors here."""

    def __init__(self, key: str, values: Any, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.key = key
        self.fields = dataclasses.fields(values)
        self._initial = values
        # A rule's line is made the first time the rule is broken: fewer widgets to mount.
        self._rules: dict[str, Static] = {}

    def compose(self) -> ComposeResult:
        for field in self.fields:
            value = getattr(self._initial, field.name)
            yield Label(
                label(self.key, field.name), classes="field-label", id=f"label-{field.name}"
            )
            if isinstance(value, bool):
                yield Checkbox(
                    "on" if value else "off", value, id=f"field-{field.name}", compact=True
                )
            else:
                yield Input(
                    str(value),
                    placeholder=PLACEHOLDERS.get((self.key, field.name), ""),
                    type="integer" if isinstance(value, int) else "text",
                    id=f"field-{field.name}",
                    compact=True,
                    # The engine's rules decide validity; Input's own would only repeat them.
                    validate_on=[],
                )

    def values(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The typed values that parse, and a rule for each field that does not."""
        values: dict[str, Any] = {}
        unparsed: dict[str, str] = {}
        for field in self.fields:
            current = getattr(self._initial, field.name)
            if isinstance(current, bool):
                values[field.name] = self.query_one(f"#field-{field.name}", Checkbox).value
                continue
            text = self.query_one(f"#field-{field.name}", Input).value.strip()
            if isinstance(current, int):
                try:
                    values[field.name] = int(text)
                except ValueError:
                    unparsed[field.name] = "must be a whole number"
            else:
                values[field.name] = text
        return values, unparsed

    def load(self, values: Any) -> None:
        """Show these values (a fix accepted elsewhere changed the settings)."""
        self._initial = values
        for field in self.fields:
            value = getattr(values, field.name)
            if isinstance(value, bool):
                self.query_one(f"#field-{field.name}", Checkbox).value = value
            else:
                widget = self.query_one(f"#field-{field.name}", Input)
                if widget.value != str(value):
                    widget.value = str(value)

    def show_errors(self, errors: dict[str, str]) -> None:
        names = {f.name for f in self.fields}
        for field in self.fields:
            rule = errors.get(field.name, "")
            widget = self.query_one(f"#field-{field.name}")
            if widget.has_class("-invalid") != bool(rule):
                widget.set_class(bool(rule), "-invalid")
            self._rule(f"rule-{field.name}", f"↳ {rule}" if rule else "")
        # A rule on something that has no field here, e.g. a password given by environment.
        other = [f"{name}: {rule}" for name, rule in errors.items() if name not in names]
        self._rule("rule-other", "\n".join(other))

    def _rule(self, id: str, text: str) -> None:
        # Called per keystroke: touch only what changed, so the layout stays put.
        rule = self._rules.get(id)
        if rule is None:
            if not text:
                return
            rule = self._rules[id] = Static(text, classes="field-rule", id=id)
            name = id.removeprefix("rule-")
            field = self.query(f"#field-{name}")
            self.mount(rule, after=field.first() if field else None)
        elif rule.content != text:
            rule.update(text)
            rule.display = bool(text)

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        event.checkbox.label = "on" if event.value else "off"
