"""The welcome screen comes first, whatever the sandbox is doing: the app reaches it behind that
screen, says how far it is, queues a run asked for meanwhile, and says why when it cannot."""

from __future__ import annotations

import argparse
import threading
from collections.abc import Callable
from pathlib import Path

from runbook.aws import Aws
from runbook.cli.named import claim_with
from runbook.errors import Problem, RunbookError
from runbook.pending_aws import PendingAws
from runbook.state import StateFile
from screens.app import make_app
from screens.modals.confirm_run import ConfirmRun
from screens.modals.error_dialog import ErrorDialog
from screens.modals.take_over import TakeOver
from screens.welcome.target_status import TargetStatus
from screens.welcome.welcome_screen import WelcomeScreen
from tests.ui.conftest import PATIENCE, SIZE, log_text, plain, until

Tell = Callable[[str], None]
Ask = Callable[[str], bool]


def late(aws: Aws) -> tuple[PendingAws, threading.Event, Callable[[Tell, Ask], None]]:
    """Clients that answer once `go` is set, and the reach that sets them (as --sandbox does)."""
    pending = PendingAws(aws.region, "local emulator (sandbox)")
    go = threading.Event()

    def reach(tell: Tell, _ask: Ask) -> None:
        tell("starting")
        assert go.wait(PATIENCE)  # a ceiling: the test sets it once the run is queued
        pending.arrived(aws)
        tell("started in 1.2 s")

    return pending, go, reach


async def test_the_welcome_is_drawn_before_the_sandbox_answers_and_a_run_waits_for_it(
    make_runbook, aws
) -> None:
    """Real engine on the emulator: the sandbox's late arrival (PendingAws) is the point, and
    the run it queued goes on against it."""
    pending, go, reach = late(aws)
    app = make_app(
        lambda listener: make_runbook(listener, aws=pending),
        "sandbox",
        "local emulator (sandbox)",
        reach=reach,
    )
    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: isinstance(app.screen, WelcomeScreen))
            status = app.screen.query_one(TargetStatus)
            await until(pilot, lambda: "starting…" in plain(status))
            assert app.screen.query_one("#findings").findings is None  # checks wait too
            await pilot.press("b", "ctrl+r")
            await until(
                pilot, lambda: "Queued: the sandbox is still starting" in log_text(app, "I")
            )
            assert not isinstance(app.screen, ConfirmRun)  # nothing asked before it answers
            go.set()
            await until(pilot, lambda: isinstance(app.screen, ConfirmRun))  # the run goes on
            await pilot.press("y")
            await until(pilot, lambda: app.progress["I"].status == "done")
            assert app.reaching is not None and app.reaching.stage == "ready"
            assert app.reaching.said == "started in 1.2 s"
    finally:
        go.set()


async def test_a_sandbox_that_cannot_start_is_said_and_nothing_runs(make_runbook, aws) -> None:
    """Real engine, no calls: that a sandbox which never started is called nothing is counted
    on the emulator's clients."""
    pending = PendingAws(aws.region, "local emulator (sandbox)")

    def reach(tell: Tell, _ask: Ask) -> None:
        tell("starting")
        error = RunbookError(
            Problem("Sandbox", "The sandbox stopped while starting (exit 1)", "See its log.")
        )
        pending.failed(error)
        raise error

    app = make_app(
        lambda listener: make_runbook(listener, aws=pending),
        "sandbox",
        "local emulator (sandbox)",
        reach=reach,
    )
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, ErrorDialog))
        assert app.screen.problem.code == "Sandbox", app.screen.problem
        await pilot.press("escape")
        welcome = app.screen
        assert isinstance(welcome, WelcomeScreen)
        assert "✗ The sandbox stopped while starting (exit 1)" in plain(
            welcome.query_one(TargetStatus)
        )
        await pilot.press("b", "ctrl+r")  # the run says the same, and calls nothing
        await until(pilot, lambda: isinstance(app.screen, ErrorDialog))
        assert app.screen.problem.code == "Sandbox"
        assert app.progress["I"].status != "done"
        assert aws.calls.total() == 0


async def test_resources_with_the_tag_are_asked_about_in_the_app(make_runbook, aws) -> None:
    """Real engine on the emulator: the take-over question comes from resources AWS holds with
    this deployment's tag."""
    earlier = make_runbook()
    earlier.apply(earlier.step("I"))  # made by another state file, tagged as this deployment
    state = StateFile(Path(earlier.state.path).with_name("other-state.json"))
    args = argparse.Namespace(command=None, take_over=False, yes=False, dry_run=False)
    pending = PendingAws(aws.region, "local emulator (sandbox)")

    def reach(tell: Tell, ask: Ask) -> None:
        pending.arrived(aws)
        claim_with(args, aws, state, earlier.settings, tell=tell, ask=ask)

    app = make_app(
        lambda listener: make_runbook(listener, aws=pending, state=state),
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
        assert state.account == ""
