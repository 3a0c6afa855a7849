"""Pristine-machine benchmark: how long tests/pristine takes, from nothing and from its cache.

Run (as root): python bench/bench_pristine.py [--runs N] [--fresh]
Runs the fresh-machine check (`pytest tests/pristine`) N times and prints, per run and as
medians: building the Debian root (only with --fresh: a new, empty cache folder each run, so
debootstrap runs every time), the README's install as root and as the new user (both at
once, pip fetching from PyPI), `runbook deploy --yes --sandbox` to its first 200 through the
local URL, destroy, stop, and the whole test. The figures come from the check's own record
(last-run.json in its cache folder). Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from goals import parse, skip  # noqa: E402

from tests.pristine.debian_root import cache_folder  # noqa: E402


def one_run(fresh: bool) -> dict[str, float | None]:
    env = dict(os.environ)
    scratch = None
    if fresh:
        scratch = Path(tempfile.mkdtemp(prefix="bench-pristine-cache-"))
        env["RUNBOOK_PRISTINE_CACHE"] = str(scratch)
    cache = Path(env.get("RUNBOOK_PRISTINE_CACHE") or cache_folder())
    try:
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "tests/pristine", "-q", "-p", "no:cacheprovider"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        wall = time.monotonic() - started
        if done.returncode:
            sys.exit(f"the check failed:\n{done.stdout[-3000:]}")
        figures = json.loads((cache / "last-run.json").read_text())["figures"]
        return {**figures, "pytest_wall_seconds": round(wall, 1)}
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--fresh", action="store_true", help="build the Debian root each run")
    args = parse(parser)
    if args.smoke:
        # The check itself runs in every test session (tests/pristine, started with the
        # session): a second one here would double minutes of work. Its last figures instead.
        recorded = cache_folder() / "last-run.json"
        if not recorded.exists():
            skip(f"no fresh-machine check has recorded figures yet ({recorded})")
        figures = json.loads(recorded.read_text())["figures"]
        print("last check: " + ", ".join(f"{k} {v}" for k, v in figures.items()), flush=True)
        return
    if os.geteuid() != 0:
        sys.exit("run as root: the check builds a Debian root and enters it")
    runs = []
    for number in range(1, args.runs + 1):
        figures = one_run(args.fresh)
        runs.append(figures)
        print(f"run {number}: " + ", ".join(f"{k} {v}" for k, v in figures.items()), flush=True)
    print(f"medians of {len(runs)} run(s){' (root built each run)' if args.fresh else ''}:")
    for key in runs[0]:
        values = [r[key] for r in runs if isinstance(r.get(key), (int, float))]
        if values:
            print(f"  {key}: {statistics.median(values):.1f} s")


if __name__ == "__main__":
    main()
