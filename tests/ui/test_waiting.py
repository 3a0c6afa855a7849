"""Waiting never freezes the UI: leave section IV while RDS is created, fill V, come back."""

from __future__ import annotations

import re
import threading
from pathlib import Path

from textual.widgets import Input, Static

from runbook.settings import Settings
from runbook.state import StateFile
from screens.modals.confirm_run import ConfirmRun
from screens.modals.quit_question import QuitQuestion
from screens.section.run_log import RunLog
from tests.ui.conftest import PATIENCE, SIZE, confirm_run, log_text, plain, until
from tests.ui.scripted import ScriptedEngine


def sections_i_to_iii_done(settings: Settings, state_path: Path) -> StateFile:
    """A saved run up to section III, recorded as the engine records it (scripted: no AWS)."""
    earlier = ScriptedEngine(settings, None, StateFile(state_path), sleep=lambda _s: None)
    for number in ("I", "II", "III"):
        earlier.apply(earlier.step(number))
    return StateFile(state_path)


async def test_leave_a_section_mid_wait_and_come_back(scripted_app, settings, state_path) -> None:
    state = sections_i_to_iii_done(settings, state_path)
    ready = threading.Event()
    # Each wait's pause blocks until the test says the database is ready: it stays in progress.
    app = scripted_app(state=state, sleep=lambda _s: ready.wait(PATIENCE))
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("r")
            await until(pilot, lambda: app.screen.name == "section-IV")
            await confirm_run(pilot, app)
            await until(pilot, lambda: app.progress["IV"].waiting)
            section_iv = app.screen
            line = section_iv.query_one("#waiting-line", Static)
            assert line.display
            assert "database flask-todo-db to be available" in plain(line)
            assert re.search(r"\d+:\d\d", plain(line))  # the elapsed time, ticking
            listing = section_iv.query_one("SectionList")
            assert "waiting" in str(listing.get_option_at_index(3).prompt)

            # Go on to section V while the database is created, fill its form and run it.
            await pilot.press("ctrl+n")
            await until(pilot, lambda: app.screen.name == "section-V")
            memory = app.screen.query_one("#field-container_memory_reservation", Input)
            memory.focus()
            await pilot.press("ctrl+u", *"256")
            assert app.runbook.settings.task_definition.container_memory_reservation == 256
            await confirm_run(pilot, app)
            # V runs (its own waits, if any, held too) while IV still waits.
            await until(pilot, lambda: app.progress["V"].status in ("running", "done"))
            assert app.progress["IV"].running

            # Back to section IV: its log and its wait are where they were.
            await pilot.press("ctrl+p")
            await until(pilot, lambda: app.screen is section_iv)
            assert section_iv.query_one(RunLog).waiting.startswith("database flask-todo-db")
            assert "waiting for database flask-todo-db" in log_text(app, "IV")

            ready.set()
            await until(pilot, lambda: app.progress["IV"].status == "done")
            await until(pilot, lambda: app.progress["V"].status == "done")
            assert not section_iv.query_one("#waiting-line").display
            assert "ready" in log_text(app, "IV")
            assert "ecs RegisterTaskDefinition" in log_text(app, "V")
    finally:
        ready.set()
    # What was typed while IV waited is what V ran with, and what the deployment records.
    recorded = StateFile(state_path).settings
    assert recorded is not None
    assert recorded["task_definition"]["container_memory_reservation"] == 256


async def test_quitting_mid_wait_asks_first_and_leaves_a_resumable_state(
    scripted_app, settings, state_path
) -> None:
    state = sections_i_to_iii_done(settings, state_path)
    ready = threading.Event()

    def held(_seconds: float) -> None:
        """Each look of the wait lasts until the test is done with it, or the app closes (as
        time.sleep does in the engine's own pause: quitting must not wait it out)."""
        while not ready.wait(0.05) and not getattr(app.runbook.sleep, "stopped", False):
            pass

    app = scripted_app(state=state, sleep=held)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("r", "ctrl+r")
            await until(pilot, lambda: isinstance(app.screen, ConfirmRun))
            await pilot.press("y")
            await until(pilot, lambda: app.progress["IV"].waiting)
            await pilot.press("ctrl+q")
            await until(pilot, lambda: isinstance(app.screen, QuitQuestion))
            await pilot.press("n")  # stay: the wait goes on
            await until(pilot, lambda: app.screen.name == "section-IV")
            assert app.progress["IV"].waiting
            await pilot.press("ctrl+q")
            await until(pilot, lambda: isinstance(app.screen, QuitQuestion))
            await pilot.press("y")
            await until(pilot, lambda: not app.is_running)
    finally:
        ready.set()
    # The engine was stopped mid-wait: the state says so, and the next session resumes there.
    assert StateFile(state_path).get("IV").status == "running"
    resumed = scripted_app(state=StateFile(state_path))
    async with resumed.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await until(pilot, lambda: resumed.screen.name == "section-IV")
        await pilot.pause()
        # Said as it is: interrupted, and run again to carry on (the wait resumes).
        assert resumed.progress["IV"].status == "interrupted"
        assert "Interrupted: run it again" in plain(resumed.screen.query_one("#run-hint"))
        listing = resumed.screen.query_one("SectionList")
        assert "interrupted" in str(listing.get_option_at_index(3).prompt)
