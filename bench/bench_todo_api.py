"""Benchmark the Todo API under gunicorn on PostgreSQL: rates, latencies and server memory.

Runs the production gunicorn settings (todo_app/gunicorn_conf.py) on loopback against an
embedded PostgreSQL, and at 32 concurrent keep-alive connections measures
GET /todos (100 todos), POST /todos and a bare Flask endpoint on the same server, then
sums the resident memory of the gunicorn master and workers from /proc.

    python bench/bench_todo_api.py [--seconds 3] [--rounds 3] [--concurrency 32]

It prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
import todo_load
import todo_wrk
from psycopg2.extensions import make_dsn

from todo_app.embedded_pg import EmbeddedPostgres
from todo_app.migrations import upgrade

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare_database(server: EmbeddedPostgres, todos: int) -> str:
    admin = psycopg2.connect(server.dsn())
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("CREATE DATABASE todo_bench")
    admin.close()
    dsn = make_dsn(server.dsn(), dbname="todo_bench")
    conn = psycopg2.connect(dsn)
    upgrade(conn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO todos (title, completed, position)"
            " SELECT 'todo number ' || n, n %% 3 = 0, n FROM generate_series(1, %s) AS n",
            (todos,),
        )
    conn.close()
    return dsn


def start_gunicorn(dsn: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "FLASK_ENV": "production",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "PYTHONPATH": os.pathsep.join([str(REPO), str(BENCH_DIR)]),
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            "python:todo_app.gunicorn_conf",
            "--access-logfile",
            "/dev/null",  # 100k JSON lines would only measure the terminal
            "todo_bench_app:app",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def wait_ready(port: int, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn never became healthy")


def server_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [master, *map(int, children)]


def descendants(pid: int) -> list[int]:
    """pid and every process below it (a server's master and its workers or backends)."""
    found = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found.extend(descendants(int(child)))
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time used so far by these processes."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:  # ended meanwhile
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def memory_kib(pids: list[int]) -> tuple[int, int]:
    """Total RSS and PSS (shared pages split between processes) in KiB."""
    rss = pss = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss += int(line.split()[1])
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                pss += int(line.split()[1])
    return rss, pss


def median(values: list[float]) -> float:
    return statistics.median(values)


@dataclass
class Scenario:
    """Rounds of one scenario, with the CPU its requests cost the app and the database."""

    name: str
    rounds: list[todo_load.Result] = field(default_factory=list)
    app_cpu: float = 0.0
    db_cpu: float = 0.0

    def per_request_us(self, seconds: float) -> float:
        return seconds / sum(r.requests for r in self.rounds) * 1e6


def report(scenario: Scenario) -> None:
    """One line per scenario: the median over rounds of rate, p50 and p99, and CPU cost."""
    rounds = scenario.rounds
    print(
        f"  {scenario.name:<24} {median([r.rate for r in rounds]):6.0f} req/s"
        f"  p50 {median([r.percentile(50) for r in rounds]):5.1f} ms"
        f"  p99 {median([r.percentile(99) for r in rounds]):5.1f} ms"
        f"  CPU/request: app {scenario.per_request_us(scenario.app_cpu):4.0f} us,"
        f" db {scenario.per_request_us(scenario.db_cpu):4.0f} us"
        f"  ({sum(r.requests for r in rounds)} requests,"
        f" {sum(r.errors for r in rounds)} errors)"
    )


def commit_latency_ms(dsn: str, count: int = 200) -> float:
    """How long one INSERT takes to commit here: mostly the disk's fsync."""
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        started = time.perf_counter()
        for _ in range(count):
            cur.execute("INSERT INTO todos (title) VALUES ('commit probe') RETURNING id")
            cur.execute("DELETE FROM todos WHERE id = %s", cur.fetchone())
        elapsed = time.perf_counter() - started
    conn.close()
    return elapsed / (2 * count) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per scenario and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--tool",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="load generator: wrk if installed (auto), or the Python one in todo_load.py",
    )
    parser.add_argument("--processes", type=int, default=4, help="Python generator processes")
    args = parser.parse_args()
    use_wrk = args.tool == "wrk" or (args.tool == "auto" and todo_wrk.available())

    folder = Path(tempfile.mkdtemp(prefix="todo-bench-"))
    server = EmbeddedPostgres(folder / "pgdata")
    server.start()
    gunicorn = None
    try:
        dsn = prepare_database(server, todos=100)
        port = free_port()
        gunicorn = start_gunicorn(dsn, port)
        wait_ready(port)
        time.sleep(1)  # let every worker boot before counting processes
        idle_rss, idle_pss = memory_kib(server_pids(gunicorn.pid))

        def load(method: str, path: str, body: dict | None = None) -> todo_load.Result:
            payload = json.dumps(body).encode() if body is not None else None
            if use_wrk:
                return todo_wrk.run(
                    port,
                    todo_load.Load(method, path, payload),
                    concurrency=args.concurrency,
                    seconds=args.seconds,
                )
            return todo_load.run(
                port,
                todo_load.Load(method, path, payload),
                concurrency=args.concurrency,
                processes=args.processes,
                seconds=args.seconds,
            )

        load("GET", "/bench/bare")  # warm-up: connections, caches, lazy pools
        load("GET", "/todos")
        pids = server_pids(gunicorn.pid)
        print(
            f"gunicorn {len(pids) - 1} workers (+ master), concurrency {args.concurrency},"
            f" {args.rounds} rounds of {args.seconds:g} s per scenario, loopback,"
            f" {os.cpu_count()} CPUs, load by {'wrk' if use_wrk else 'todo_load.py (Python)'}"
        )
        postmaster = int((server.pgdata / "postmaster.pid").read_text().split()[0])
        bare = Scenario("GET /bench/bare (no DB)")
        listing = Scenario("GET /todos (100 todos)")
        created = Scenario("POST /todos")

        def measure(scenario: Scenario, method: str, path: str, body: dict | None = None) -> None:
            app_pids, db_pids = descendants(gunicorn.pid), descendants(postmaster)
            app_before, db_before = cpu_seconds(app_pids), cpu_seconds(db_pids)
            scenario.rounds.append(load(method, path, body))
            scenario.app_cpu += cpu_seconds(app_pids) - app_before
            scenario.db_cpu += cpu_seconds(db_pids) - db_before

        # Interleaved rounds, so a neighbour's burst of CPU use hits every scenario alike;
        # the rate ratio is taken within each round. CPU time per request is the figure
        # that neighbours disturb least.
        for _ in range(args.rounds):
            measure(bare, "GET", "/bench/bare")
            measure(listing, "GET", "/todos")
        for _ in range(args.rounds):
            measure(created, "POST", "/todos", {"title": "benchmark todo", "order": 7})
        for scenario in (bare, listing, created):
            report(scenario)
        busy_rss, busy_pss = memory_kib(server_pids(gunicorn.pid))
        ratios = [
            get.rate / floor.rate for get, floor in zip(listing.rounds, bare.rounds, strict=True)
        ]
        worst_p99 = max(
            median([r.percentile(99) for r in listing.rounds]),
            median([r.percentile(99) for r in created.rounds]),
        )
        print(
            f"  GET /todos rate / bare rate: {median(ratios):.2f} (per round:"
            f" {', '.join(f'{r:.2f}' for r in ratios)})"
        )
        print(
            f"  server memory (gunicorn master + workers): RSS {idle_rss / 1024:.0f} MiB idle,"
            f" {busy_rss / 1024:.0f} MiB after load (PSS {idle_pss / 1024:.0f} /"
            f" {busy_pss / 1024:.0f} MiB)"
        )
        print(f"  one commit on this machine's disk: {commit_latency_ms(dsn):.2f} ms")
        print(
            "goals: GET >= 0.5 x bare: "
            f"{'met' if median(ratios) >= 0.5 else 'missed'}; p99 < 50 ms (GET, POST): "
            f"{'met' if worst_p99 < 50 else 'missed'};"
            f" RSS < 150 MiB: {'met' if busy_rss / 1024 < 150 else 'missed'}"
        )
    finally:
        if gunicorn is not None:
            gunicorn.send_signal(signal.SIGTERM)
            try:
                gunicorn.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(gunicorn.pid, signal.SIGKILL)
                gunicorn.wait()
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
