"""Benchmark /healthz while slow clients hold connections straight to gunicorn.

Starts the production gunicorn settings (todo_app/gunicorn_conf.py) on an embedded
PostgreSQL, opens N slow clients (half trickle their headers, half their bodies, each
reconnecting when closed: tests/todo_app/slow_clients.py), and asks /healthz every half
second with the ALB's health-check timeout (5 s). Prints, per worker class, how many checks
answered 200 in time and their latency. `gthread` is gunicorn's own threaded worker (what
the app ran before); the default is the app's configured one.

    python bench/bench_todo_slow_clients.py [--clients 50] [--seconds 30] [--rounds 5]
        [--worker-class gthread --worker-class configured]

It prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_todo_api import (
    free_port,
    gunicorn_command,
    memory_kib,
    prepare_database,
    server_pids,
    wait_ready,
)
from goals import add_smoke, run

from todo_app.embedded_pg import EmbeddedPostgres

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
sys.path.insert(0, str(REPO / "tests" / "todo_app"))
from slow_clients import SlowClients, health_latency  # noqa: E402

ALB_TIMEOUT = 5.0  # HealthCheckTimeoutSeconds the runbook sets


def start_gunicorn(dsn: str, port: int, worker_class: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "PYTHONPATH": str(REPO),
    }
    extra = [] if worker_class == "configured" else ["--worker-class", worker_class]
    return subprocess.Popen(
        gunicorn_command(*extra),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def one_round(port: int, clients: int, seconds: float, settle: float = 1.0) -> list[float | None]:
    latencies: list[float | None] = []
    with SlowClients(port, clients):
        time.sleep(settle)  # every slow client connected and started
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            latencies.append(health_latency(port, ALB_TIMEOUT))
            time.sleep(0.5)
    return latencies


def report(name: str, rounds: list[list[float | None]], rss_mib: float) -> None:
    checks = [latency for round_ in rounds for latency in round_]
    answered = [latency * 1000 for latency in checks if latency is not None]
    per_round = [sum(x is not None for x in r) / len(r) for r in rounds]
    print(
        f"  {name:<12} answered in time: median {statistics.median(per_round):6.1%} of checks"
        f" per round (all: {len(answered)}/{len(checks)})"
        + (
            f"  latency p50 {statistics.median(answered):7.1f} ms, max {max(answered):7.1f} ms"
            if answered
            else "  latency: none answered"
        )
        + f"  RSS {rss_mib:.0f} MiB"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0, help="per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--worker-class", action="append", dest="worker_classes")
    add_smoke(parser)
    args = parser.parse_args()
    if args.smoke:
        # One check, with four slow clients connected (a fifth of a second is enough for four).
        args.clients, args.seconds, args.rounds = 4, 0.5, 1
        args.worker_classes = args.worker_classes or ["configured"]
    classes = args.worker_classes or ["gthread", "configured"]

    folder = Path(tempfile.mkdtemp(prefix="todo-bench-slow-"))
    server = EmbeddedPostgres()  # in a home of its own (a 0700 folder would shut out pgserver)
    server.start()
    try:
        dsn = prepare_database(server, todos=100)
        print(
            f"{args.clients} slow clients, /healthz every 0.5 s with a {ALB_TIMEOUT:g} s"
            f" timeout, {args.rounds} rounds of {args.seconds:g} s, {os.cpu_count()} CPUs"
        )
        for worker_class in classes:
            port = free_port()
            gunicorn = start_gunicorn(dsn, port, worker_class)
            try:
                wait_ready(port)
                rounds = [
                    one_round(port, args.clients, args.seconds, 0.2 if args.smoke else 1.0)
                    for _ in range(args.rounds)
                ]
                rss, _ = memory_kib(server_pids(gunicorn.pid))
            finally:
                stop(gunicorn)
            report(worker_class, rounds, rss / 1024)
        print("goal: every check answered within the ALB's timeout with 50 slow clients")
    finally:
        server.remove()
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    run(main)
