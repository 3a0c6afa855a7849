"""Suite benchmark: the whole test suite's wall time on this machine, as CI runs it.

Run: python bench/bench_suite.py [--runs N] [-- PYTEST_ARGS...]
Runs `python -m pytest -n 2` (what .ci/run runs) in this checkout N times and prints the
median wall time next to issue 18's goal, with the slowest tests of the last run. Smoke mode
runs one small test file once instead: it proves the bench runs, and judges nothing (the
smoke test itself runs inside the suite).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

from goals import GOAL_SUITE, add_smoke, figure, run

REPO = Path(__file__).resolve().parents[1]
# Quick: no database, no emulator, no fixture; and without the conftests, which import the
# engine, moto and the Todo API's test parts for the suite (6 of the smoke's 11 s of CPU).
SMOKE_ARGS = ["tests/todo_app/test_todo_framing.py", "--noconftest"]


def run_suite(pytest_args: list[str]) -> tuple[float, str, int]:
    """Wall seconds, pytest's output, and its exit code."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *pytest_args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    return time.perf_counter() - started, done.stdout + done.stderr, done.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    add_smoke(parser)
    parser.add_argument("pytest_args", nargs="*", help="instead of the whole suite")
    args = parser.parse_args()
    if args.smoke:
        runs, pytest_args = 1, [*SMOKE_ARGS, "--durations=10"]  # the slowest are read too
    else:
        runs, pytest_args = args.runs, args.pytest_args or ["-n", "2", "--durations=10"]
    times: list[float] = []
    output, code = "", 0
    for _ in range(runs):
        seconds, output, code = run_suite(pytest_args)
        times.append(seconds)
    summary = [line for line in output.splitlines() if re.search(r"\d+ (passed|failed)", line)]
    print(f"== pytest {' '.join(pytest_args)} ({runs} runs, load average {os.getloadavg()[0]:.1f})")
    print(f"  last run: {summary[-1].strip('= ') if summary else 'no summary line'}")
    slowest = output.split("slowest", 1)[1].splitlines()[1:11] if "slowest" in output else []
    for line in slowest:
        print(f"    {line}")
    print("  " + figure(GOAL_SUITE, statistics.median(times), args.smoke, digits=0))
    if code != 0:
        print(output[-3000:])
        sys.exit(f"pytest exited {code}")


if __name__ == "__main__":
    run(main)
