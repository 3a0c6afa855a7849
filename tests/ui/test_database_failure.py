"""A database that cannot start, seen in the app: section IV's log says why (RDS's event) and
gives the advice for a database, not for an unhealthy ECS service.

The engine's side (the wait's verdict, RDS's failure events read back as the StepFailed's
details) runs on the emulator in tests/sandbox/test_database_failures.py; here the scripted
engine sends what it sends, and the test is what the app shows of it.
"""

from __future__ import annotations

from runbook.state import StateFile
from screens.modals.error_dialog import ErrorDialog
from tests.ui.conftest import SIZE, confirm_run, log_text, until
from tests.ui.scripted import ScriptedEngine, WaitFailed

# As tests/sandbox/test_database_failures.py finds it: RDS's event, in the failure category.
EVENT = (
    "RDS event 2026-12-03 17:00:00 UTC: The DB instance has failed: its PostgreSQL did not "
    "start (address 10.0.0.2:5432 is in use)."
)


async def test_section_iv_says_why_the_database_failed(scripted_app, settings, state_path) -> None:
    earlier = ScriptedEngine(settings, None, StateFile(state_path), sleep=lambda _s: None)
    for number in ("I", "II", "III"):
        earlier.apply(earlier.step(number))
    failed = WaitFailed("the database is failed", (EVENT,))
    app = scripted_app(state=StateFile(state_path), fails={"describe_db_instances": failed})
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await until(pilot, lambda: app.screen.name == "section-IV")
        await confirm_run(pilot, app)
        await until(pilot, lambda: isinstance(app.screen, ErrorDialog))
        await pilot.press("escape")
        await until(pilot, lambda: app.screen.name == "section-IV")
        shown = " ".join(log_text(app, "IV").split())
    assert "DBInstanceFailed" in shown and "the database is failed" in shown
    assert "RDS event" in shown and "in use" in shown
    assert "RDS could not bring the database up" in shown
    assert "service did not become healthy" not in shown
    assert app.progress["IV"].status == "failed"
