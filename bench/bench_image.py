"""Image benchmark: does building and pushing the image cost the deploy any time?

Run: python bench/bench_image.py [--runs N] [--timings aws:0.05]
Each run deploys from nothing into the in-process sandbox (emulator and data plane) with AWS's
timings scaled (RDS creating about 7 minutes, an ALB provisioning, tasks pending, health checks
at the target group's interval, and the container engine stand-in's first build of about a
minute and push of about 75 MB at 2 MB/s), all scaled by the factor. Figures, on the same run:

- the deploy's wall time, next to its critical path: the database's creation (create call to
  available) and then the service to healthy (create call to stable), which no overlap can
  shorten; goal: wall / critical path at most 1.1;
- the image's login + build + push time, and whether it ended before the database was ready;
- what the wall time would have been had the push started only after the database (the
  runbook before this work: the person pushed once section VI asked), i.e. the wall time plus
  the image's time: derived, not measured;
- a redeploy after a code change: wall time to the new revision stable, its build and push, and
  the rollout (update call to stable).
Medians over the runs, with min-max.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from runbook.aws import Aws  # noqa: E402
from runbook.engine import Runbook  # noqa: E402
from runbook.events import CallMade, Event, ImageProgress, Waiting  # noqa: E402
from runbook.image import Build, ContainerEngine  # noqa: E402
from runbook.sandbox import CREDENTIALS, PARTS, Emulator, Timings  # noqa: E402
from runbook.sandbox.container_engine import install  # noqa: E402
from runbook.sandbox.image import SOURCE  # noqa: E402
from runbook.settings import Settings  # noqa: E402
from runbook.state import StateFile  # noqa: E402


class Clock:
    """Every event with the moment it was sent."""

    def __init__(self) -> None:
        self.seen: list[tuple[float, Event]] = []

    def __call__(self, event: Event) -> None:
        self.seen.append((time.monotonic(), event))

    def call(self, operation: str) -> float:
        """When a call was sent (its event comes when it answers)."""
        return next(
            t - e.seconds
            for t, e in self.seen
            if isinstance(e, CallMade) and e.operation == operation and e.outcome == "ok"
        )

    def waited(self, section: str, starts: str) -> float:
        return next(
            t
            for t, e in self.seen
            if isinstance(e, Waiting)
            and e.section == section
            and e.what.startswith(starts)
            and e.detail == "done"
        )

    def image(self) -> tuple[float, float]:
        marks = [t for t, e in self.seen if isinstance(e, ImageProgress)]
        pushed = [t for t, e in self.seen if isinstance(e, ImageProgress) and e.phase == "pushed"]
        return marks[0], pushed[-1]


def deploy(aws: Aws, app: Path, engine: ContainerEngine, state: Path) -> tuple[Clock, float]:
    clock = Clock()
    settings = Settings().replace("database", instance_class="db.t4g.micro")
    runbook = Runbook(
        settings,
        aws,
        StateFile(state),
        emit=clock,
        sandbox=True,
        sleep=lambda seconds: time.sleep(min(seconds, 0.25)),
        build=Build(app, engine),
    )
    started = time.monotonic()
    summary = runbook.deploy()
    wall = time.monotonic() - started
    assert summary.probe is not None and summary.probe.ok, summary
    runbook.close()
    return clock, wall


def one_run(timings: Timings) -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix="bench-image-"))
    app = work / "todo_app"
    shutil.copytree(SOURCE, app, ignore=shutil.ignore_patterns("__pycache__"))
    emulator = Emulator(parts=PARTS, timings=timings, folder=work / "sandbox").start()
    try:
        plane = emulator.data_plane
        assert plane is not None
        engine = ContainerEngine(str(install(work / "bin", emulator.url, plane.folder, timings)))
        aws = Aws(
            "us-east-1",
            endpoint_url=emulator.url,
            credentials=CREDENTIALS,
            load_balancer_url=plane.local_url,
        )
        clock, wall = deploy(aws, app, engine, work / "state.json")
        db = clock.waited("IV", "database") - clock.call("create_db_instance")
        service = clock.waited("VI", "service") - clock.call("create_service")
        image_start, image_end = clock.image()
        figures = {
            "deploy wall time": wall,
            "critical path (database created + service to healthy)": db + service,
            "  database: create call to available": db,
            "  service: create call to stable": service,
            "image: login + build + push": image_end - image_start,
            "image pushed, seconds before the database was available": clock.waited("IV", "d")
            - image_end,
        }
        figures["ratio: wall / critical path"] = wall / (db + service)
        figures["derived: wall had the push followed the database"] = wall + (
            image_end - image_start
        )

        init = app / "todos.py"
        init.write_text(init.read_text() + "\n# a change: a new version\n")
        clock, wall = deploy(aws, app, engine, work / "state.json")
        image_start, image_end = clock.image()
        figures["redeploy after a code change: wall to the new revision stable"] = wall
        figures["  its build + push (cached layers reused)"] = image_end - image_start
        figures["  its rollout: update call to stable"] = clock.waited(
            "VI", "service"
        ) - clock.call("update_service")
        return figures
    finally:
        emulator.stop()
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timings", type=Timings.parse, default=Timings.parse("aws:0.05"))
    args = parser.parse_args()
    runs: list[dict[str, Any]] = [one_run(args.timings) for _ in range(args.runs)]
    print(
        f"== deploy --sandbox --timings {args.timings} from nothing, then a redeploy after a "
        f"code change ({args.runs} runs; median [min-max])"
    )
    for key in runs[0]:
        values = [run[key] for run in runs]
        unit = "x" if key.startswith("ratio") else " s"
        print(
            f"  {key:<66} {statistics.median(values):7.2f}{unit}"
            f"  [{min(values):.2f}-{max(values):.2f}]"
        )
    ratio = statistics.median(run["ratio: wall / critical path"] for run in runs)
    print(f"  goal: wall / critical path at most 1.1x: {'met' if ratio <= 1.1 else 'NOT met'}")
    print(f"  load average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
