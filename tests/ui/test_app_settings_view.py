"""Section V shows the [app] settings `runbook init` recorded as fields, and no secret's value."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, Static, TextArea

from runbook.settings import Settings
from screens.section.call_preview import CallPreview
from tests.ui.conftest import SIZE, plain, run_section, show_section
from tests.ui.scripted import made_before

SECRET_VALUE = "s3cr3t-token-value"


def own_app(tmp_path: Path, settings: Settings, **app: Any) -> Settings:
    """The settings with an app of one's own (a folder with its Dockerfile), as init records."""
    folder = tmp_path / "tokens"
    folder.mkdir()
    (folder / "Dockerfile").write_text("FROM python:3.12-slim\nCMD gunicorn wsgi:app\n")
    values = {"folder": str(folder), "dockerfile": "Dockerfile"} | app
    return (
        settings.replace("app", **values)
        .replace("security_groups", app_port=8080)
        .replace("load_balancer", health_check_path="/status")
    )


def container(screen: Any) -> dict[str, Any]:
    """The container definition section V's preview would register."""
    rows = screen.query_one(CallPreview).rows
    (row,) = [r for r in rows if r["operation"] == "RegisterTaskDefinition"]
    return row["params"]["containerDefinitions"][0]


async def test_section_v_shows_the_apps_settings_as_fields(
    scripted_app, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RUNBOOK_SECRET_API_TOKEN", raising=False)
    chosen = own_app(
        tmp_path,
        settings,
        environment={"GREETING": "hi", "MODE": "live"},
        secrets=["API_TOKEN"],
        release_command=["python", "-m", "tokens.migrate", "--note", "first run"],
    )
    app = scripted_app(settings=chosen)
    async with app.run_test(size=SIZE) as pilot:
        await show_section(pilot, app, "V")
        screen = app.screen
        assert str(tmp_path / "tokens") in plain(screen.query_one("#app-folder"))
        assert screen.query_one("#app-field-dockerfile", Input).value == "Dockerfile"
        environment = screen.query_one("#app-field-environment", TextArea)
        assert environment.text == "GREETING=hi\nMODE=live"
        assert screen.query_one("#app-field-secrets", Input).value == "API_TOKEN"
        # A command line shown as a shell would take it back.
        command = screen.query_one("#app-field-release_command", Input).value
        assert command == "python -m tokens.migrate --note 'first run'"
        status = plain(screen.query_one("#app-secrets-status", Static))
        assert "RUNBOOK_SECRET_API_TOKEN is not set" in status
        # The port and health check are other sections' fields: named there, not repeated.
        links = plain(screen.query_one("#app-links", Static))
        assert "Port 8080: section I's App port" in links
        assert "Health check /status: section II's Health check path" in links
        assert not screen.query("#app-field-app_port, #app-field-health_check_path")
        # The Todo API's own FLASK_APP and FLASK_ENV mean nothing to another app.
        assert not screen.query_one("#field-flask_app").display
        assert not screen.query_one("#label-flask_env").display
        assert "built from the app's folder" in screen.query_one("#field-image", Input).placeholder
        names = [e["name"] for e in container(screen)["environment"]]
        assert {"GREETING", "MODE"} <= set(names) and "FLASK_APP" not in names


async def test_a_secret_is_named_with_its_variable_and_its_value_never_shown(
    scripted_app, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNBOOK_SECRET_API_TOKEN", SECRET_VALUE)
    chosen = own_app(tmp_path, settings, secrets=["API_TOKEN"])
    app = scripted_app(settings=chosen, known=made_before(chosen, "I", "II", "III", "IV"))
    async with app.run_test(size=SIZE) as pilot:
        await show_section(pilot, app, "V")
        screen = app.screen
        assert "RUNBOOK_SECRET_API_TOKEN is set" in plain(screen.query_one("#app-secrets-status"))
        # Row after row at 80x24, no blank lines between them (a grid left some).
        rows = [w for w in screen.query_one("#app-form").children if w.display]
        edges = [(w.virtual_region.y, w.virtual_region.bottom) for w in rows]
        assert all(above[1] == below[0] for above, below in pairwise(edges)), edges
        assert SECRET_VALUE not in app.export_screenshot()
        await run_section(pilot, app, "V")
        assert SECRET_VALUE not in app.export_screenshot()
    recorded = (tmp_path / "state.json").read_text()
    assert '"API_TOKEN"' in recorded and SECRET_VALUE not in recorded


async def test_the_todo_api_shows_no_app_fields(scripted_app) -> None:
    app = scripted_app()
    async with app.run_test(size=SIZE) as pilot:
        await show_section(pilot, app, "V")
        screen = app.screen
        assert not screen.query("#app-form") and not screen.query("#app-heading")
        assert screen.query_one("#field-flask_app", Input).display
        assert screen.query_one("#field-flask_app", Input).value == "todo_app"
        definition = container(screen)
        assert definition["entryPoint"] == ["bin/flask-run.sh"]
        assert {"name": "FLASK_APP", "value": "todo_app"} in definition["environment"]


async def test_a_start_over_forgets_the_app_and_its_fields_go(
    scripted_app, settings: Settings, tmp_path: Path
) -> None:
    app = scripted_app(settings=own_app(tmp_path, settings, environment={"GREETING": "hi"}))
    async with app.run_test(size=SIZE) as pilot:
        await show_section(pilot, app, "V")
        screen = app.screen
        assert screen.query_one("#app-form").display
        # What the welcome's Start over does: the guide's defaults, every section shown again.
        app.runbook.start_over(settings)
        screen.reload()
        await pilot.pause()
        assert not screen.query_one("#app-form").display
        assert not screen.query_one("#app-heading").display
        assert screen.query_one("#field-flask_app").display
        assert "built from todo_app/" in screen.query_one("#field-image", Input).placeholder
        assert not screen.errors and app.runbook.settings.app.folder == ""
        assert container(screen)["entryPoint"] == ["bin/flask-run.sh"]
