"""More rough edges a new user met in the app, each where a test can see it."""

from __future__ import annotations

from screens.app import make_app
from tests.ui.conftest import SIZE, log_text, plain, run_section, until


async def test_rerunning_v_says_the_service_runs_the_old_revision_until_vi(
    make_runbook, settings
) -> None:
    make_runbook().deploy()
    bigger = make_runbook(settings=settings.replace("task_definition", cpu="512", memory="1024"))
    app = make_app(bigger, "sandbox", "local emulator (sandbox)")
    async with app.run_test(size=SIZE) as pilot:
        app.action_show("V")
        await until(pilot, lambda: app.screen.name == "section-V")
        await run_section(pilot, app, "V")
        await pilot.pause()
        hint = " ".join(plain(app.screen.query_one("#run-hint")).split())
        assert "Every section is done" not in hint
        assert "the service still runs the previous one until section VI" in hint
        assert "still runs the previous one" in log_text(app, "V")
