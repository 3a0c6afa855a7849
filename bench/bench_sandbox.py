"""Sandbox benchmark: `runbook deploy --yes --sandbox` until a 200 through the local URL, and
the memory of the whole sandbox while it serves.

Run: python bench/bench_sandbox.py [--runs N]
Run: python bench/bench_sandbox.py --smoke (one run of each: that it still works)
Each run starts from nothing (a fresh folder, no sandbox running) and runs this checkout's
`runbook deploy --yes --sandbox` as a person would. Figures: wall time to the first 200
through the load balancer's local URL (goal: under 5 s), with where the time goes (a
timeline: the sandbox process started, its imports done, the emulator answering, the
command line's account and tag check, each section, PostgreSQL, the task's start, its first
healthy target, the first 200), as medians over the runs; and the RSS and PSS of every
process the sandbox started. The baseline, in the same run: the same deploy against the
emulator alone (no data plane), in this process with no waits, its deploy time a floor.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from goals import GOAL_FIRST_200, figure, parse, run  # noqa: E402

from runbook.aws import Aws  # noqa: E402
from runbook.engine import Runbook  # noqa: E402
from runbook.image import Build  # noqa: E402
from runbook.sandbox import CREDENTIALS, Emulator  # noqa: E402
from runbook.sandbox.background import INFO_FILE, credentials, read_info, stop  # noqa: E402
from runbook.sandbox.container_engine import stand_in  # noqa: E402
from runbook.settings import Settings  # noqa: E402
from runbook.state import StateFile  # noqa: E402

CONFIG = '[database]\ninstance_class = "db.t4g.micro"\n'
LOG_LINE = re.compile(r"^(\d\d):(\d\d):(\d\d)\.(\d{3}) (.*)$")


def clock_of(line_time: tuple[str, ...], day_start: float) -> float:
    h, m, s, ms = (int(x) for x in line_time)
    return day_start + h * 3600 + m * 60 + s + ms / 1000


def sandbox_events(log: Path) -> list[tuple[float, str]]:
    """(epoch seconds, message) of the sandbox log's lines."""
    midnight = time.mktime((*time.localtime()[:3], 0, 0, 0, 0, 0, -1))
    found = []
    for line in log.read_text().splitlines():
        match = LOG_LINE.match(line)
        if match:
            found.append((clock_of(match.groups()[:4], midnight), match.group(5)))
    return found


def first(events: list[tuple[float, str]], pattern: str) -> float | None:
    return next((t for t, message in events if re.search(pattern, message)), None)


def one_run() -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix="bench-sandbox-"))
    (work / "runbook.toml").write_text(CONFIG)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    marks: dict[str, float] = {}
    done = threading.Event()

    def watch_url() -> None:
        """Poll the local URL's /healthz as soon as the sandbox names it: the first 200."""
        while not done.is_set():
            urls = (read_info(work / ".runbook" / "sandbox.json") or {}).get("load_balancers")
            for url in (urls or {}).values():
                try:
                    with urllib.request.urlopen(f"{url}/healthz", timeout=2) as answer:
                        if answer.status == 200:
                            marks["first 200"] = time.time()
                            return
                except OSError:
                    pass
            time.sleep(0.02)

    watcher = threading.Thread(target=watch_url, daemon=True)
    before = os.times().children_user + os.times().children_system
    started = time.time()
    watcher.start()
    log = work / "events.jsonl"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "runbook.cli",
            "deploy",
            "--yes",
            "--sandbox",
            "--config",
            "runbook.toml",
            "--log",
            str(log),
        ],
        cwd=work,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    sections: dict[str, float] = {}
    info_seen: dict[str, Any] = {}
    offset = 0  # of the event log, read so far
    while process.poll() is None or log.exists():
        if not info_seen:
            info_seen.update(read_info(work / ".runbook" / "sandbox.json") or {})
        if log.exists():
            # Only what was added since the last look, up to its last whole line: read whole
            # every 20 ms, the growing log cost this process seconds of CPU beside the deploy.
            with log.open("rb") as handle:
                handle.seek(offset)
                added = handle.read()
            added = added[: added.rfind(b"\n") + 1]
            offset += len(added)
            for line in added.decode().splitlines():
                event = json.loads(line)
                key = f"{event['event']} {event.get('section', '')}"
                sections.setdefault(key, time.time())
                if event.get("phase"):  # the image's: build, push, pushed
                    sections.setdefault(f"{key} {event['phase']}", time.time())
                if event.get("operation"):
                    sections.setdefault(f"{event['section']} {event['operation']}", time.time())
        if process.poll() is not None:
            break
        time.sleep(0.02)
    finished = time.time()
    cli_cpu = os.times()
    watcher.join(30)
    done.set()
    figures = {"deploy command": finished - started}
    if "first 200" in marks:
        figures["to the first 200"] = marks["first 200"] - started
    events = sandbox_events(work / ".runbook" / "sandbox.log")
    emulator = first(events, r"^sandbox: emulator at")
    if emulator:
        figures["emulator started"] = emulator - started
    postgres = re.search(r"PostgreSQL \d+ up in ([\d.]+) s", " ".join(m for _, m in events))
    if postgres:
        figures["PostgreSQL start (copy of template, server, master user)"] = float(
            postgres.group(1)
        )
    running = first(events, r"task .*: running")
    healthy = first(events, r"target .*: healthy")
    if running and healthy:
        figures["task running -> first healthy (migrations, gunicorn, health checks)"] = (
            healthy - running
        )
    for number in ("I", "II", "III", "IV", "V", "VI"):
        begin = sections.get(f"StepStarted {number}")
        end = sections.get(f"StepFinished {number}")
        if begin and end:
            figures[f"section {number}"] = end - begin
    figures.update(timeline(started, info_seen, events, sections, marks.get("first 200")))
    info = read_info(work / ".runbook" / "sandbox.json") or {}
    figures.update(memory(info))
    figures["CPU s: deploy command"] = cli_cpu.children_user + cli_cpu.children_system - before
    figures["CPU s: sandbox process (moto + data plane)"] = _cpu(info.get("pid", 0))
    figures["CPU s: tasks and PostgreSQL"] = sum(
        _cpu(p) for pid in info.get("pids", []) for p in _tree(pid)
    )
    task_running = first(events, r"task .*: running")
    migrations = migration_done(info, work / ".runbook" / "sandbox.json")
    if migrations is not None and task_running is not None:
        figures["migrations (task running -> migrate done)"] = migrations - task_running
    stop(work / INFO_FILE)  # what `runbook sandbox stop` does there, without its process
    shutil.rmtree(work, ignore_errors=True)
    return figures


def timeline(
    started: float,
    info: dict[str, Any],
    events: list[tuple[float, str]],
    sections: dict[str, float],
    first_200: float | None,
) -> dict[str, float]:
    """When each phase ended, in seconds from the command's start (`@` marks a moment)."""
    moments = {
        "sandbox process started": _started_at(info),
        "sandbox imports done": info.get("started"),
        "emulator answering": first(events, r"^sandbox: emulator at"),
        "account and tag check done (section I starts)": sections.get("StepStarted I"),
        "load balancer listening": first(events, r"listener \d+ at"),
        "image pushed (stand-in engine)": sections.get("ImageProgress III pushed"),
        "create_db_instance sent": sections.get("IV create_db_instance"),
        "PostgreSQL up": first(events, r"PostgreSQL \d+ up"),
        "create_service sent": sections.get("VI create_service"),
        "task provisioning": first(events, r"task .*: provisioning"),
        "task running (main process started)": first(events, r"task .*: running"),
        "first health check answered 200": first(events, r"target .*: healthy"),
        "first 200 through the listener": first_200,
    }
    found = sorted((at - started, name) for name, at in moments.items() if at)
    return {f"@ {name}": seconds for seconds, name in found}


def _started_at(info: dict[str, Any]) -> float | None:
    """The sandbox process's start (epoch seconds), from its start ticks since boot."""
    ticks = info.get("process_start")
    if not isinstance(ticks, int):
        return None
    boot = next(
        int(line.split()[1])
        for line in Path("/proc/stat").read_text().splitlines()
        if line.startswith("btime")
    )
    return boot + ticks / os.sysconf("SC_CLK_TCK")


def _cpu(pid: int) -> float:
    """User + system CPU seconds a live process has used."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def migration_done(info: dict[str, Any], path: Path) -> float | None:
    """When the task's own log in CloudWatch says `migrate: ...` (epoch seconds)."""
    if not info.get("url"):
        return None
    aws = Aws("us-east-1", endpoint_url=info["url"], credentials=credentials(path))
    events = aws.call("logs", "filter_log_events", logGroupName="/ecs/flask-todo")["events"]
    done = next((e["timestamp"] for e in events if e["message"].startswith("migrate:")), None)
    return None if done is None else done / 1000


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry))
            except (OSError, IndexError):
                pass
    return found


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo += _children(current)
    return out


def memory(info: dict[str, Any]) -> dict[str, float]:
    """RSS and PSS (MiB) of the sandbox process, its tasks and its PostgreSQL servers."""
    groups = {"sandbox process (moto + data plane)": [info.get("pid", 0)]}
    tasks, databases = [], []
    for pid in info.get("pids", []):
        (databases if "postgres" in _cmd(pid) else tasks).append(pid)
    groups["tasks (flask-run.sh -> gunicorn + workers)"] = [p for t in tasks for p in _tree(t)]
    groups["PostgreSQL (server + its processes)"] = [p for d in databases for p in _tree(d)]
    figures = {}
    total_rss = total_pss = 0.0
    for name, pids in groups.items():
        rss = pss = 0.0
        for pid in set(pids) - {0}:
            rollup = _rollup(pid)
            rss += rollup.get("Rss", 0) / 1024
            pss += rollup.get("Pss", 0) / 1024
        figures[f"RSS MiB: {name}"] = rss
        figures[f"PSS MiB: {name}"] = pss
        total_rss, total_pss = total_rss + rss, total_pss + pss
    figures["RSS MiB: whole sandbox"] = total_rss
    figures["PSS MiB: whole sandbox"] = total_pss
    return figures


def _cmd(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _rollup(pid: int) -> dict[str, int]:
    found = {}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
            key, value = line.split(":", 1)
            found[key] = int(value.split()[0])
    except (OSError, ValueError):
        pass
    return found


def baseline(runs: int) -> list[float]:
    """The same deploy against the emulator alone (no data plane), waits skipped."""
    emulator = Emulator().start()
    times = []
    folder = Path(tempfile.mkdtemp(prefix="bench-sandbox-baseline-"))
    try:
        for run in range(runs):
            account = str(300_000_000_001 + run)
            aws = Aws("us-east-1", endpoint_url=emulator.url, credentials=CREDENTIALS)
            aws.session.events.register(
                "before-sign",
                lambda request, account=account, **_: request.headers.__setitem__(
                    "x-moto-account-id", account
                ),
            )
            settings = Settings().replace("database", instance_class="db.t4g.micro")
            state = folder / str(run) / "state.json"
            state.parent.mkdir()
            started = time.perf_counter()
            build = Build(engine=stand_in(emulator.url, state.parent / "engine"))
            Runbook(
                settings, aws, StateFile(state), sandbox=True, sleep=lambda _: None, build=build
            ).deploy()
            times.append(time.perf_counter() - started)
    finally:
        emulator.stop()
        shutil.rmtree(folder, ignore_errors=True)  # each run's state and engine store
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parse(parser, runs=1)  # one run of each
    runs = [one_run() for _ in range(args.runs)]
    floor = baseline(args.runs)
    keys = list(dict.fromkeys(k for run in runs for k in run))
    print(f"== runbook deploy --yes --sandbox, from nothing ({args.runs} runs; median [min-max])")
    for key in keys:
        values = [run[key] for run in runs if key in run]
        unit = "" if key.startswith(("RSS", "PSS", "CPU")) else " s"
        print(
            f"  {key:<66} {statistics.median(values):8.2f}{unit}"
            f"  [{min(values):.2f}-{max(values):.2f}]"
        )
    to_200 = statistics.median([r["to the first 200"] for r in runs if "to the first 200" in r])
    print("  " + figure(GOAL_FIRST_200, to_200, args.smoke, digits=1))
    print("== baseline: the same deploy on the emulator alone, no data plane, no waits")
    print(f"  deploy (in process)  median {statistics.median(floor):.2f} s")
    ratio = to_200 / statistics.median(floor)
    print(f"  ratio: sandbox first 200 / emulator-only deploy = {ratio:.1f}x")
    print(f"  load average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    run(main)
