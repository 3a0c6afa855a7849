"""Section V shows the [app] settings `runbook init` recorded, and no secret's value."""

from __future__ import annotations

from textual.widgets import Static

from runbook.settings import Settings
from tests.ui.conftest import SIZE, plain, until


async def test_section_v_shows_the_apps_settings(offline_app) -> None:
    settings = (
        Settings()
        .replace(
            "app",
            folder="/srv/tokens",
            dockerfile="Dockerfile",
            environment={"GREETING": "hi"},
            secrets=["API_TOKEN"],
        )
        .replace("security_groups", app_port=8080)
        .replace("load_balancer", health_check_path="/status")
    )
    app = offline_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b", *["ctrl+n"] * 4)
        await until(pilot, lambda: app.screen.name == "section-V")
        shown = plain(app.screen.query_one("#app-settings", Static))
        assert "/srv/tokens" in shown and "8080" in shown and "/status" in shown
        assert "GREETING=hi" in shown and "API_TOKEN" in shown


async def test_the_todo_api_shows_no_app_section(offline_app) -> None:
    app = offline_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b", *["ctrl+n"] * 4)
        await until(pilot, lambda: app.screen.name == "section-V")
        assert not app.screen.query("#app-settings")
