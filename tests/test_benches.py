"""Every bench still runs: each one, once, in its smoke mode (one small round, no speed judged),
as a process of its own. A bench that fails fails here; one that cannot run on this machine
says why and is skipped with that reason."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# The longest smoke runs first, by their measured CPU and wall time alone on this machine
# (each a sandbox deploy or more down to bench_edge's few seconds): with `-n 2` the short
# ones then fill in beside them instead of one worker ending on a long one.
LONGEST_FIRST = (
    "bench_ui.py",
    "bench_image.py",
    "bench_sandbox.py",
    "bench_engine.py",
    "bench_faults.py",
    "bench_day_two.py",
    "bench_own_apps.py",
    "bench_todo_hot_path.py",
    "bench_status.py",
    "bench_todo_api.py",
    "bench_failing_database.py",
    "bench_start_up.py",
    "bench_suite.py",
    "bench_todo_slow_clients.py",
    "bench_edge.py",
)
BENCHES = sorted(
    (path.name for path in (REPO / "bench").glob("bench_*.py")),
    key=lambda name: (
        LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST),
        name,
    ),
)
SKIPPED_PREFIX = "bench skipped:"  # bench/goals.py prints it
SMOKE_SECONDS = 600  # a smoke run takes seconds to a minute; this is only a backstop


@pytest.mark.parametrize("bench", BENCHES)
def test_each_bench_runs_in_smoke_mode(bench: str) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    done = subprocess.run(
        [sys.executable, f"bench/{bench}", "--smoke"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=SMOKE_SECONDS,
        stdin=subprocess.DEVNULL,
    )
    skipped = [line for line in done.stdout.splitlines() if line.startswith(SKIPPED_PREFIX)]
    if done.returncode == 0 and skipped:
        pytest.skip(skipped[0])
    assert done.returncode == 0, (
        f"{bench} --smoke exited {done.returncode}\n"
        f"--- stdout\n{done.stdout[-4000:]}\n--- stderr\n{done.stderr[-4000:]}"
    )
    assert done.stdout.strip(), f"{bench} --smoke printed no figure"
