"""/healthz: 200 when the app and its database answer, 503 with the reason within ~1 s."""

from __future__ import annotations

import select
import time
from typing import Any

import psycopg2
from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from psycopg2 import extensions

from todo_app.dsn import connection_kwargs
from todo_app.migrations import CURRENT_VERSION_SQL, LEDGER_EXISTS_SQL, MIGRATIONS

bp = Blueprint("health", __name__)


class ProbeTimeout(Exception):
    """The database did not answer before the probe's deadline."""


def _wait(conn: extensions.connection, deadline: float) -> None:
    """Drive an asynchronous connection until its current step is done, or the deadline."""
    while True:
        state = conn.poll()
        if state == extensions.POLL_OK:
            return
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ProbeTimeout("no answer from the database in time")
        if state == extensions.POLL_READ:
            select.select([conn.fileno()], [], [], remaining)
        elif state == extensions.POLL_WRITE:
            select.select([], [conn.fileno()], [], remaining)


def _query(conn: extensions.connection, sql: str, deadline: float) -> Any:
    cur = conn.cursor()
    cur.execute(sql)
    _wait(conn, deadline)
    row = cur.fetchone()
    return row[0] if row else None


def probe(database: dict[str, Any], timeout_seconds: float) -> int | None:
    """Connect and ask for the schema version (None: never migrated), within timeout_seconds.

    A fresh asynchronous connection rather than a pooled one: libpq will not time out a
    connect in under 2 s, and a hung server must not hold the probe past its deadline.
    ALB checks come every few seconds, so the extra connection costs nothing that matters.
    """
    deadline = time.monotonic() + timeout_seconds
    kwargs = connection_kwargs(database, statement_timeout_ms=int(timeout_seconds * 1000))
    conn = psycopg2.connect(**kwargs, async_=1)
    try:
        _wait(conn, deadline)
        if not _query(conn, LEDGER_EXISTS_SQL, deadline):
            return None
        return _query(conn, CURRENT_VERSION_SQL, deadline)
    finally:
        conn.close()


def _reason(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    started = time.monotonic()
    try:
        config = current_app.config
        version = probe(config["DATABASE"], config["HEALTH_TIMEOUT_SECONDS"])
    except (psycopg2.Error, ProbeTimeout, OSError) as error:
        current_app.logger.warning("health check failed: %s", error)
        body = {"status": "unavailable", "error": f"database unavailable: {_reason(error)}"}
        return jsonify(body), 503
    elapsed_ms = round((time.monotonic() - started) * 1000, 1)
    expected = MIGRATIONS[-1].version
    if version is None or version < expected:
        # Serving before migrations ran would answer errors; keep the task out of the ALB.
        found = "not migrated" if version is None else f"at version {version}"
        reason = f"database schema {found}, this app needs version {expected}"
        return jsonify(status="unavailable", error=reason), 503
    return jsonify(status="ok", database="ok", schema_version=version, latency_ms=elapsed_ms)
