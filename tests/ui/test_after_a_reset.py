"""After `runbook sandbox stop` wiped the sandbox, the welcome does not claim sections done."""

from __future__ import annotations

from textual.widgets import Button

from runbook.state import StateFile
from screens.welcome.welcome_screen import WelcomeScreen
from tests.ui.conftest import SIZE, plain, until
from tests.ui.test_rough_edges import on_screen


def saved_run(state_path, *numbers: str) -> StateFile:
    """A state file from an earlier session that recorded these sections done."""
    state = StateFile(state_path)
    for number in numbers:
        state.record(number, "done", {})
    return StateFile(state_path)  # as the next session reads it


async def test_a_reset_sandbox_is_said_and_offered_again(sandbox_app, state_path) -> None:
    """Real engine on the emulator: a reset is found by discovering, by name and tag, what the
    saved run recorded (screens/welcome/what_exists.py); a scripted engine has nothing to
    discover."""
    # This test's account is new: everything the saved run recorded is gone, as after a reset.
    app = sandbox_app(state=saved_run(state_path, "I", "II", "III"))
    async with app.run_test(size=SIZE) as pilot:
        welcome = app.screen
        assert isinstance(welcome, WelcomeScreen)
        await until(pilot, lambda: welcome.reset, timeout=30)
        await pilot.pause()
        saved = " ".join(plain(welcome.query_one("#saved")).split())
        assert saved.startswith("The sandbox was reset")
        assert "sections I, II, III were done" in saved
        assert "A saved run was found" not in saved
        assert str(welcome.query_one("#begin", Button).label) == "Start again (r)"
        shown = on_screen(app)
        assert "Start again (r)" in shown and "r Start again" in shown  # button, footer
        assert all(app.progress[n].status == "to do" for n in ("I", "II", "III"))
        assert StateFile(state_path).get("I").status == "to do"  # and so recorded
        await pilot.press("r")
        await until(pilot, lambda: app.screen.name == "section-I")


async def test_only_the_sections_that_are_gone_are_said(
    sandbox_app, make_runbook, state_path
) -> None:
    """Real engine on the emulator: which sections are gone is what discovery finds in AWS,
    section by section."""
    made = make_runbook(state=StateFile(state_path))
    made.apply(made.step("I"))  # section I exists; the state also says II is done
    saved_run(state_path, "II")
    app = sandbox_app(state=StateFile(state_path))
    async with app.run_test(size=SIZE) as pilot:
        welcome = app.screen
        await until(pilot, lambda: app.progress["II"].status == "to do", timeout=30)
        await pilot.pause()
        saved = " ".join(plain(welcome.query_one("#saved")).split())
        assert saved.startswith("Section II no longer exist")
        assert app.progress["I"].status == "done"
        assert not welcome.reset and str(welcome.query_one("#begin", Button).label) == "Resume (r)"
        await pilot.press("r")
        await until(pilot, lambda: app.screen.name == "section-II")
