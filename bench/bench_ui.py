"""UI benchmarks: time to the first screen, and the UI's longest pause in a deploy, a rollout
and a log burst.

Run: python bench/bench_ui.py [--runs N] [--only first-screen|pauses]
Prints figures (medians of N runs), asserts nothing. Everything runs against the local
emulator on loopback:

- in-process: from building the app to the welcome screen current with a focused widget
  (Textual's headless driver, 80x24);
- whole process: `runbook --sandbox` (this checkout's, via `python -c`) in an 80x24
  pseudo-terminal, from spawn to the welcome screen painted, then ctrl+q: once with no
  sandbox running (each run in a fresh folder, its sandbox stopped after, but the first
  run's, which every other figure then uses), once with a sandbox already running;
- responsiveness: a 10 ms timer in the app records the gaps between its ticks while a full
  sandbox deploy runs in the app's workers, driven by keys (ctrl+r, y, ctrl+n), then a
  redeploy from the summary (d, y: the rollout watched on the service view), then a burst of
  log lines followed on the log view (l).

The emulator runs in its own background process, as `runbook --sandbox` runs it, and is
stopped at the end. `--smoke`: one of each (no warm-up, one import timed, one deploy; shorter
settling around a smaller log burst).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import itertools
import os
import pty
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

# This checkout, whatever else is installed (an editable install may point elsewhere).
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from goals import GOAL_FIRST_SCREEN, GOAL_LONGEST_PAUSE, add_smoke, figure, run  # noqa: E402
from textual import events  # noqa: E402

from runbook import sandbox  # noqa: E402
from runbook.aws import Aws  # noqa: E402
from runbook.cli.target import poll_sleep  # noqa: E402
from runbook.engine import Runbook  # noqa: E402
from runbook.events import Listener  # noqa: E402
from runbook.image import Build, ContainerEngine  # noqa: E402
from runbook.sandbox import Timings  # noqa: E402
from runbook.settings import Settings  # noqa: E402
from runbook.state import StateFile  # noqa: E402
from screens.app import RunbookApp, make_app  # noqa: E402
from screens.modals.confirm_run import ConfirmRun  # noqa: E402
from screens.service.logs_screen import LogsScreen  # noqa: E402
from screens.summary.summary_screen import SummaryScreen  # noqa: E402
from screens.welcome.welcome_screen import WelcomeScreen  # noqa: E402

ACCOUNTS: Iterator[int] = itertools.count(300_000_000_001)
SIZE = (80, 24)
WELCOME_TEXT = b"Deploy the Flask Todo API"
ENV = {**os.environ, "PYTHONPATH": str(REPO)}
# What the `runbook` script runs, from this checkout.
COMMAND = [sys.executable, "-c", "import sys; from runbook.cli import main; sys.exit(main())"]


def account(url: str, info: Path) -> Aws:
    """A fresh pretend account (moto's x-moto-account-id header), so runs do not interfere."""
    aws = Aws("us-east-1", endpoint_url=url, credentials=sandbox.credentials(info), label="sandbox")
    number = str(next(ACCOUNTS))
    aws.session.events.register(
        "before-sign", lambda request, **_: request.headers.__setitem__("x-moto-account-id", number)
    )
    return aws


def sandbox_app(url: str, state: Path) -> RunbookApp:
    settings = Settings().replace("database", instance_class="db.t4g.micro")
    # The background sandbox's own engine stand-in, as `runbook --sandbox` is given.
    info = state.parent / "cli" / sandbox.INFO_FILE
    engine = ContainerEngine(sandbox.engine_path(info))
    aws = account(url, info)

    def runbook(listener: Listener) -> Runbook:
        return Runbook(
            settings,
            aws,
            StateFile(state),
            emit=listener,
            sandbox=True,
            build=Build(engine=engine),
            sleep=poll_sleep(Timings()),  # the sandbox's waits poll as `runbook --sandbox` polls
        )

    return make_app(runbook, "sandbox", "local emulator (sandbox)")


# How `until` looks again. None: Pilot.pause, as often as it can (each time every widget of
# the screen is asked to drain its queue, then the screen is refreshed, on the app's own
# loop). A smoke run, whose figures are not judged, looks every 10 ms and forces nothing:
# that polling cost it about 3 s of its 20 s of CPU.
SMOKE_LOOK: float | None = None


async def until(pilot: Any, condition: Callable[[], object], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(str(condition))
        if SMOKE_LOOK is None:
            await pilot.pause(0.001)
        else:
            await asyncio.sleep(SMOKE_LOOK)


def press(app: RunbookApp, key: str) -> None:
    """One key, as the terminal's driver sends it. Not pilot.press: that waits after each key
    until the process's CPU time stops advancing (up to a second, twice), which it never does
    while the engine's workers run, so a deploy spent most of its time on the bench's own
    waits; the bench waits for what each key brings about instead."""
    event = events.Key(key, key if len(key) == 1 else None)
    event.set_sender(app)
    app.post_message(event)


async def keys_until(
    pilot: Any, key: str, condition: Callable[[], object], timeout: float = 30.0
) -> None:
    press(pilot.app, key)
    await until(pilot, condition, timeout)


# -- time to the first screen ----------------------------------------------------------------


async def startup_once(url: str, state: Path) -> float:
    started = time.perf_counter()
    app = sandbox_app(url, state)
    async with app.run_test(size=SIZE) as pilot:
        await until(
            pilot, lambda: isinstance(app.screen, WelcomeScreen) and app.focused is not None
        )
        return time.perf_counter() - started


def import_time() -> float:
    """A fresh interpreter importing the app (what every `runbook` start pays)."""
    code = (
        "import time; t = time.perf_counter(); import screens.app; print(time.perf_counter() - t)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(done.stdout)


def process_once(workdir: Path) -> float:
    """Spawn `runbook --sandbox` on an 80x24 pty; seconds until the welcome screen is painted.

    With no sandbox running in `workdir`, the command starts one: it is left running (as the
    command leaves it) and the caller stops it."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: become the command
        os.chdir(workdir)
        os.execve(sys.executable, [*COMMAND, "--sandbox"], ENV)
    started = time.perf_counter()
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
    seen = b""
    elapsed = float("nan")
    deadline = started + 30
    try:
        while time.perf_counter() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if not ready:
                continue
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
            if WELCOME_TEXT in seen:
                elapsed = time.perf_counter() - started
                break
        os.write(fd, b"\x11")  # ctrl+q
        end = time.perf_counter() + 10
        while time.perf_counter() < end:
            finished, _ = os.waitpid(pid, os.WNOHANG)
            if finished:
                break
            if select.select([fd], [], [], 0.05)[0]:
                with contextlib.suppress(OSError):
                    os.read(fd, 65536)
        else:
            os.kill(pid, signal.SIGTERM)
            os.waitpid(pid, 0)
    finally:
        os.close(fd)
    return elapsed


# -- responsiveness during a deploy ----------------------------------------------------------


BURST = 5000  # log lines written at once, then followed on the log view
SMOKE_BURST = 2000  # two PutLogEvents calls, as the full burst makes five


def write_burst(aws: Aws, settings: Settings, lines: int) -> None:
    """A burst of the app's log lines, as its tasks would write them (one stream)."""
    logs = aws.client("logs")
    group = settings.cluster.log_group
    stream = f"{settings.task_definition.container_name}/burst/{time.time_ns()}"
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    now = int(time.time() * 1000)
    for first in range(0, lines, 1000):  # PutLogEvents takes at most 10,000 events
        logs.put_log_events(
            logGroupName=group,
            logStreamName=stream,
            logEvents=[
                {"timestamp": now + i, "message": f"GET /todos 200 burst line {i}"}
                for i in range(first, min(first + 1000, lines))
            ],
        )


Phases = dict[str, tuple[list[float], float]]


def gaps_between(ticks: list[float], start: float, end: float) -> list[float]:
    during = [t for t in ticks if start <= t <= end]
    return [b - a for a, b in itertools.pairwise(during)]


async def deploy_gaps(url: str, state: Path, burst: int = BURST, settle: float = 1.0) -> Phases:
    """Gaps (seconds) between 10 ms ticks, and each phase's time: all six sections run, a
    redeploy rolled out, a burst of `burst` log lines followed (`settle` seconds on the log
    view before it and after it)."""
    app = sandbox_app(url, state)
    app.poll_every = app.follow_every = 0.5  # the day-two views look often: more to draw
    ticks: list[float] = []
    phases: Phases = {}
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.screen.query("#findings").first().findings is not None)
        app.set_interval(0.01, lambda: ticks.append(time.perf_counter()))
        started = time.perf_counter()
        sections = ("I", "II", "III", "IV", "V", "VI")
        await keys_until(pilot, "b", lambda: app.screen.name == "section-I")
        for number, following in zip(sections, (*sections[1:], None), strict=True):
            await keys_until(pilot, "ctrl+r", lambda: isinstance(app.screen, ConfirmRun))
            await keys_until(pilot, "y", lambda n=number: app.progress[n].status == "done")
            if following:
                await keys_until(
                    pilot, "ctrl+n", lambda n=following: app.screen.name == f"section-{n}"
                )
        # Section VI stays on its log when done (the person reads the rollout); ctrl+s shows
        # the summary, as the log's last line says.
        await keys_until(pilot, "ctrl+s", lambda: isinstance(app.screen, SummaryScreen))
        ended = time.perf_counter()
        phases["deploy"] = (gaps_between(ticks, started, ended), ended - started)

        started = time.perf_counter()
        # Redeploy: the service view follows the rollout.
        await keys_until(pilot, "d", lambda: isinstance(app.screen, ConfirmRun))
        await keys_until(
            pilot, "y", lambda: "done in" in str(app.service_screen.action_log.lines), 120
        )
        ended = time.perf_counter()
        phases["rollout"] = (gaps_between(ticks, started, ended), ended - started)

        assert app.runbook.aws is not None
        await keys_until(pilot, "l", lambda: isinstance(app.screen, LogsScreen))
        await pilot.pause(settle)  # the view has read what was there: the burst comes on top
        started = time.perf_counter()
        # Written from another thread: the bench's own calls must not pause the app's loop.
        await asyncio.to_thread(write_burst, app.runbook.aws, app.runbook.settings, burst)
        last = f"burst line {burst - 1}"
        await until(pilot, lambda: any(last in x for x in app.logs_screen.lines[-3:]), 60)
        await pilot.pause(settle)  # it goes on following: the pauses after a burst count too
        ended = time.perf_counter()
        phases["log burst"] = (gaps_between(ticks, started, ended), ended - started)
    return phases


def p99(gaps: list[float]) -> float:
    return statistics.quantiles(gaps, n=100)[98] if len(gaps) > 1 else max(gaps, default=0.0)


def first_screen(args: argparse.Namespace, runs: int, tmp: Path) -> None:
    workdir = tmp / "cli"
    # No sandbox running first: each run in a fresh folder, its sandbox stopped after; but the
    # first run's, in cli/, is left running for every other figure (starting one more costs
    # as much again).
    cold: list[float] = []
    for i in range(runs):
        fresh = workdir if i == 0 else tmp / f"cold-{i}"
        fresh.mkdir(exist_ok=True)
        try:
            cold.append(process_once(fresh))
        finally:
            if fresh != workdir:
                sandbox.stop(fresh / sandbox.INFO_FILE)
    url = sandbox.ensure_running(workdir / sandbox.INFO_FILE)
    if not args.smoke:  # figures from a smoke run mean nothing: no warm-up
        asyncio.run(startup_once(url, tmp / "warm.json"))  # moto builds its backends once
    starts = [asyncio.run(startup_once(url, tmp / f"start-{i}.json")) for i in range(runs)]
    imports = [import_time() for _ in range(1 if args.smoke else 3)]
    print(f"first screen accepting keys, in-process ({runs} runs, app built -> welcome focused):")
    print(
        f"  median {statistics.median(starts) * 1000:.0f} ms, max {max(starts) * 1000:.0f} ms;"
        f" importing the app in a fresh interpreter: {statistics.median(imports) * 1000:.0f} ms"
    )
    times = [process_once(workdir) for _ in range(runs)]
    print(f"whole process, `runbook --sandbox` to the welcome screen painted ({runs} runs):")
    print(
        f"  a sandbox already running: median {statistics.median(times) * 1000:.0f} ms, "
        f"max {max(times) * 1000:.0f} ms"
    )
    print("  " + figure(GOAL_FIRST_SCREEN, statistics.median(times), args.smoke, digits=3))
    print(
        f"  no sandbox running: median {statistics.median(cold) * 1000:.0f} ms, "
        f"max {max(cold) * 1000:.0f} ms"
    )
    print("  " + figure(GOAL_FIRST_SCREEN, statistics.median(cold), args.smoke, digits=3))


def pauses(args: argparse.Namespace, deploys: int, url: str, tmp: Path) -> None:
    worst: list[float] = []
    p99s: list[float] = []
    overs: list[int] = []
    # A smoke run's burst still takes two calls, and half a second is one poll of the view.
    burst, settle = (SMOKE_BURST, 0.5) if args.smoke else (BURST, 1.0)
    for i in range(deploys):
        phases = asyncio.run(deploy_gaps(url, tmp / f"deploy-{i}.json", burst, settle))
        every = [g for gaps, _took in phases.values() for g in gaps]
        for name, (gaps, took) in phases.items():
            print(
                f"run {i + 1}, {name}: {took:.1f} s, {len(gaps)} ticks of a 10 ms timer, longest"
                f" gap {max(gaps, default=0) * 1000:.0f} ms, p99 {p99(gaps) * 1000:.0f} ms, over"
                f" 50 ms: {sum(g > 0.05 for g in gaps)}"
            )
        worst.append(max(every))
        p99s.append(p99(every))
        overs.append(sum(g > 0.05 for g in every))
    print(f"whole runs (deploy, rollout, log burst), medians of {deploys}:")
    print(
        f"  longest pause {statistics.median(worst) * 1000:.0f} ms (max "
        f"{max(worst) * 1000:.0f}), p99 {statistics.median(p99s) * 1000:.0f} ms, gaps over "
        f"50 ms {statistics.median(overs):.0f} a run"
    )
    print("  " + figure(GOAL_LONGEST_PAUSE, statistics.median(worst) * 1000, args.smoke, 0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--deploys", type=int, default=5)
    parser.add_argument("--only", choices=("first-screen", "pauses"))
    add_smoke(parser)
    args = parser.parse_args()
    runs = 1 if args.smoke else args.runs
    deploys = 1 if args.smoke else args.deploys
    if args.smoke:
        # One pretend account for the in-process start and the deploy: the sandbox builds an
        # account's backends once (seconds), and a start makes nothing a deploy would find.
        global ACCOUNTS, SMOKE_LOOK
        ACCOUNTS = itertools.repeat(next(ACCOUNTS))
        SMOKE_LOOK = 0.01
    tmp = Path(tempfile.mkdtemp(prefix="bench-ui-"))
    info = tmp / "cli" / sandbox.INFO_FILE  # where `runbook --sandbox` in cli/ looks for it
    try:
        if args.only in (None, "first-screen"):
            first_screen(args, runs, tmp)  # its first run starts the sandbox in cli/
        if args.only in (None, "pauses"):
            pauses(args, deploys, sandbox.ensure_running(info), tmp)
    finally:
        sandbox.stop(info)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    run(main)
