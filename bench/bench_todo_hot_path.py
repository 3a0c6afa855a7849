"""Benchmark what the password-rotation and verify-full change costs GET /todos, in one run.

Three gunicorn servers (production settings) on one PostgreSQL that checks passwords over
TCP on loopback and has TLS on, each loaded in turn, round after round (interleaved, so a
neighbour's burst of CPU use hits them alike):

  before    the baseline revision's todo_app (default: main), DB_PWD, sslmode=disable
  after     this tree's todo_app, the same settings
  deployed  this tree's todo_app as the task definition runs it: no DB_PWD, the password
            read from Secrets Manager (DB_SECRET_ARN, the local emulator), verify-full TLS
            against a CA bundle (a local CA playing the RDS bundle's part)

It prints req/s, p50/p99, CPU per request (app and database) and server memory for each,
the rate ratios to `before` per round, and what opening one connection costs with each
setting (the only place the password logic runs).

    python bench/bench_todo_hot_path.py [--baseline main] [--seconds 3] [--rounds 5]

It prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import signal
import statistics
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

import boto3
import psycopg2
import todo_load
import todo_wrk
from bench_todo_api import (
    BENCH_DIR,
    REPO,
    SMOKE_REQUESTS,
    Scenario,
    cpu_seconds,
    descendants,
    fill,
    free_port,
    gunicorn_command,
    median,
    memory_kib,
    report,
    server_pids,
    wait_ready,
)
from goals import parse, run
from psycopg2 import sql

from runbook.sandbox import CREDENTIALS, Emulator
from todo_app.embedded_pg import EmbeddedPostgres
from todo_app.local_ca import LocalCA

ROLE, DBNAME, PASSWORD = "todo_bench", "todo_bench", "bench#Pw'1;="


def baseline_code(revision: str, folder: Path) -> Path | None:
    """The baseline revision's todo_app, unpacked from git (no work tree is touched)."""
    try:
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", revision, "todo_app"],
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        print(f"no baseline: git archive {revision} failed ({error})")
        return None
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def prepare(server: EmbeddedPostgres, todos: int) -> dict[str, object]:
    """A role with a password owning a migrated database of `todos` todos."""
    admin = psycopg2.connect(server.dsn())
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD %s").format(sql.Identifier(ROLE)), (PASSWORD,)
        )
        cur.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(DBNAME), sql.Identifier(ROLE)
            )
        )
    admin.close()
    kwargs = {
        "host": "localhost",
        "port": server.tcp_port,
        "dbname": DBNAME,
        "user": ROLE,
        "password": PASSWORD,
    }
    fill(psycopg2.connect(**kwargs), todos)
    return kwargs


def start_gunicorn(code: Path, env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    keep = {
        key: value for key, value in os.environ.items() if not key.startswith(("DB_", "AWS_", "PG"))
    }
    return subprocess.Popen(
        gunicorn_command(),
        env={
            **keep,
            **env,
            "FLASK_ENV": "production",
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "PYTHONPATH": os.pathsep.join([str(code), str(BENCH_DIR)]),
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        cwd=code,
    )


def connect_ms(kwargs: dict[str, object], count: int = 40) -> float:
    """The median time to open (and close) one connection with these settings."""
    times = []
    for _ in range(count):
        started = time.perf_counter()
        psycopg2.connect(**kwargs).close()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="main", help="git revision to compare with")
    parser.add_argument("--seconds", type=float, default=3.0, help="per scenario and round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--processes", type=int, default=4, help="Python generator processes")
    # Smoke: a quarter second per scenario (wrk's shortest run is a second).
    args = parse(parser, seconds=0.25, rounds=1)
    use_wrk = todo_wrk.available()

    folder = Path(tempfile.mkdtemp(prefix="todo-bench-hot-"))
    authority = LocalCA.create("Bench RDS Root CA")
    bundle = folder / "ca-bundle.pem"
    bundle.write_bytes(authority.pem())
    server = EmbeddedPostgres(tcp_port=free_port(), certificate=authority.issue(["localhost"]))
    emulator = Emulator().start()
    servers: dict[str, subprocess.Popen[bytes]] = {}
    try:
        server.start()
        kwargs = prepare(server, todos=100)
        secrets_manager = boto3.client(
            "secretsmanager", region_name="us-east-1", endpoint_url=emulator.url, **CREDENTIALS
        )
        arn = secrets_manager.create_secret(
            Name="rds!db-bench", SecretString=f'{{"username": "{ROLE}", "password": "{PASSWORD}"}}'
        )["ARN"]
        database = {
            "DB_HOST": "localhost",
            "DB_PORT": str(server.tcp_port),
            "DB_NAME": DBNAME,
            "DB_USER_NAME": ROLE,
        }
        plain = {**database, "DB_PWD": PASSWORD, "DB_SSLMODE": "disable"}
        deployed = {
            **database,
            "DB_SECRET_ARN": arn,
            "DB_SSLMODE": "verify-full",
            "DB_SSLROOTCERT": str(bundle),
            "AWS_ENDPOINT_URL": emulator.url,
            "AWS_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
        }
        setups: list[tuple[str, Path, dict[str, str]]] = []
        before = baseline_code(args.baseline, folder / "before")
        if before is not None:
            setups.append((f"before ({args.baseline})", before, plain))
        setups += [("after (this tree)", REPO, plain), ("deployed (secret, TLS)", REPO, deployed)]
        ports = {}
        for name, code, env in setups:
            ports[name] = free_port()
            servers[name] = start_gunicorn(code, env, ports[name])
        for name in servers:
            wait_ready(ports[name])
        if not args.smoke:  # figures from a smoke run mean nothing: no settling, no warm-up
            time.sleep(1)  # let every worker boot

        # A smoke run's load stops at a few hundred answers, as its quarter second would.
        most = SMOKE_REQUESTS if args.smoke else None

        def load(port: int) -> todo_load.Result:
            request = todo_load.Load("GET", "/todos")
            if use_wrk:
                return todo_wrk.run(port, request, args.concurrency, args.seconds, most)
            return todo_load.run(
                port, request, args.concurrency, args.processes, args.seconds, most or 200_000
            )

        for name in servers:
            if not args.smoke:
                load(ports[name])  # warm-up: pools, prepared statements
        print(
            f"GET /todos (100 todos), gunicorn 2 workers x 4 threads per server,"
            f" concurrency {args.concurrency}, {args.rounds} rounds of {args.seconds:g} s,"
            f" loopback, {os.cpu_count()} CPUs, load by {'wrk' if use_wrk else 'todo_load.py'};"
            " PostgreSQL over TCP with passwords (scram-sha-256), TLS on"
        )
        postmaster = int((server.pgdata / "postmaster.pid").read_text().split()[0])
        scenarios = {name: Scenario(name) for name in servers}
        for _ in range(args.rounds):
            for name, scenario in scenarios.items():
                app_pids, db_pids = descendants(servers[name].pid), descendants(postmaster)
                app_before, db_before = cpu_seconds(app_pids), cpu_seconds(db_pids)
                scenario.rounds.append(load(ports[name]))
                scenario.app_cpu += cpu_seconds(app_pids) - app_before
                scenario.db_cpu += cpu_seconds(db_pids) - db_before
        for scenario in scenarios.values():
            report(scenario)
        first = next(iter(scenarios.values()))
        for scenario in list(scenarios.values())[1:]:
            ratios = [
                mine.rate / base.rate
                for mine, base in zip(scenario.rounds, first.rounds, strict=True)
            ]
            print(
                f"  {scenario.name} rate / {first.name} rate: {median(ratios):.3f}"
                f" (per round: {', '.join(f'{r:.2f}' for r in ratios)})"
            )
        admin = psycopg2.connect(server.dsn())
        with admin.cursor() as cur:
            cur.execute(
                "SELECT count(*) FILTER (WHERE ssl), count(*) FILTER (WHERE NOT ssl)"
                " FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) WHERE usename = %s",
                (ROLE,),
            )
            with_tls, without = cur.fetchone()
        admin.close()
        print(f"  the servers' database connections: {with_tls} over TLS, {without} without")
        for name in servers:
            rss, pss = memory_kib(server_pids(servers[name].pid))
            print(f"  {name}: server RSS {rss / 1024:.0f} MiB (PSS {pss / 1024:.0f} MiB)")
        tls = {**kwargs, "sslmode": "verify-full", "sslrootcert": str(bundle)}
        count = 3 if args.smoke else 40
        print(
            "  one new connection (password login):"
            f" no TLS {connect_ms({**kwargs, 'sslmode': 'disable'}, count):.2f} ms,"
            f" verify-full TLS {connect_ms(tls, count):.2f} ms (median of {count})"
        )
    finally:
        for process in servers.values():
            process.send_signal(signal.SIGTERM)
        for process in servers.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        emulator.stop()
        server.remove()
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    run(main)
