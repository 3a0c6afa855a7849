"""UI test helpers: apps on the emulator, on a scripted engine or offline, and waiting for what a
worker will show."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Static

from runbook.aws import Aws
from runbook.engine import Runbook
from runbook.pending_aws import PendingAws
from runbook.settings import Settings
from runbook.state import StateFile
from screens.app import Reach, RunbookApp, make_app
from screens.modals.confirm_run import ConfirmRun
from tests.ui.scripted import ScriptedEngine

SIZE = (80, 24)
# How long a wait may take before the test fails: a ceiling, not a pace (a passing test is no
# slower for it). CI machines run three workers on two cores, where a first paint alone has
# taken over 10 s.
PATIENCE = 30.0


async def until(pilot: Pilot, condition: Callable[[], object], timeout: float = PATIENCE) -> None:
    """Let the app run until the condition holds (workers report through messages)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {condition}")
        await pilot.pause(0.01)


async def confirm_run(pilot: Pilot, app: RunbookApp) -> None:
    """Start the shown section with the keyboard: ctrl+r, read the calls, y."""
    await pilot.press("ctrl+r")
    await until(pilot, lambda: isinstance(app.screen, ConfirmRun))
    await pilot.press("y")


async def run_section(pilot: Pilot, app: RunbookApp, number: str) -> None:
    """Run the shown section to its end with the keyboard."""
    assert app.screen.name == f"section-{number}"
    await confirm_run(pilot, app)
    await until(pilot, lambda: app.progress[number].status == "done")


async def show_section(pilot: Pilot, app: RunbookApp, number: str) -> None:
    """Go to a section's screen (as the section list does) and let it settle."""
    app.action_show(number)
    await until(pilot, lambda: app.screen.name == f"section-{number}")
    await pilot.pause()


def plain(widget: object) -> str:
    """What a Static shows, as plain text (tables included), wide enough not to wrap."""
    assert isinstance(widget, Static)
    console = Console(width=400, file=io.StringIO(), record=True, color_system=None)
    console.print(widget.content)
    return "\n".join(line.rstrip() for line in console.export_text().splitlines())


def log_text(app: RunbookApp, number: str) -> str:
    from screens.section.run_log import RunLog

    return "\n".join(line.plain for line in app.sections[number].query_one(RunLog).lines)


@pytest.fixture
def sandbox_app(make_runbook: Callable[..., Runbook]) -> Callable[..., RunbookApp]:
    def make(**overrides: object) -> RunbookApp:
        return make_app(
            lambda listener: make_runbook(listener, **overrides),
            "sandbox",
            "local emulator (sandbox)",
        )

    return make


@pytest.fixture
def scripted_app(tmp_path: Path, settings: Settings) -> Callable[..., RunbookApp]:
    """The app as against the sandbox, on a scripted engine (tests/ui/scripted.py): each run's
    real events in their order, no AWS; for what the app shows, not what AWS ends up with.

    aws: clients for what the app reads of AWS itself (the welcome's checks, the summary),
    answered by botocore's Stubber (tests/ui/new_account.py); without them it reads nothing.
    """

    def make(
        state: StateFile | None = None,
        aws: Aws | PendingAws | None = None,
        reach: Reach | None = None,
        **overrides: object,
    ) -> RunbookApp:
        given = state or StateFile(tmp_path / "state.json")
        options: dict[str, object] = {"settings": settings, "sleep": lambda _s: None}
        options.update(overrides)
        chosen = options.pop("settings")
        return make_app(
            lambda listener: ScriptedEngine(chosen, aws, given, emit=listener, **options),  # type: ignore[arg-type]
            "sandbox",
            "local emulator (sandbox)",
            reach=reach,
        )

    return make


@pytest.fixture
def offline_app(tmp_path: Path) -> Callable[..., RunbookApp]:
    """A dry run with no credentials: no AWS call at all, so fully deterministic."""

    def make(settings: Settings | None = None) -> RunbookApp:
        state = StateFile(tmp_path / "state.json")
        return make_app(
            lambda listener: Runbook(settings or Settings(), None, state, emit=listener),
            "dry run",
            "dry run: no AWS calls",
        )

    return make
