"""The welcome screen comes first, whatever the sandbox is doing: the app reaches it behind that
screen, says how far it is, queues a run asked for meanwhile, and says why when it cannot.
(The take-over question asked while reaching it is in test_after_a_reset.py: the resources it
asks about are found in AWS, by tag.)"""

from __future__ import annotations

import threading
from collections.abc import Callable

from runbook.aws import Aws
from runbook.errors import Problem, RunbookError
from runbook.pending_aws import PendingAws
from runbook.settings import Settings
from screens.modals.confirm_run import ConfirmRun
from screens.modals.error_dialog import ErrorDialog
from screens.welcome.target_status import TargetStatus
from screens.welcome.welcome_screen import WelcomeScreen
from tests.ui.conftest import PATIENCE, SIZE, log_text, plain, until
from tests.ui.new_account import all_answered, answer_preflight

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
    scripted_app, stub, offline_aws: Aws, settings: Settings
) -> None:
    """The app's own waiting: a scripted engine on clients that arrive late (PendingAws); once
    they do, the welcome's checks read them (a Stubber answers as a new account) and the run
    queued meanwhile goes on."""
    pending, go, reach = late(offline_aws)
    app = scripted_app(aws=pending, reach=reach)
    answer_preflight(stub, settings, app.runbook.version)
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
            assert app.runbook.applied == ["I"]
            # The checks, behind the section's run: every answer read (the Stubber's queue).
            await until(pilot, lambda: all_answered(stub))
    finally:
        go.set()


async def test_a_sandbox_that_cannot_start_is_said_and_nothing_runs(scripted_app) -> None:
    """The app's own refusal: a scripted engine whose clients never arrive."""
    pending = PendingAws("us-east-1", "local emulator (sandbox)")

    def reach(tell: Tell, _ask: Ask) -> None:
        tell("starting")
        error = RunbookError(
            Problem("Sandbox", "The sandbox stopped while starting (exit 1)", "See its log.")
        )
        pending.failed(error)
        raise error

    app = scripted_app(aws=pending, reach=reach)
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
        assert app.runbook.applied == []  # the engine was never asked to run it
