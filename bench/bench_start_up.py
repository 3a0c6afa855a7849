"""Start-up: `runbook --help` and `runbook plan --offline` as whole processes, next to issue 18's
goals, with the interpreter's own start as the floor beneath them.

Run: python bench/bench_start_up.py [--runs N]
Each command is started N times in turn (A B C A B C ...: a machine whose speed drifts moves
them alike) in an empty folder, with no AWS credentials; one warm-up round first (it also
builds the compact index of botocore's models if this botocore has none yet). Figures are
medians of wall time and of CPU time (user + system, the operating system's accounting of
the finished child): on a shared machine the wall time waits for other processes, the CPU
time much less so.

Bytecode: an installed package runs from compiled bytecode. An environment with
PYTHONDONTWRITEBYTECODE set never keeps any for an editable checkout, so every run compiles
every module again; the headline figures keep bytecode (in a folder of this run's own,
PYTHONPYCACHEPREFIX), and one more line shows the same plan compiled afresh each time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from goals import GOAL_HELP, GOAL_PLAN, add_smoke, figure, run

HEAVY = ("boto3", "botocore", "s3transfer", "rich", "textual", "moto")
PROBE = (
    "import json, sys\nfrom runbook.cli import main\n"
    "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
    f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]), file=sys.stderr)\n"
)


def runbook_command() -> list[str]:
    """The console script beside this interpreter (what a person runs); else the module."""
    script = Path(sys.executable).with_name("runbook")
    return [str(script)] if script.exists() else [sys.executable, "-m", "runbook.cli"]


def run_once(args: list[str], env: dict[str, str], cwd: str) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (the child's user + system) and the exit code."""
    started = time.perf_counter()
    child = subprocess.Popen(
        args, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_utime + usage.ru_stime, child.returncode


def medians(
    commands: dict[str, list[str]], env: dict[str, str], cwd: str, runs: int, warm: bool = True
) -> dict[str, tuple[float, float]]:
    """Each command's median wall and CPU seconds, the commands taken in turn each round
    (after a warm-up round unless not `warm`)."""
    walls: dict[str, list[float]] = {name: [] for name in commands}
    cpus: dict[str, list[float]] = {name: [] for name in commands}
    for round_ in range(runs + 1) if warm else range(1, runs + 1):
        for name, args in commands.items():
            wall, cpu, code = run_once(args, env, cwd)
            if code not in (0, 2):  # 2: the guide's db.t2.micro is refused, as it should be
                raise SystemExit(f"{' '.join(args)} exited {code}")
            if round_:  # round 0 warms up: caches, the index, the bytecode
                walls[name].append(wall)
                cpus[name].append(cpu)
    return {n: (statistics.median(walls[n]), statistics.median(cpus[n])) for n in commands}


def heavy_modules(env: dict[str, str], cwd: str, *args: str) -> list[str]:
    """Which heavy packages `runbook ARGS` imports (run after the warm-up)."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], env=env, cwd=cwd, capture_output=True, text=True
    )
    return json.loads(done.stderr.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    add_smoke(parser)
    args = parser.parse_args()
    runs = 1 if args.smoke else args.runs
    runbook = runbook_command()
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env |= {"AWS_CONFIG_FILE": f"{tmp}/none", "AWS_SHARED_CREDENTIALS_FILE": f"{tmp}/none"}
        cached = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
        cached["PYTHONPYCACHEPREFIX"] = f"{tmp}/bytecode"
        work = f"{tmp}/work"
        os.mkdir(work)  # no state file: a plan of a new deployment
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "runbook --help": [*runbook, "--help"],
            "runbook plan --offline": [*runbook, "plan", "--offline"],
            "runbook plan --offline --json": [*runbook, "plan", "--offline", "--json"],
        }
        warm = not args.smoke  # a smoke run's figures mean nothing: no warm-up round
        found = medians(commands, cached, work, runs, warm)
        uncached_env = env | {"PYTHONDONTWRITEBYTECODE": "1"}
        uncached_env.pop("PYTHONPYCACHEPREFIX", None)
        plan_only = {"plan": commands["runbook plan --offline"]}
        uncached = medians(plan_only, uncached_env, work, runs, warm)["plan"]
        loads = {
            "--help": heavy_modules(cached, work, "--help"),
            "plan --offline": heavy_modules(cached, work, "plan", "--offline"),
        }

    print(f"== start-up, whole process (median of {runs}; {' '.join(runbook)})")
    for name, (wall, cpu) in found.items():
        print(f"  {name:32} wall {wall:6.3f} s   cpu {cpu:6.3f} s")
    print("  " + figure(GOAL_HELP, found["runbook --help"][0], args.smoke, digits=3))
    print("  " + figure(GOAL_PLAN, found["runbook plan --offline"][0], args.smoke, digits=3))
    print(
        f"  plan --offline, every module compiled afresh (no bytecode kept): "
        f"wall {uncached[0]:.3f} s, cpu {uncached[1]:.3f} s"
    )
    for what, heavy in loads.items():
        print(f"  {what} imports: {', '.join(heavy) or 'none'} of {', '.join(HEAVY)}")


if __name__ == "__main__":
    run(main)
