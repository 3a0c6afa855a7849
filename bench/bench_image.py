"""Image benchmark: does building and pushing the image cost the deploy any time?

Run: python bench/bench_image.py [--runs N] [--timings aws:0.05]
Each run deploys from nothing into the in-process sandbox (emulator and data plane) with AWS's
timings scaled (RDS creating about 7 minutes, an ALB provisioning, tasks pending, health checks
at the target group's interval, and the container engine stand-in's first build of about a
minute and push of about 75 MB at 2 MB/s), all scaled by the factor; moto's per-account set-up
is done first, as the background sandbox does when it starts. Figures, on the same run:

- the deploy's wall time, next to its critical path: the database's creation (create call to
  available) and then the service to healthy (create call to stable), which no overlap can
  shorten (goal: wall / critical path at most 1.1), and the rest (the sections' own calls);
- the image's login + build + push time, and how long before the database it was done;
- the baseline, measured in the same run in a second account: the runbook before this work,
  where nobody builds until section VI asks and the person then builds and pushes (the same
  stand-in, the same job, run when VI's wait begins);
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

from goals import add_smoke, run  # noqa: E402
from warm_up import warm_up  # noqa: E402

from runbook.aws import Aws  # noqa: E402
from runbook.engine import Runbook  # noqa: E402
from runbook.events import CallMade, Event, ImageProgress, Waiting  # noqa: E402
from runbook.image import Build, ContainerEngine  # noqa: E402
from runbook.image.job import ImageJob  # noqa: E402
from runbook.sandbox import PARTS, Emulator, Timings  # noqa: E402
from runbook.sandbox.container_engine import stand_in  # noqa: E402
from runbook.sandbox.image import SOURCE  # noqa: E402
from runbook.settings import Settings  # noqa: E402
from runbook.state import StateFile  # noqa: E402
from runbook.steps.image import image_key  # noqa: E402


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
        marks = [t for t, e in self.seen if isinstance(e, ImageProgress) and e.phase == "login"]
        pushed = [t for t, e in self.seen if isinstance(e, ImageProgress) and e.phase == "pushed"]
        return marks[0], pushed[-1]


def in_account(emulator: Emulator, number: str) -> Aws:
    assert emulator.data_plane is not None
    aws = emulator.aws(number, label="")
    warm_up(aws)
    return aws


def cold_build_cache(store: Path) -> None:
    """A first build on this machine: the engine's local images (and their layers) forgotten."""
    (store / "engine" / "images.json").unlink(missing_ok=True)


def deploy(
    aws: Aws, build: Build, state: Path, person: ContainerEngine | None = None
) -> tuple[Clock, float]:
    """One deploy; with `person`, nobody builds until section VI asks, then they push (the
    runbook before this work, the push by hand once VI showed the commands)."""
    clock = Clock()
    settings = Settings().replace("database", instance_class="db.t4g.micro")
    runbook: Runbook | None = None

    def sleep(seconds: float) -> None:
        last = clock.seen[-1][1] if clock.seen else None
        if person and isinstance(last, Waiting) and "in ECR" in last.what and runbook:
            image = runbook.known[image_key(settings)]
            job = ImageJob(
                aws=aws,
                engine=person,
                context=build.context,
                image=image,
                platform="linux/amd64",
                section="VI",
                emit=clock,
            ).start()
            job.wait(600)
        time.sleep(min(seconds, 0.25))

    runbook = Runbook(
        settings, aws, StateFile(state), emit=clock, sandbox=True, sleep=sleep, build=build
    )
    started = time.monotonic()
    summary = runbook.deploy()
    wall = time.monotonic() - started
    assert summary.probe is not None and summary.probe.ok, summary
    runbook.close()
    return clock, wall


def one_run(timings: Timings, run: int) -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix="bench-image-"))
    app = work / "todo_app"
    shutil.copytree(SOURCE, app, ignore=shutil.ignore_patterns("__pycache__"))
    emulator = Emulator(parts=PARTS, timings=timings, folder=work / "sandbox").start()
    try:
        plane = emulator.data_plane
        assert plane is not None
        engine = stand_in(emulator.url, plane.folder, timings)
        aws = in_account(emulator, str(400_000_000_001 + 2 * run))
        cold_build_cache(plane.folder)
        clock, wall = deploy(aws, Build(app, engine), work / "state.json")
        db = clock.waited("IV", "database") - clock.call("create_db_instance")
        service = clock.waited("VI", "service") - clock.call("create_service")
        image_start, image_end = clock.image()
        figures = {
            "deploy wall time": wall,
            "critical path (database created + service to healthy)": db + service,
            "  database: create call to available": db,
            "  service: create call to stable": service,
            "  the rest: sections' own calls (I-III before, V after the database)": wall
            - db
            - service,
            "image: login + build + push, in the background": image_end - image_start,
            "  pushed this long before the database was available": clock.waited("IV", "d")
            - image_end,
            "ratio: wall / critical path": wall / (db + service),
        }
        before = in_account(emulator, str(400_000_000_002 + 2 * run))
        cold_build_cache(plane.folder)
        _, sequential = deploy(before, Build(app, None), work / "before.json", person=engine)
        figures["baseline, same run: pushed by hand when VI asks (before): wall"] = sequential
        figures["  the runbook's build in the background saves"] = sequential - wall

        todos = app / "todos.py"
        todos.write_text(todos.read_text() + "\n# a change: a new version\n")
        clock, wall = deploy(aws, Build(app, engine), work / "state.json")
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
    add_smoke(parser)
    args = parser.parse_args()
    if args.smoke:
        # The same steps with none of AWS's waits.
        args.runs, args.timings = 1, Timings.parse("instant")
    runs: list[dict[str, Any]] = [one_run(args.timings, run) for run in range(args.runs)]
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
    run(main)
