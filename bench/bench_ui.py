"""UI benchmarks: time to the first screen accepting keys, and the UI's longest pause in a deploy.

Run: python bench/bench_ui.py [--runs N]
Prints figures (medians of N runs), asserts nothing. Everything runs against the local
emulator on loopback:

- in-process: from building the app to the welcome screen current with a focused widget
  (Textual's headless driver, 80x24);
- whole process: `runbook --sandbox` (this checkout's, via `python -c`) in an 80x24
  pseudo-terminal, from spawn to the welcome screen painted, then ctrl+q;
- responsiveness: a 10 ms timer in the app records the gaps between its ticks while a full
  sandbox deploy runs in the app's workers, driven by keys (ctrl+r, y, ctrl+n).

The emulator runs in its own background process, as `runbook --sandbox` runs it, and is
stopped at the end.
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

# This checkout, whatever else is installed (an editable install may point elsewhere).
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from goals import GOAL_FIRST_SCREEN, GOAL_LONGEST_PAUSE, add_smoke, figure  # noqa: E402

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
from screens.summary.summary_screen import SummaryScreen  # noqa: E402
from screens.welcome.welcome_screen import WelcomeScreen  # noqa: E402

ACCOUNTS = itertools.count(300_000_000_001)
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


async def until(pilot: Any, condition: Callable[[], object], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(str(condition))
        await pilot.pause(0.001)


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
    """Spawn `runbook --sandbox` on an 80x24 pty; seconds until the welcome screen is painted."""
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


async def deploy_gaps(url: str, state: Path) -> tuple[list[float], float]:
    """Gaps (seconds) between 10 ms ticks while all six sections run; and the deploy's time."""
    app = sandbox_app(url, state)
    ticks: list[float] = []
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.screen.query("#findings").first().findings is not None)
        app.set_interval(0.01, lambda: ticks.append(time.perf_counter()))
        started = time.perf_counter()
        await pilot.press("b")
        for number in ("I", "II", "III", "IV", "V", "VI"):
            await pilot.press("ctrl+r")
            await until(pilot, lambda: isinstance(app.screen, ConfirmRun))
            await pilot.press("y")
            await until(pilot, lambda n=number: app.progress[n].status == "done")
            if number != "VI":
                await pilot.press("ctrl+n")
        # Section VI stays on its log when done (the person reads the rollout); ctrl+s shows
        # the summary, as the log's last line says.
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, SummaryScreen))
        took = time.perf_counter() - started
    during = [t for t in ticks if t >= started]
    return [b - a for a, b in itertools.pairwise(during)], took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    add_smoke(parser)
    args = parser.parse_args()
    runs = 1 if args.smoke else args.runs
    deploys = 1 if args.smoke else 3
    tmp = Path(tempfile.mkdtemp(prefix="bench-ui-"))
    workdir = tmp / "cli"
    info = workdir / sandbox.INFO_FILE  # where `runbook --sandbox` in workdir looks for it
    url = sandbox.ensure_running(info)
    try:
        asyncio.run(startup_once(url, tmp / "warm.json"))  # moto builds its backends once
        starts = [asyncio.run(startup_once(url, tmp / f"start-{i}.json")) for i in range(runs)]
        imports = [import_time() for _ in range(3)]
        print(
            f"first screen accepting keys, in-process ({runs} runs, app built -> welcome focused):"
        )
        print(
            f"  median {statistics.median(starts) * 1000:.0f} ms, max {max(starts) * 1000:.0f} ms;"
            f" importing the app in a fresh interpreter: {statistics.median(imports) * 1000:.0f} ms"
        )

        times = [process_once(workdir) for _ in range(runs)]
        print(f"whole process, `runbook --sandbox` to the welcome screen painted ({runs} runs):")
        print(f"  median {statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms")
        print("  " + figure(GOAL_FIRST_SCREEN, statistics.median(times), args.smoke, digits=3))

        worst: list[float] = []
        for i in range(deploys):
            gaps, took = asyncio.run(deploy_gaps(url, tmp / f"deploy-{i}.json"))
            worst.append(max(gaps))
            print(
                f"deploy {i + 1}: {took:.1f} s, {len(gaps)} ticks of a 10 ms timer, longest gap "
                f"{max(gaps) * 1000:.0f} ms, p99 {statistics.quantiles(gaps, n=100)[98] * 1000:.0f}"
                f" ms, over 50 ms: {sum(g > 0.05 for g in gaps)}"
            )
        print(f"longest pause in {deploys} deploys:")
        print("  " + figure(GOAL_LONGEST_PAUSE, max(worst) * 1000, args.smoke, digits=0))
    finally:
        sandbox.stop(info)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
