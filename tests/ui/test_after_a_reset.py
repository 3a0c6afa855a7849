"""What a state file says, against what AWS holds: after `runbook sandbox stop` wiped the
sandbox the welcome does not claim sections done, and resources another state file made are
asked about before they are taken over."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from textual.widgets import Button

from runbook.aws import Aws
from runbook.cli.named import claim_with
from runbook.pending_aws import PendingAws
from runbook.state import StateFile
from screens.app import make_app
from screens.modals.error_dialog import ErrorDialog
from screens.modals.take_over import TakeOver
from screens.welcome.welcome_screen import WelcomeScreen
from tests.ui.conftest import SIZE, plain, until
from tests.ui.test_rough_edges import on_screen


def saved_run(state_path, *numbers: str) -> StateFile:
    """A state file from an earlier session that recorded these sections done."""
    state = StateFile(state_path)
    for number in numbers:
        state.record(number, "done", {})
    return StateFile(state_path)  # as the next session reads it


async def test_what_a_saved_run_recorded_is_looked_for_in_aws(
    sandbox_app, make_runbook, aws: Aws, state_path: Path
) -> None:
    """Real engine on the emulator, one account and three sessions: what a state file says
    is checked against what AWS holds, which a scripted engine has none of. A reset is found
    by discovering, by name and tag, what the saved run recorded (screens/welcome/what_exists.py),
    section by section; the take-over question comes from what carries this deployment's tag
    (the inventory) while another state file records none of it."""
    # This test's account is new: everything this saved run recorded is gone, as after a reset.
    reset = state_path.with_name("reset-state.json")
    app = sandbox_app(state=saved_run(reset, "I", "II", "III"))
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
        assert StateFile(reset).get("I").status == "to do"  # and so recorded
        await pilot.press("r")
        await until(pilot, lambda: app.screen.name == "section-I")

    # Only the sections that are gone are said: section I exists, the state says II is done.
    made = make_runbook(state=StateFile(state_path))
    made.apply(made.step("I"))
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

    # Section I's resources carry the deployment's tag; another state file records none.
    other = StateFile(state_path.with_name("other-state.json"))
    args = argparse.Namespace(command=None, take_over=False, yes=False, dry_run=False)
    pending = PendingAws(aws.region, "local emulator (sandbox)")

    def reach(tell: Callable[[str], None], ask: Callable[[str], bool]) -> None:
        pending.arrived(aws)
        claim_with(args, aws, other, made.settings, tell=tell, ask=ask)

    app = make_app(
        lambda listener: make_runbook(listener, aws=pending, state=other),
        "sandbox",
        "local emulator (sandbox)",
        reach=reach,
    )
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, TakeOver))
        assert "already carry the tag of the deployment flask-todo" in app.screen.question
        await pilot.press("n")  # refused: the dialog says nothing was changed
        await until(pilot, lambda: isinstance(app.screen, ErrorDialog))
        assert app.screen.problem.code == "OwnedByAnotherStateFile"
        assert other.account == ""
