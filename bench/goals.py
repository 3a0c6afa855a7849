"""What every bench shares: a smoke mode, a clean skip, and figures next to issue 18's goals.

Smoke mode (`--smoke`, or BENCH_SMOKE=1 in the environment) is one small round of the
bench's own work, its figures printed as usual: it proves the bench still runs, and says
nothing about speed (tests/test_benches.py runs every bench so). A bench that needs what this
machine lacks says what, on a line starting with SKIPPED_PREFIX, and exits 0.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

SMOKE_ENV = "BENCH_SMOKE"
SKIPPED_PREFIX = "bench skipped:"


def add_smoke(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--smoke",
        action="store_true",
        default=os.environ.get(SMOKE_ENV, "") not in ("", "0"),
        help=f"one small round: proves the bench runs, measures nothing ({SMOKE_ENV}=1 too)",
    )


def parse(parser: argparse.ArgumentParser, **smoke: Any) -> argparse.Namespace:
    """The bench's options, --smoke among them; with it, `smoke`'s values take the place of
    the options they name (one small round)."""
    add_smoke(parser)
    args = parser.parse_args()
    if args.smoke:
        for name, value in smoke.items():
            setattr(args, name, value)
    return args


def run(main: Callable[[], int | None]) -> NoReturn:
    """Run a bench's main and end its process the moment it returns. Its figures are printed
    and whatever it started is stopped by then (each main's own `finally`); what is left is the
    interpreter tearing down its objects one by one, with a collection over them all: over a
    second of CPU where moto's tables live in the process, for nothing. `python -m
    runbook.sandbox` skips it the same way. A bench that fails still exits as usual."""
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code or 0)


def skip(reason: str) -> NoReturn:
    """End the bench cleanly when it cannot run here, saying why."""
    print(f"{SKIPPED_PREFIX} {reason}", flush=True)
    sys.exit(0)


@dataclass(frozen=True)
class Goal:
    """One of issue 18's goals: a figure is met when `below` (or `at_least`) holds."""

    what: str
    unit: str
    below: float | None = None
    at_least: float | None = None

    def met(self, value: float) -> bool:
        if self.below is not None:
            return value < self.below
        assert self.at_least is not None
        return value >= self.at_least

    def wanted(self) -> str:
        if self.below is not None:
            return f"< {self.below:g}{self.unit}"
        return f">= {self.at_least:g}{self.unit}"


# Issue 18, "What must be true": one home for every bench's goals.
GOAL_PLAN = Goal("`runbook plan --offline` (whole process)", " s", below=0.25)
GOAL_HELP = Goal("`runbook --help` (whole process)", " s", below=0.1)
GOAL_FIRST_SCREEN = Goal("first screen of `runbook --sandbox`", " s", below=0.4)
GOAL_LONGEST_PAUSE = Goal("the app's longest pause during a deploy", " ms", below=50)
GOAL_FIRST_200 = Goal("`runbook deploy --yes --sandbox` to the first 200", " s", below=5)
GOAL_API_RATE = Goal("GET /todos rate / bare endpoint rate", "x", at_least=0.8)
GOAL_API_P99 = Goal("GET /todos p99 at 32 connections", " ms", below=25)
GOAL_API_MEMORY = Goal("the API's memory (gunicorn master + workers, RSS)", " MiB", below=150)
GOAL_SUITE = Goal("the test suite on 2 cores", " s", below=180)


def figure(goal: Goal, value: float, smoke: bool = False, digits: int = 2) -> str:
    """`what: value  (goal < x: met)`; in smoke mode the verdict is withheld (one small round
    proves nothing)."""
    verdict = "smoke run, not judged" if smoke else ("met" if goal.met(value) else "MISSED")
    return f"{goal.what}: {value:.{digits}f}{goal.unit}  (goal {goal.wanted()}: {verdict})"
