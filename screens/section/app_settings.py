"""Section V's [app] settings (what `runbook init DIR` writes), edited as the section's fields are.

Shown only when an app of the person's own is named. The text a person types is parsed here
(NAME=value lines, names, a shell-quoted command line); whether the values are good is the
engine's rules (runbook/validation.py), shown under the field as in the section's own form.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Mapping
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Static, TextArea

from runbook.image import Build
from runbook.settings import SECRET_ENV_PREFIX, App, Settings
from screens.section.changed_text import update_changed

# The fields a person edits here; the folder is init's (another folder is another app).
EDITED = (
    "dockerfile",
    "environment",
    "secrets",
    "release_command",
    "database_env",
    "database_parts",
)
# Tables typed one NAME=value a line; the rest are one-line inputs.
TABLES = ("environment", "database_parts")

LABELS = {
    "folder": "Folder",
    "dockerfile": "Dockerfile",
    "environment": "Environment",
    "secrets": "Secrets (names)",
    "release_command": "Release command",
    "database_env": "Database URL in",
    "database_parts": "Database parts",
}
PLACEHOLDERS = {
    "dockerfile": "Dockerfile (in the folder)",
    "environment": "NAME=value, one a line",
    "secrets": "e.g. API_TOKEN SENTRY_DSN",
    "release_command": "e.g. flask db upgrade",
    "database_env": "e.g. DATABASE_URL",
    "database_parts": "host=PGHOST, one a line",
}


def shown(app: App, name: str) -> str:
    """A setting as the person types it."""
    value = getattr(app, name)
    if name in TABLES:
        return "\n".join(f"{key}={item}" for key, item in value.items())
    if name == "secrets":
        return " ".join(value)
    if name == "release_command":
        return shlex.join(value)
    return str(value)


def parsed(name: str, text: str) -> tuple[Any, str | None]:
    """The setting typed, or why it cannot be read (the engine's rules judge the value)."""
    if name in TABLES:
        # A variable's value is taken as typed, spaces and all (as `docker --env-file`
        # does); a database part's value is a name.
        return _table(text, strip=name == "database_parts")
    if name == "secrets":
        return [word for word in re.split(r"[\s,]+", text) if word], None
    if name == "release_command":
        try:
            return shlex.split(text), None
        except ValueError as exc:  # an unclosed quote, a trailing backslash
            return None, f"cannot be split as a shell would: {exc}"
    return text.strip(), None


def _table(text: str, *, strip: bool) -> tuple[dict[str, str] | None, str | None]:
    table: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        name, equals, value = line.partition("=")
        name = name.strip()
        if not equals:
            return None, f"line {number} ({line.strip()}): write NAME=value"
        if name in table:
            return None, f"{name} is on two lines: keep one"
        table[name] = value.strip() if strip else value
    return table, None


def secrets_status(names: list[str], environ: Mapping[str, str]) -> Text:
    """For each secret, whether its value is in this runbook's environment; never the value."""
    text = Text()
    for name in names:
        variable = SECRET_ENV_PREFIX + name
        if text:
            text.append("\n")
        if variable in environ:
            text.append(f"✓ {variable} is set", "green")
        else:
            text.append(f"! {variable} is not set", "yellow")
    if names and any(SECRET_ENV_PREFIX + n not in environ for n in names):
        text.append(
            "\nA deploy reads each value from there into Secrets Manager (a value kept there "
            "stays): to give one, quit, export it and start the runbook again. Never typed here."
        )
    return text


def links(s: Settings) -> str:
    """The app's two settings that other sections own: named where they are edited."""
    return (
        f"Port {s.security_groups.app_port}: section I's App port. Health check "
        f"{s.load_balancer.health_check_path}: section II's Health check path."
    )


class AppForm(Vertical):
    """The [app] settings as fields; the screen validates them with the engine's rules.

    Rows of a label and a cell (the field and its rule), not a grid: a grid sized a row that
    a note spans by one column's width, and left blank lines under it.
    """

    def __init__(
        self, settings: Settings, building: Build | None = None, *, id: str | None = None
    ) -> None:
        """building: the build this session makes the image with (None: it builds none)."""
        super().__init__(id=id)
        self._settings = settings
        self._building = building
        self._rules: dict[str, Static] = {}

    def compose(self) -> ComposeResult:
        app = self._settings.app
        with Horizontal(classes="app-row"):
            yield Label(LABELS["folder"], classes="field-label")
            yield Static(_folder(app), id="app-folder")
        for name in EDITED:
            with Horizontal(classes="app-row"):
                yield Label(LABELS[name], classes="field-label")
                with Vertical(classes="app-cell", id=f"app-cell-{name}"):
                    yield self._field(app, name)
            if name == "dockerfile":
                yield Static("", id="app-dockerfile-note", classes="app-note")
            if name == "secrets":
                yield Static(
                    secrets_status(app.secrets, os.environ),
                    id="app-secrets-status",
                    classes="app-note",
                )
        yield Static(links(self._settings), id="app-links", classes="app-note")

    @staticmethod
    def _field(app: App, name: str) -> Input | TextArea:
        if name in TABLES:
            return TextArea(
                shown(app, name),
                id=f"app-field-{name}",
                compact=True,
                placeholder=PLACEHOLDERS[name],
                highlight_cursor_line=False,
            )
        return Input(
            shown(app, name),
            placeholder=PLACEHOLDERS[name],
            id=f"app-field-{name}",
            compact=True,
            validate_on=[],
        )

    def on_mount(self) -> None:
        self.query_one("#app-secrets-status").display = bool(self._settings.app.secrets)
        self.query_one("#app-dockerfile-note").display = False

    def _text(self, name: str) -> str:
        widget = self.query_one(f"#app-field-{name}")
        return widget.text if isinstance(widget, TextArea) else widget.value  # type: ignore[attr-defined]

    def values(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The settings typed that can be read, and why each of the others cannot."""
        values: dict[str, Any] = {}
        unparsed: dict[str, str] = {}
        for name in EDITED:
            value, problem = parsed(name, self._text(name))
            if problem is None:
                values[name] = value
            else:
                unparsed[name] = problem
        return values, unparsed

    def load(self, settings: Settings) -> None:
        """Show these settings (recorded ones, after a start over)."""
        self._settings = settings
        app = settings.app
        self.query_one("#app-folder", Static).update(_folder(app))
        for name in EDITED:
            # Only when the value differs: rewriting what was typed moves the cursor.
            if parsed(name, self._text(name))[0] == getattr(app, name):
                continue
            widget = self.query_one(f"#app-field-{name}")
            if isinstance(widget, TextArea):
                widget.load_text(shown(app, name))
            else:
                widget.value = shown(app, name)  # type: ignore[attr-defined]

    def show(self, settings: Settings) -> None:
        """What follows from the settings as typed: each secret's variable, the port line."""
        status = self.query_one("#app-secrets-status", Static)
        status.display = bool(settings.app.secrets)
        update_changed(status, secrets_status(settings.app.secrets, os.environ))
        update_changed(self.query_one("#app-links", Static), links(settings))
        note = self.query_one("#app-dockerfile-note", Static)
        invalid = self.query_one("#app-field-dockerfile").has_class("-invalid")
        text = "" if invalid else self._dockerfile_note(settings.app)
        note.display = bool(text)
        update_changed(note, text)

    def _dockerfile_note(self, app: App) -> str:
        """The image build was set up as the runbook started: another Dockerfile waits for
        the next start (what was typed is recorded all the same)."""
        building = self._building
        if building is None or building.engine is None:
            return ""
        if Build.of_app(app.folder, app.dockerfile, None).dockerfile == building.dockerfile:
            return ""
        now = building.dockerfile.relative_to(building.context) if building.dockerfile else None
        return (
            f"This session builds the image with {now or 'Dockerfile'}, as it started: quit "
            f"and start the runbook again to build with {app.dockerfile or 'Dockerfile'}."
        )

    def show_errors(self, errors: dict[str, str]) -> None:
        for name in EDITED:
            rule = errors.get(name, "")
            widget = self.query_one(f"#app-field-{name}")
            if widget.has_class("-invalid") != bool(rule):
                widget.set_class(bool(rule), "-invalid")
            self._rule(name, f"↳ {rule}" if rule else "")

    def _rule(self, name: str, text: str) -> None:
        # Per keystroke: made the first time a rule is broken, then only updated.
        rule = self._rules.get(name)
        if rule is None:
            if not text:
                return
            rule = self._rules[name] = Static(text, classes="app-rule", id=f"app-rule-{name}")
            self.query_one(f"#app-cell-{name}").mount(rule)
        elif rule.content != text:
            rule.update(text)
            rule.display = bool(text)


def _folder(app: App) -> Text:
    return Text.assemble(app.folder, ("\nanother app: runbook init DIR", "dim"))
