"""Day-two benchmarks: what a look at the service costs, how long a plan takes to show, and
whether the log view keeps up with a burst of lines without stalling the UI.

Run: python bench/bench_day_two.py [--runs N] [--lines N] [--bursts N]
Prints figures (medians of N runs, each against a baseline measured in the same run), asserts
nothing. Everything runs against the background sandbox (emulator and data plane, its own
process, as `runbook --sandbox` runs it: real tasks, so a look reads real ones), stopped at the
end:

- a look (what the service view polls: deployments, tasks, events, target health): time and
  calls, against one describe_services alone;
- each day-two plan (the reads before its calls are shown): time;
- the log view: a 10 ms timer's longest gap while bursts of lines arrive and are drawn,
  against the same view idle for as long; and how long after the last burst its last line
  shows.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

# This checkout, whatever else is installed (an editable install may point elsewhere).
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from goals import parse, run  # noqa: E402

from runbook import day_two, sandbox, service_status  # noqa: E402
from runbook.aws import Aws  # noqa: E402
from runbook.cli.target import poll_sleep  # noqa: E402
from runbook.engine import EngineFor, Runbook  # noqa: E402
from runbook.image import Build, ContainerEngine  # noqa: E402
from runbook.sandbox import Timings  # noqa: E402
from runbook.settings import Settings  # noqa: E402
from runbook.state import StateFile  # noqa: E402
from screens.app import make_app  # noqa: E402
from screens.service.logs_screen import LogsScreen  # noqa: E402

SIZE = (80, 24)
GROUP, STREAM = "/ecs/flask-todo", "todo-api/todo-api/0123456789abcdef"


def median_ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:.1f} ms"


def timed(work: Callable[[], Any], runs: int) -> list[float]:
    took = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        took.append(time.perf_counter() - started)
    return took


def write_lines(aws: Aws, count: int, start: int) -> None:
    now = int(time.time() * 1000)
    events = [
        {"timestamp": now, "message": f'{{"method":"GET","path":"/todos","n":{start + i}}}'}
        for i in range(count)
    ]
    for first in range(0, count, 5000):  # put_log_events takes up to 10,000 a call
        aws.client("logs").put_log_events(
            logGroupName=GROUP, logStreamName=STREAM, logEvents=events[first : first + 5000]
        )


async def log_view(
    engine_for: EngineFor,
    aws: Aws,
    bursts: int,
    lines: int,
    settle: float = 1.0,
    every: float = 0.5,
) -> tuple[float, float, float]:
    """Longest gap while bursts arrive, longest gap idle as long, and the last line's lag
    (`settle`: seconds the view is left alone first; `every`: seconds between bursts, and
    between the view's polls)."""
    app = make_app(engine_for, "sandbox", "local emulator (sandbox)")
    app.follow_every = every
    ticks: list[float] = []
    async with app.run_test(size=SIZE) as pilot:
        await app.switch_screen("logs")
        screen = app.logs_screen
        assert isinstance(screen, LogsScreen)
        app.set_interval(0.01, lambda: ticks.append(time.perf_counter()))
        await pilot.pause(settle)
        idle_from = time.perf_counter()
        await pilot.pause(bursts * every + settle)
        idle_to = started = time.perf_counter()
        for burst in range(bursts):
            if burst:
                await pilot.pause(every)
            # From another thread, as the app's own writers are: not the UI's pause.
            await asyncio.to_thread(write_lines, aws, lines, burst * lines)
        written = time.perf_counter()
        last = f'"n":{bursts * lines - 1}}}'
        while not (screen.lines and screen.lines[-1].endswith(last)):
            await pilot.pause(0.005)
            if time.perf_counter() - written > 60:
                raise TimeoutError("the log view fell behind")
        lag = time.perf_counter() - written
        ended = time.perf_counter()

    def longest(a: float, b: float) -> float:
        inside = [t for t in ticks if a <= t <= b]
        return max((y - x for x, y in itertools.pairwise(inside)), default=0.0)

    return longest(started, ended), longest(idle_from, idle_to), lag


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--lines", type=int, default=2000, help="lines per burst")
    parser.add_argument("--bursts", type=int, default=5, help="half a second apart")
    # Smoke: two bursts still, a fifth of a second apart, the view polling as often.
    options = parse(parser, runs=1, lines=100, bursts=2)
    settle, every = (0.2, 0.2) if options.smoke else (1.0, 0.5)
    tmp = Path(tempfile.mkdtemp(prefix="bench-day-two-"))
    info = tmp / sandbox.INFO_FILE
    url = sandbox.ensure_running(info)
    try:
        aws = Aws("us-east-1", endpoint_url=url, credentials=sandbox.credentials(info))
        settings = Settings().replace("database", instance_class="db.t4g.micro")
        sleep = poll_sleep(Timings())
        # The image is built and pushed as `runbook --sandbox` does: by the sandbox's stand-in.
        build = Build(engine=ContainerEngine(sandbox.engine_path(info)))
        run_with = {"sandbox": True, "sleep": sleep, "build": build}
        Runbook(settings, aws, StateFile(tmp / "a.json"), **run_with).deploy()
        bigger = settings.replace("task_definition", cpu="512", memory="1024")
        runbook = Runbook(bigger, aws, StateFile(tmp / "b.json"), **run_with)
        runbook.deploy()  # a second revision: the rollback has somewhere to go

        where = {"cluster": settings.cluster.name, "services": [settings.service.name]}
        baseline = timed(lambda: aws.call("ecs", "describe_services", **where), options.runs)
        before = sum(aws.calls.values())
        looks = timed(lambda: service_status.read(aws, bigger), options.runs)
        calls = (sum(aws.calls.values()) - before) / options.runs
        print(f"a look at the service ({options.runs} runs, the sandbox running its tasks):")
        print(
            f"  median {median_ms(looks)}, {calls:.0f} calls; one describe_services alone "
            f"{median_ms(baseline)} ({statistics.median(looks) / statistics.median(baseline):.1f}x)"
        )
        print(
            "  polled every 2 s while the service view is shown, so about "
            f"{calls / 2:.1f} calls a second, and none when it is not"
        )

        print("a day-two plan, key to calls shown (the reads before the dialog):")
        for kind, count in (("scale", 3), ("redeploy", None), ("rollback", None)):
            took = timed(
                lambda k=kind, c=count: day_two.plan(runbook.aws, runbook.settings, k, c),
                options.runs,
            )
            print(f"  {kind:<9} median {median_ms(took)}")

        aws.client("logs").create_log_stream(logGroupName=GROUP, logStreamName=STREAM)
        app_engine = partial(Runbook, bigger, aws, StateFile(tmp / "b.json"), **run_with)
        busy, idle, lag = asyncio.run(
            log_view(
                lambda listener: app_engine(emit=listener),
                aws,
                options.bursts,
                options.lines,
                settle,
                every,
            )
        )
        print(
            f"the log view, {options.bursts} bursts of {options.lines} lines {every:g} s apart"
            " (80x24):"
        )
        print(
            f"  longest UI pause {busy * 1000:.0f} ms while they arrive, {idle * 1000:.0f} ms "
            f"idle as long ({busy / idle:.1f}x); the last line shows {lag:.2f} s after the last "
            f"burst (one poll is 2 s in the app, {every:g} s here)"
        )
    finally:
        sandbox.stop(info)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    run(main)
