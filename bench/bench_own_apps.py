"""Time from `runbook init DIR --yes --sandbox` to the first HTTP 200 through the sandbox's
local URL, for each app of tests/apps, as a person runs the commands (each a process of its
own); and what init found by itself and what it had to ask.

Each round starts in a fresh folder with no sandbox running (the emulator starts, the
database is created, the image built, the service rolled out). Images' Python environments are
this machine's cache (runbook/sandbox/image_build.py: environments()): the first round of an
app makes its environment (pip), later rounds find it. `--cold` gives every round an empty
cache. Prints the median of the rounds; `--smoke` runs one round of one app.

    python bench/bench_own_apps.py [--rounds 3] [--cold] [--smoke]
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
import urllib.request
from pathlib import Path

from goals import parse

from runbook.sandbox.background import INFO_FILE, stop

REPO = Path(__file__).resolve().parents[1]
APPS = REPO / "tests" / "apps"
CONFIG = '[database]\ninstance_class = "db.t4g.micro"\n'


def runbook(folder: Path, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "runbook.cli", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=900,
    )
    if done.returncode != 0:
        raise SystemExit(f"runbook {' '.join(args)} failed:\n{done.stdout[-3000:]}{done.stderr}")
    return done.stdout


def first_200(url: str, path: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + path, timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"no 200 from {url}{path}")


def one_round(name: str, cold: bool) -> tuple[float, str]:
    work = Path(tempfile.mkdtemp(prefix=f"bench-own-{name}-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["RUNBOOK_SECRET_API_TOKEN"] = "bench-only-token"
    if cold:
        env["RUNBOOK_VENV_CACHE"] = str(work / "venvs")
    folder = work / name
    shutil.copytree(APPS / name, folder, ignore=shutil.ignore_patterns("__pycache__"))
    (work / "runbook.toml").write_text(CONFIG)
    try:
        started = time.monotonic()
        said = runbook(work, env, "init", name, "--yes", "--sandbox")
        runbook(work, env, "deploy", "--yes", "--sandbox", "--config", "runbook.toml")
        status = json.loads(runbook(work, env, "status", "--json", "--sandbox"))
        path = status.get("probe", {}).get("url", "").split(status["local_url"])[-1] or "/"
        first_200(status["local_url"], "/" + path.lstrip("/"), started + 900)
        return time.monotonic() - started, said
    finally:
        stop(work / INFO_FILE)  # what `runbook sandbox stop` does there, without its process
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cold", action="store_true", help="an empty environment cache a round")
    args = parse(parser, rounds=1)
    names = ["guestbook"] if args.smoke else sorted(p.name for p in APPS.iterdir() if p.is_dir())
    for name in names:
        times, said = [], ""
        for _ in range(args.rounds):
            seconds, said = one_round(name, args.cold)
            times.append(seconds)
        found = [line.strip() for line in said.splitlines() if "found:" in line]
        asked = [
            line.strip() for line in said.splitlines() if "proposal" in line or "asked" in line
        ]
        shown = ", ".join(f"{t:.1f}" for t in times)
        cache = "cold" if args.cold else "warm after round 1"
        print(
            f"{name}: init to first 200, median {statistics.median(times):.1f} s "
            f"of {args.rounds} ({shown}; environment cache {cache})"
        )
        print(f"  found by itself: {len(found)}; had to ask: {len(asked)}")
        for line in found + asked:
            print(f"    {line}")


if __name__ == "__main__":
    main()
