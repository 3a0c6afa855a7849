"""A database that cannot start, seen in the app: section IV's log says why (RDS's event) and
gives the advice for a database, not for an unhealthy ECS service."""

from __future__ import annotations

from screens.modals.confirm_run import ConfirmRun
from screens.modals.error_dialog import ErrorDialog
from tests.sandbox.test_database_failures import Rds, occupy, rds  # noqa: F401 (fixture)
from tests.ui.conftest import SIZE, log_text, run_section, until


async def test_section_iv_says_why_the_database_failed(rds: Rds, sandbox_app) -> None:  # noqa: F811
    taken = occupy(rds)

    def sleep(seconds: float) -> None:  # the wait's pause is the data plane's time passing
        rds.clock.now += seconds
        rds.settle()

    app = sandbox_app(sleep=sleep)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("b")
            await run_section(pilot, app, "I")
            for _ in range(3):
                await pilot.press("ctrl+n")
            await until(pilot, lambda: app.screen.name == "section-IV")
            await pilot.press("ctrl+r")
            await until(pilot, lambda: isinstance(app.screen, ConfirmRun))
            await pilot.press("y")
            await until(pilot, lambda: isinstance(app.screen, ErrorDialog), timeout=180)
            await pilot.press("escape")
            await until(pilot, lambda: app.screen.name == "section-IV")
            shown = " ".join(log_text(app, "IV").split())
    finally:
        taken.close()
    assert "DBInstanceFailed" in shown and "the database is failed" in shown
    assert "RDS event" in shown and "in use" in shown
    assert "RDS could not bring the database up" in shown
    assert "service did not become healthy" not in shown
