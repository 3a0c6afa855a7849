"""Benchmark the Todo API under gunicorn on PostgreSQL: rates, latencies and server memory.

Runs the production gunicorn settings (todo_app/gunicorn_conf.py) on loopback against an
embedded PostgreSQL, and at 32 concurrent keep-alive connections measures
GET /todos (100 todos), POST /todos and a bare Flask endpoint on the same server, then
sums the resident memory of the gunicorn master and workers from /proc.

    python bench/bench_todo_api.py [--seconds 5] [--concurrency 32]

It prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
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


def report(name: str, result: todo_load.Result) -> None:
    print(
        f"  {name:<28} {result.rate:8.0f} req/s   p50 {result.percentile(50):6.2f} ms"
        f"   p99 {result.percentile(99):6.2f} ms   ({result.requests} requests,"
        f" {result.errors} errors)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per scenario")
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
            f" {args.seconds:g} s per scenario, loopback, {os.cpu_count()} CPUs, load by"
            f" {'wrk' if use_wrk else 'todo_load.py (Python)'}"
        )
        bare = load("GET", "/bench/bare")
        report("GET /bench/bare (no DB)", bare)
        listing = load("GET", "/todos")
        report("GET /todos (100 todos)", listing)
        created = load("POST", "/todos", {"title": "benchmark todo", "order": 7})
        report("POST /todos", created)
        busy_rss, busy_pss = memory_kib(server_pids(gunicorn.pid))
        print(f"  GET /todos rate / bare rate: {listing.rate / bare.rate:.2f}")
        print(
            f"  server memory (gunicorn master + workers): RSS {idle_rss / 1024:.0f} MiB idle,"
            f" {busy_rss / 1024:.0f} MiB after load (PSS {idle_pss / 1024:.0f} /"
            f" {busy_pss / 1024:.0f} MiB)"
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
