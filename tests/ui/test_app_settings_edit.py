"""Section V edits the [app] settings: each kind of field, the refusals, and what is recorded
with the deployment (what a later `runbook plan` and `runbook deploy` start from)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, Input, TextArea

from runbook.cli import OK, main
from runbook.image import Build, ContainerEngine
from runbook.recorded import starting_settings
from runbook.rules.app_env import RUNBOOK_SETS
from runbook.settings import Settings, to_record
from runbook.state import StateFile
from runbook.steps.task_definition import container_definition
from screens.app import RunbookApp
from screens.section.app_settings import shown as shown_as_typed
from tests.ui.conftest import SIZE, plain, run_section, show_section
from tests.ui.scripted import made_before
from tests.ui.test_app_settings_view import container, own_app

NOTES = Path(__file__).parents[1] / "apps" / "notes"


async def retype(pilot: Pilot, app: RunbookApp, name: str, text: str, *, keys: bool = True) -> None:
    """Empty one [app] field and type into it, key by key, as a person does; keys=False puts
    the text in at once (the same Changed message; each key waits for the app to be idle, so
    typing dozens of values costs a minute)."""
    widget = app.screen.query_one(f"#app-field-{name}")
    widget.focus()
    await pilot.pause()
    if not keys:
        if isinstance(widget, TextArea):
            widget.text = text
        else:
            widget.value = text
    elif isinstance(widget, TextArea):
        await pilot.press("f7", "backspace")  # select all, delete
        lines = text.split("\n")
        for number, line in enumerate(lines):
            await pilot.press(*line)
            if number < len(lines) - 1:
                await pilot.press("enter")
    else:
        await pilot.press("end", "ctrl+u", *text)
    await pilot.pause()


def rule(app: RunbookApp, name: str) -> str:
    found = app.screen.query(f"#app-rule-{name}")
    return plain(found.first()) if found and found.first().display else ""


async def test_each_kind_of_field_is_edited_and_the_plan_follows(
    scripted_app, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RUNBOOK_SECRET_SENTRY_DSN", raising=False)
    chosen = own_app(tmp_path, settings, environment={"GREETING": "hi"})
    (tmp_path / "tokens" / "deploy").mkdir()
    (tmp_path / "tokens" / "deploy" / "Dockerfile.prod").write_text("FROM python:3.12-slim\n")
    app = scripted_app(settings=chosen)
    async with app.run_test(size=SIZE) as pilot:
        await show_section(pilot, app, "V")
        # Typed key by key in one field of each kind (a line, and lines with enter); put in at
        # once elsewhere: the same Changed message, without a layout per key.
        await retype(pilot, app, "dockerfile", "deploy/Dockerfile.prod", keys=False)
        env = "GREETING=hello there\nWORKERS=4\nQUERY=a=b"
        await retype(pilot, app, "environment", env, keys=False)
        await retype(pilot, app, "secrets", "SENTRY_DSN, API_TOKEN", keys=False)
        release = 'flask --app notes db upgrade --tag "v 2"'
        await retype(pilot, app, "release_command", release, keys=False)
        await retype(pilot, app, "database_env", "DATABASE_URL")
        await retype(pilot, app, "database_parts", "host=PGHOST\nname=PGDATABASE")
        typed = app.runbook.settings.app
        assert typed.dockerfile == "deploy/Dockerfile.prod"
        # A value is what follows the first "=", as typed.
        assert typed.environment == {"GREETING": "hello there", "WORKERS": "4", "QUERY": "a=b"}
        assert typed.secrets == ["SENTRY_DSN", "API_TOKEN"]
        assert typed.release_command == [
            *("flask", "--app", "notes", "db", "upgrade", "--tag", "v 2"),
        ]
        assert typed.database_env == "DATABASE_URL"
        assert typed.database_parts == {"host": "PGHOST", "name": "PGDATABASE"}
        assert not app.screen.query_one("#run", Button).disabled
        status = plain(app.screen.query_one("#app-secrets-status"))
        assert "RUNBOOK_SECRET_SENTRY_DSN is not set" in status
        # The task definition section V would register follows what was typed.
        definition = container(app.screen)
        environment = {e["name"]: e["value"] for e in definition["environment"]}
        assert environment["GREETING"] == "hello there" and environment["WORKERS"] == "4"
        # The wrapper ahead of the app's entry point is told the names (never a password).
        assert environment["RUNBOOK_DATABASE_URL_ENV"] == "DATABASE_URL"
        parts = json.loads(environment["RUNBOOK_DATABASE_PARTS"])
        assert parts == {"host": "PGHOST", "name": "PGDATABASE"}
        assert [s["name"] for s in definition["secrets"]] == ["DB_PWD", "SENTRY_DSN", "API_TOKEN"]
        # The release command is section VI's: a one-off task before the service takes it.
        await show_section(pilot, app, "VI")
        (release,) = [
            r for r in app.screen.query_one("CallPreview").rows if r["operation"] == "RunTask"
        ]
        command = release["params"]["overrides"]["containerOverrides"][0]["command"]
        assert command == typed.release_command


REFUSED = [
    ("environment", "=x", "a variable's name must not be empty"),
    ("environment", "GREETING", "line 1 (GREETING): write NAME=value"),
    ("environment", "A=1\nA=2", "A is on two lines: keep one"),
    ("secrets", "GREETING", "a variable is plain or secret, not both"),
    ("secrets", "API-TOKEN", "a secret's name is letters, digits and underscores"),
    ("environment", "PORT=3000", "PORT: the runbook sets it in the container itself"),
    ("secrets", "DB_PWD", "DB_PWD: the runbook sets it in the container itself"),
    ("dockerfile", "../Dockerfile", "must be inside the app's folder"),
    ("dockerfile", "/etc/Dockerfile", "must be a path relative to the app's folder"),
    ("dockerfile", "linked", "must be inside the app's folder: it leads to"),
    ("dockerfile", "Dockerfile.dev", "is not a file in"),
    ("release_command", 'echo "unclosed', "cannot be split as a shell would"),
    ("database_env", "DATABASE URL", "must be empty or an environment variable's name"),
    ("database_parts", "password=PGPASSWORD", "has no password part"),
]


async def test_a_refused_value_is_named_under_its_field_and_nothing_is_recorded(
    scripted_app, settings: Settings, tmp_path: Path
) -> None:
    chosen = own_app(tmp_path, settings, environment={"GREETING": "hi"}, secrets=["API_TOKEN"])
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "Dockerfile").write_text("FROM python:3.12-slim\n")
    (tmp_path / "tokens" / "linked").symlink_to(outside / "Dockerfile")
    state = StateFile(tmp_path / "state.json")
    state.record_settings(to_record(chosen))
    before = (tmp_path / "state.json").read_text()
    app = scripted_app(state=state, settings=chosen)
    async with app.run_test(size=SIZE) as pilot:
        await show_section(pilot, app, "V")
        for name, typed, says in REFUSED:
            original = app.screen.query_one(f"#app-field-{name}")
            before_typing = original.text if isinstance(original, TextArea) else original.value
            await retype(pilot, app, name, typed, keys=False)
            assert says in rule(app, name), (name, typed)
            assert app.screen.query_one(f"#app-field-{name}").has_class("-invalid")
            assert app.screen.query_one("#run", Button).disabled
            # The settings keep the last valid value typed (as any field), never this one.
            assert shown_as_typed(app.runbook.settings.app, name) != typed
            # Leaving the field records nothing, and Run does not run.
            app.screen.query_one("#field-family", Input).focus()
            await pilot.press("ctrl+r")
            await pilot.pause()
            assert app.screen.name == "section-V" and not app.runbook.applied
            assert (tmp_path / "state.json").read_text() == before
            await retype(pilot, app, name, before_typing, keys=False)
            assert not rule(app, name)
        assert not app.screen.query_one("#run", Button).disabled
        assert app.runbook.settings.app == chosen.app


async def test_what_is_typed_is_recorded_as_init_records_it_and_plan_starts_from_it(
    scripted_app, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "notes"
    shutil.copytree(NOTES, folder)
    config = tmp_path / "fixed.toml"
    config.write_text('[database]\ninstance_class = "db.t4g.micro"\n')
    path = tmp_path / "state.json"
    monkeypatch.chdir(tmp_path)
    assert main(["init", str(folder), "--yes", "--state", str(path), "--config", str(config)]) == OK
    by_init = json.loads(path.read_text())["settings"]
    state = StateFile(path)
    start = starting_settings(state, None, None).settings
    app = scripted_app(
        state=state, settings=start, known=made_before(start, "I", "II", "III", "IV")
    )
    async with app.run_test(size=SIZE) as pilot:
        await show_section(pilot, app, "V")
        # Put in at once (typing key by key is the test above's): recorded once left.
        await retype(pilot, app, "environment", "NOTES_TITLE=Team notes", keys=False)
        await retype(pilot, app, "release_command", "python -m notes.migrate", keys=False)
        # Left with a valid value: recorded at once, as any field of a section.
        app.screen.query_one("#field-family", Input).focus()
        await pilot.pause()
        recorded = json.loads(path.read_text())["settings"]
        assert recorded["app"] == by_init["app"] | {
            "environment": {"NOTES_TITLE": "Team notes"},
            "release_command": ["python", "-m", "notes.migrate"],
        }
        await run_section(pilot, app, "V")
    after_run = json.loads(path.read_text())
    assert after_run["settings"] == recorded
    assert after_run["settings"].keys() == by_init.keys()
    # `runbook plan` (no credentials: offline) starts from the recorded settings.
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "AWS_EC2_METADATA_DISABLED": "true"}
    env |= {"AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_SHARED_CREDENTIALS_FILE": "none"}
    done = subprocess.run(
        [sys.executable, "-m", "runbook.cli", "plan", "--json", "--state", str(path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == OK, done.stderr
    rows = json.loads(done.stdout)
    (register,) = [r for r in rows if r["operation"] == "RegisterTaskDefinition"]
    environment = register["params"]["containerDefinitions"][0]["environment"]
    assert {"name": "NOTES_TITLE", "value": "Team notes"} in environment
    (release,) = [r for r in rows if r["operation"] == "RunTask"]
    overrides = release["params"]["overrides"]["containerOverrides"][0]
    assert overrides["command"] == ["python", "-m", "notes.migrate"]


async def test_another_dockerfile_is_recorded_and_built_at_the_next_start(
    scripted_app, settings: Settings, tmp_path: Path
) -> None:
    """The image build is set up as the runbook starts: the app says so, and records anyway."""
    chosen = own_app(tmp_path, settings)
    (tmp_path / "tokens" / "Dockerfile.prod").write_text("FROM python:3.12-slim\n")
    engine = ContainerEngine(str(tmp_path / "docker"))  # never called: the runs are scripted
    build = Build.of_app(chosen.app.folder, chosen.app.dockerfile, engine)
    app = scripted_app(settings=chosen, build=build)
    async with app.run_test(size=SIZE) as pilot:
        await show_section(pilot, app, "V")
        note = app.screen.query_one("#app-dockerfile-note")
        assert not note.display
        await retype(pilot, app, "dockerfile", "Dockerfile.prod")
        assert note.display
        assert "builds the image with Dockerfile, as it started" in plain(note)
        assert "start the runbook again to build with Dockerfile.prod" in plain(note)
        assert app.runbook.settings.app.dockerfile == "Dockerfile.prod"
        await retype(pilot, app, "dockerfile", "Dockerfile")
        assert not note.display


def test_the_names_refused_are_the_ones_section_v_sets() -> None:
    """The refusal's list follows the task definition: every variable section V gives an app
    of one's own (plain or secret, the wrapper's too) is in it, and nothing else."""
    own = Settings().replace("app", folder="/srv/shop", database_env="DATABASE_URL")
    defined = container_definition(own.replace("app", database_parts={"host": "PGHOST"}))
    names = {e["name"] for e in defined["environment"]} | {s["name"] for s in defined["secrets"]}
    assert names == set(RUNBOOK_SETS)
