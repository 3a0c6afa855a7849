"""Fixtures for the Todo API tests: a real PostgreSQL, a fresh database per test, app/client/runner.

The server is TEST_DATABASE_URL when set (its user needs CREATEDB), else an embedded
PostgreSQL started once per pytest-xdist worker in that worker's own temp folder.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import psycopg2
import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from psycopg2 import sql
from psycopg2.extensions import connection, make_dsn
from rds_stand_in import Login, Secret
from todo_helpers import migrate

import todo_app
from runbook.sandbox import CREDENTIALS, Emulator
from todo_app import create_app
from todo_app.db import close_pool
from todo_app.embedded_pg import EmbeddedPostgres


@dataclass(frozen=True)
class PgServer:
    """Where test databases are made: a maintenance DSN, and the data folder if embedded."""

    dsn: str
    pgdata: Path | None


@contextmanager
def admin_connection(dsn: str) -> Iterator[connection]:
    conn = psycopg2.connect(dsn)
    conn.autocommit = True  # CREATE/DROP DATABASE refuse to run in a transaction
    try:
        yield conn
    finally:
        conn.close()


def create_database(server_dsn: str, template: str | None = None) -> str:
    name = f"todo_test_{uuid.uuid4().hex[:16]}"
    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    with admin_connection(server_dsn) as conn, conn.cursor() as cur:
        cur.execute(statement)
    return name


def drop_database(server_dsn: str, name: str) -> None:
    with admin_connection(server_dsn) as conn, conn.cursor() as cur:
        cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# Test servers hold nothing worth keeping across a power cut: without fsync, CREATE and DROP
# DATABASE (each a checkpoint) and every commit stop waiting on the disk (most of these
# tests' time on a slow disk). The sandbox's server runs so too; RDS is tested for its
# answers, not its durability.
NO_SYNC = ("fsync=off",)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        yield PgServer(dsn=url, pgdata=None)
        return
    # One server per xdist worker (each worker runs this session fixture once).
    # In a home of its own; its watchdog outlives a killed run.
    server = EmbeddedPostgres(settings=NO_SYNC)
    server.start()
    try:
        yield PgServer(dsn=server.dsn(), pgdata=server.pgdata)
    finally:
        server.remove()


@pytest.fixture(scope="session")
def template_database(pg_server: PgServer) -> Iterator[str]:
    """A migrated database that each test's database is copied from (~10 ms a copy)."""
    name = create_database(pg_server.dsn)
    migrate(make_dsn(pg_server.dsn, dbname=name))
    yield name
    drop_database(pg_server.dsn, name)


@pytest.fixture
def database(pg_server: PgServer, template_database: str) -> Iterator[str]:
    """DSN of a fresh, migrated database for this test alone."""
    name = create_database(pg_server.dsn, template=template_database)
    yield make_dsn(pg_server.dsn, dbname=name)
    drop_database(pg_server.dsn, name)


@pytest.fixture(scope="module")
def module_database(pg_server: PgServer, template_database: str) -> Iterator[str]:
    """DSN of a fresh, migrated database the module's tests share (for a server they share)."""
    name = create_database(pg_server.dsn, template=template_database)
    yield make_dsn(pg_server.dsn, dbname=name)
    drop_database(pg_server.dsn, name)


@pytest.fixture
def empty_database(pg_server: PgServer) -> Iterator[str]:
    """DSN of a fresh database without any schema (for migration tests)."""
    name = create_database(pg_server.dsn)
    yield make_dsn(pg_server.dsn, dbname=name)
    drop_database(pg_server.dsn, name)


@pytest.fixture
def dedicated_server() -> Iterator[EmbeddedPostgres]:
    """An embedded server of the test's own, free to be stopped and started, with a
    migrated database `todo`."""
    server = EmbeddedPostgres(settings=NO_SYNC)
    server.start()
    try:
        with admin_connection(server.dsn()) as conn, conn.cursor() as cur:
            cur.execute("CREATE DATABASE todo")
        migrate(server.dsn("todo"))
        yield server
    finally:
        server.remove()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def tcp_server() -> Iterator[EmbeddedPostgres]:
    """A server reached as RDS is: over TCP on 127.0.0.1, every login's password checked."""
    server = EmbeddedPostgres(tcp_port=_free_port(), settings=NO_SYNC)
    server.start()
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture
def login(tcp_server: EmbeddedPostgres) -> Iterator[Login]:
    """A role with a password and its own migrated database, on the TCP server."""
    created = Login.create(tcp_server)
    yield created
    created.drop()


@pytest.fixture
def aws_env(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """What points boto3's default chain at the local emulator, as in the sandbox; set
    here for apps in this process, returned for apps in their own."""
    env = {
        "AWS_ENDPOINT_URL": emulator.url,
        "AWS_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
    }
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def secrets_manager(emulator: Emulator) -> Any:
    """A Secrets Manager client on the emulator (the default pretend account)."""
    return boto3.client(
        "secretsmanager", region_name="us-east-1", endpoint_url=emulator.url, **CREDENTIALS
    )


@pytest.fixture
def secret(secrets_manager: Any, login: Login) -> Iterator[Secret]:
    """The login's secret in the emulator, as RDS keeps the master user's."""
    created = Secret.create(secrets_manager, login.user, login.password)
    yield created
    created.delete()


@contextmanager
def closing_apps() -> Iterator[Callable[..., Flask]]:
    """create_app in testing mode; every app's pool is closed when the test is done."""
    apps: list[Flask] = []

    def build(**config: object) -> Flask:
        app = create_app({"TESTING": True, **config})
        apps.append(app)
        return app

    try:
        yield build
    finally:
        for app in apps:
            close_pool(app)


@pytest.fixture
def make_app() -> Iterator[Callable[..., Flask]]:
    """Build apps on given databases; their pools are closed after the test.

    Request this fixture after the database fixtures the apps use.
    """
    with closing_apps() as build:
        yield lambda dsn, **config: build(DATABASE={"dsn": dsn}, **config)


@pytest.fixture
def env_app(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Flask]]:
    """Apps configured from the environment, as in a task (these variables and no others
    of the DB_* kind); their pools are closed after the test."""

    def _make(env: dict[str, str], **config: object) -> Flask:
        for name in ("DATABASE_URL", "DB_PWD", "DB_SECRET_ARN", "DB_SSLMODE", "DB_SSLROOTCERT"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return build(**config)

    with closing_apps() as build:
        yield _make


@pytest.fixture
def app(database: str, make_app: Callable[..., Flask]) -> Flask:
    # `database` first: fixtures are torn down in reverse, so the app's pool is closed
    # before its database is dropped (else DROP ... FORCE waits on live connections).
    return make_app(database)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture(autouse=True)
def no_unexpected_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail any test during which a request reached the catch-all 500 handler."""
    caplog.set_level(logging.WARNING, logger="todo_app.errors")
    yield
    bugs = [
        record
        for record in caplog.get_records("call")
        if record.name == "todo_app.errors" and record.levelno >= logging.ERROR
    ]
    assert not bugs, f"a request hit the 500 handler: {bugs[0].getMessage()}"


@pytest.fixture
def health_reason(caplog: pytest.LogCaptureFixture) -> Callable[[], str]:
    """The reason /healthz last logged for being unhealthy (its 503 tells the public none)."""

    def _reason() -> str:
        prefix = "health check failed: "
        lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith(prefix)]
        assert lines, "/healthz logged no reason"
        return lines[-1].removeprefix(prefix)

    return _reason


@pytest.fixture
def free_port() -> int:
    return _free_port()


@contextmanager
def spawner() -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Start processes in their own session; any still running at the end is killed with
    its whole process group, so no test leaves a server behind."""
    processes: list[subprocess.Popen[str]] = []

    def _spawn(args: list[str], **kwargs: object) -> subprocess.Popen[str]:
        options: dict[str, Any] = {
            "stdout": subprocess.PIPE,
            "stderr": subprocess.PIPE,
            "text": True,
            "start_new_session": True,
            **kwargs,
        }
        process = subprocess.Popen(args, **options)
        processes.append(process)
        return process

    try:
        yield _spawn
    finally:
        for process in processes:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
            for stream in (process.stdout, process.stderr):
                if stream is not None:
                    stream.close()


@pytest.fixture
def spawn() -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Processes of this test's own (see spawner)."""
    with spawner() as start:
        yield start


@pytest.fixture(scope="module")
def module_spawn() -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Processes the module's tests share, such as a server started once for all of them."""
    with spawner() as start:
        yield start


@pytest.fixture(scope="module")
def module_free_port() -> int:
    return _free_port()


@pytest.fixture
def app_root(tmp_path: Path) -> Path:
    """<tmp>/src/todo_app and <tmp>/bin, as the Dockerfile lays out /app."""
    package = Path(todo_app.__file__).parent
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(package, tmp_path / "src" / "todo_app", ignore=ignore)
    shutil.copytree(package / "bin", tmp_path / "bin", ignore=ignore)
    return tmp_path
