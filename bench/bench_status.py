"""What finding everything by tag costs: `status` by name alone against by name and by tag.

Run: python bench/bench_status.py [--runs N]
One deployment in the local emulator; then, in alternation, a fresh engine discovers every
section by name (what `status` did before) and does the whole `status` (by name, then the
inventory by tag). Figures are medians of wall time and the AWS calls each makes.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from bench_engine import account, warm  # bench/ is on the path when run as a script
from goals import parse, run

from runbook import destroy as tear_down
from runbook.engine import Runbook
from runbook.image import Build
from runbook.sandbox import Emulator
from runbook.sandbox.container_engine import stand_in
from runbook.settings import Settings
from runbook.state import StateFile


def engine(aws, state: Path) -> Runbook:
    settings = Settings().replace("database", instance_class="db.t4g.micro")
    build = Build(engine=stand_in(aws.endpoint_url, state.parent / "engine"))
    return Runbook(settings, aws, StateFile(state), sandbox=True, sleep=lambda _: None, build=build)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    runs = parse(parser, runs=1).runs
    emulator = Emulator().start()
    try:
        aws = account(emulator.url)
        warm(aws)
        with tempfile.TemporaryDirectory() as tmp:
            state = Path(tmp) / "state.json"
            engine(aws, state).deploy()
            by_name: list[float] = []
            by_tag: list[float] = []
            calls_name = calls_tag = 0
            for _ in range(runs):
                aws.calls.clear()
                runbook = engine(aws, state)
                started = time.perf_counter()
                for step in runbook.steps:
                    runbook.discover(step)
                by_name.append(time.perf_counter() - started)
                calls_name = sum(aws.calls.values())

                aws.calls.clear()
                runbook = engine(aws, state)
                started = time.perf_counter()
                tear_down.status(runbook)
                by_tag.append(time.perf_counter() - started)
                calls_tag = sum(aws.calls.values())
        name_s, tag_s = statistics.median(by_name), statistics.median(by_tag)
        print(f"status by name only:        {name_s * 1000:7.1f} ms  {calls_name} calls")
        print(f"status by name and by tag:  {tag_s * 1000:7.1f} ms  {calls_tag} calls")
        print(f"ratio (by tag / by name):   {tag_s / name_s:7.2f}   (median of {runs} each)")
    finally:
        emulator.stop()


if __name__ == "__main__":
    run(main)
