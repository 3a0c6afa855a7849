"""Benchmark the Todo API under gunicorn on PostgreSQL: rates, latencies and server memory.

Runs the production gunicorn settings (todo_app/gunicorn_conf.py) on loopback against an
embedded PostgreSQL, and at 32 concurrent keep-alive connections measures
GET /todos (100 todos), the same with If-None-Match (a client revalidating its kept list:
304), POST /todos and a bare Flask endpoint on the same server, then sums the resident memory
of the gunicorn master and workers from /proc. With --baseline REF, REF's todo_app serves
too, from a second gunicorn on the same database, loaded in the same interleaved rounds.

    python bench/bench_todo_api.py [--seconds 3] [--rounds 5] [--concurrency 32]
        [--baseline main] [--smoke]

It prints figures next to issue 18's goals (rate >= 0.8x the bare endpoint's, p99 under
25 ms, memory under 150 MiB); it asserts nothing.
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
from goals import GOAL_API_MEMORY, GOAL_API_P99, GOAL_API_RATE, figure, parse, run
from psycopg2.extensions import connection, make_dsn

from todo_app.embedded_pg import EmbeddedPostgres
from todo_app.migrations import upgrade

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
# A smoke run's load on each scenario stops after this many answers: wrk's shortest run is a
# second, which at full speed would keep both cores busy for nothing.
SMOKE_REQUESTS = 200


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
    fill(psycopg2.connect(dsn), todos)
    return dsn


def fill(conn: connection, todos: int) -> None:
    """Migrate the database this connection opens and give it `todos` todos; then close it."""
    try:
        upgrade(conn)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(
                "INSERT INTO todos (title, completed, position)"
                " SELECT 'todo number ' || n, n %% 3 = 0, n FROM generate_series(1, %s) AS n",
                (todos,),
            )
    finally:
        conn.close()


def gunicorn_command(*extra: str) -> list[str]:
    """gunicorn with the app's own configuration, its access log (100k JSON lines would
    only measure the terminal) thrown away."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        "python:todo_app.gunicorn_conf",
        "--access-logfile",
        "/dev/null",
        *extra,
    ]


def start_gunicorn(dsn: str, port: int, code: Path = REPO) -> subprocess.Popen[bytes]:
    """gunicorn on code's todo_app (this tree's, or a baseline's unpacked copy)."""
    env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "FLASK_ENV": "production",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "PYTHONPATH": os.pathsep.join([str(code), str(BENCH_DIR)]),
    }
    return subprocess.Popen(
        gunicorn_command("todo_bench_app:app"),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
        # gunicorn puts its working folder first on sys.path: there, todo_app is code's.
        cwd=code,
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
    """pid and every process below it (a server's master and its workers or backends); one
    that ends while it is read (a backend whose connection just closed) is left out."""
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:  # gone
        return []
    found = [pid]
    for task in tasks:
        try:
            children = (task / "children").read_text().split()
        except OSError:  # this thread or its process ended meanwhile
            continue
        for child in children:
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


@dataclass
class Server:
    """One gunicorn serving one revision's todo_app, and its scenarios."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    conditional: bool  # its list has an ETag (this tree's does)
    scenarios: dict[str, Scenario] = field(default_factory=dict)
    idle_rss: int = 0
    busy_rss: int = 0

    def scenario(self, name: str) -> Scenario:
        return self.scenarios.setdefault(name, Scenario(name))


def rate_ratios(top: Scenario, floor: Scenario) -> list[float]:
    """top's rate over floor's, round by round (rounds were interleaved)."""
    return [t.rate / f.rate for t, f in zip(top.rounds, floor.rounds, strict=True)]


def cpu_per_request(scenario: Scenario) -> float:
    return scenario.per_request_us(scenario.app_cpu + scenario.db_cpu)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per scenario and round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--baseline",
        metavar="REF",
        help="also serve REF's todo_app (e.g. main), loaded in the same rounds: before/after",
    )
    parser.add_argument(
        "--tool",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="load generator: wrk if installed (auto), or the Python one in todo_load.py",
    )
    parser.add_argument("--processes", type=int, default=4, help="Python generator processes")
    # Smoke: a quarter second per scenario (wrk's shortest run is a second).
    args = parse(parser, seconds=0.25, rounds=1)
    use_wrk = args.tool == "wrk" or (args.tool == "auto" and todo_wrk.available())

    folder = Path(tempfile.mkdtemp(prefix="todo-bench-"))
    server = EmbeddedPostgres()  # in a home of its own (a 0700 folder would shut out pgserver)
    server.start()
    servers: list[Server] = []
    try:
        dsn = prepare_database(server, todos=100)
        codes = [("after (this tree)", REPO, True)]
        if args.baseline:
            # Imported from bench_todo_hot_path lazily: it imports this module.
            from bench_todo_hot_path import baseline_code

            code = baseline_code(args.baseline, folder / "baseline")
            if code is not None:
                codes.insert(0, (f"before ({args.baseline})", code, False))
        for name, code, conditional in codes:
            port = free_port()
            servers.append(Server(name, start_gunicorn(dsn, port, code), port, conditional))
        for each in servers:
            wait_ready(each.port)
        if not args.smoke:  # a smoke run's figures mean nothing: no settling
            time.sleep(1)  # let every worker boot before counting processes
        for each in servers:
            each.idle_rss = memory_kib(server_pids(each.process.pid))[0]

        most = SMOKE_REQUESTS if args.smoke else None

        def load(port: int, request: todo_load.Load, seconds: float) -> todo_load.Result:
            if use_wrk:
                return todo_wrk.run(
                    port, request, concurrency=args.concurrency, seconds=seconds, max_requests=most
                )
            return todo_load.run(
                port,
                request,
                concurrency=args.concurrency,
                processes=args.processes,
                seconds=seconds,
                max_requests=most or 200_000,
            )

        bare = todo_load.Load("GET", "/bench/bare")
        listing = todo_load.Load("GET", "/todos")
        post = todo_load.Load(
            "POST", "/todos", json.dumps({"title": "benchmark todo", "order": 7}).encode()
        )
        for each in servers:  # warm-up: connections, caches, lazy pools
            if not args.smoke:
                load(each.port, bare, 1)
                load(each.port, listing, 1)
        print(
            f"gunicorn {len(server_pids(servers[0].process.pid)) - 1} workers (+ master) per"
            f" server, concurrency {args.concurrency}, {args.rounds} rounds of"
            f" {args.seconds:g} s per scenario, loopback, {os.cpu_count()} CPUs,"
            f" load by {'wrk' if use_wrk else 'todo_load.py (Python)'},"
            f" load average {os.getloadavg()[0]:.1f}"
            + ("  [smoke run: one small round, figures mean nothing]" if args.smoke else "")
        )
        postmaster = int((server.pgdata / "postmaster.pid").read_text().split()[0])

        def measure(each: Server, name: str, request: todo_load.Load) -> None:
            scenario = each.scenario(name)
            app_pids, db_pids = descendants(each.process.pid), descendants(postmaster)
            app_before, db_before = cpu_seconds(app_pids), cpu_seconds(db_pids)
            scenario.rounds.append(load(each.port, request, args.seconds))
            scenario.app_cpu += cpu_seconds(app_pids) - app_before
            scenario.db_cpu += cpu_seconds(db_pids) - db_before

        # Interleaved rounds, so a neighbour's burst of CPU use hits every scenario alike;
        # ratios are taken within each round. CPU time per request is the figure that
        # neighbours disturb least.
        for _ in range(args.rounds):
            for each in servers:
                measure(each, "GET /bench/bare (no DB)", bare)
                measure(each, "GET /todos (100 todos)", listing)
                if each.conditional:
                    # The list's current ETag, asked again: a client that keeps the list.
                    with urllib.request.urlopen(f"http://127.0.0.1:{each.port}/todos") as got:
                        etag = got.headers["ETag"]
                    revalidate = todo_load.Load("GET", "/todos", None, (("If-None-Match", etag),))
                    measure(each, "GET /todos, 304", revalidate)
        for _ in range(args.rounds):
            for each in servers:
                measure(each, "POST /todos", post)
        for each in servers:
            each.busy_rss = memory_kib(server_pids(each.process.pid))[0]

        after = servers[-1]
        for each in servers:
            print(f"{each.name}:")
            for scenario in each.scenarios.values():
                report(scenario)
            floor, top = (
                each.scenario("GET /bench/bare (no DB)"),
                each.scenario("GET /todos (100 todos)"),
            )
            ratios = rate_ratios(top, floor)
            print(
                f"  GET /todos rate / bare rate: {median(ratios):.2f} (per round:"
                f" {', '.join(f'{r:.2f}' for r in ratios)});"
                f" bare CPU / GET /todos CPU per request:"
                f" {cpu_per_request(floor) / cpu_per_request(top):.2f}"
            )
            print(
                f"  server memory (gunicorn master + workers): RSS"
                f" {each.idle_rss / 1024:.0f} MiB idle, {each.busy_rss / 1024:.0f} MiB after load"
            )
        if len(servers) == 2:
            before = servers[0]
            print(f"{after.name} against {before.name}, same rounds:")
            for name in ("GET /todos (100 todos)", "POST /todos"):
                ratios = rate_ratios(after.scenario(name), before.scenario(name))
                print(
                    f"  {name} rate, after / before: {median(ratios):.2f}"
                    f" (per round: {', '.join(f'{r:.2f}' for r in ratios)})"
                )
        commit = commit_latency_ms(dsn, 10 if args.smoke else 200)
        print(f"  one commit on this machine's disk: {commit:.2f} ms")
        listing_rounds = after.scenario("GET /todos (100 todos)").rounds
        ratio = median(
            rate_ratios(
                after.scenario("GET /todos (100 todos)"), after.scenario("GET /bench/bare (no DB)")
            )
        )
        print(f"goals ({after.name}):")
        print("  " + figure(GOAL_API_RATE, ratio, args.smoke))
        p99 = median([r.percentile(99) for r in listing_rounds])
        print("  " + figure(GOAL_API_P99, p99, args.smoke, digits=1))
        print("  " + figure(GOAL_API_MEMORY, after.busy_rss / 1024, args.smoke, digits=0))
    finally:
        for each in servers:
            each.process.send_signal(signal.SIGTERM)
        for each in servers:
            try:
                each.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(each.process.pid, signal.SIGKILL)
                each.process.wait()
        server.remove()
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    run(main)
