"""/healthz: 200 when the app and its database answer, 503 with the reason within ~1 s."""

from __future__ import annotations

import select
import time
from typing import Any

import psycopg2
from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from psycopg2 import extensions

from todo_app.credentials import Credentials, authenticated, password_refused, with_password
from todo_app.db import get_credentials
from todo_app.dsn import connection_kwargs
from todo_app.migrations import CURRENT_VERSION_SQL, LEDGER_EXISTS_SQL, MIGRATIONS
from todo_app.secret import SecretUnavailable

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


def probe(database: dict[str, Any], credentials: Credentials, timeout_seconds: float) -> int | None:
    """Connect and ask for the schema version (None: never migrated), within timeout_seconds.

    A fresh asynchronous connection rather than a pooled one: libpq will not time out a
    connect in under 2 s, and a hung server must not hold the probe past its deadline.
    ALB checks come every few seconds, so the extra connection costs nothing that matters.
    It logs in as the pool does, so a rotated password is found here too; the deadline
    counts from each login attempt, after any read of the password's secret (which has its
    own timeouts).
    """
    kwargs = connection_kwargs(database, statement_timeout_ms=int(timeout_seconds * 1000))
    deadline = 0.0

    def attempt(password: str | None) -> extensions.connection:
        nonlocal deadline
        deadline = time.monotonic() + timeout_seconds
        conn = psycopg2.connect(**with_password(kwargs, password), async_=1)
        try:
            _wait(conn, deadline)  # a refused password surfaces here
        except BaseException:
            conn.close()
            raise
        return conn

    conn = authenticated(attempt, credentials)
    try:
        if not _query(conn, LEDGER_EXISTS_SQL, deadline):
            return None
        return _query(conn, CURRENT_VERSION_SQL, deadline)
    finally:
        conn.close()


def _reason(error: Exception, credentials: Credentials) -> str:
    """What a person reads in the 503: libpq's first line, with what to check."""
    lines = str(error).strip().splitlines()
    first = lines[0] if lines else type(error).__name__
    if isinstance(error, SecretUnavailable):
        return f"database password unavailable: {first}"
    if password_refused(error) and credentials.secret is not None:
        return (
            f"database unavailable: {first} (also with the password in secret"
            f" {credentials.secret.arn}; is it the secret of DB_USER_NAME on this database?)"
        )
    if "certificate" in first:
        # Wrong CA, a name the certificate does not carry, or a missing CA bundle.
        return (
            f"database unavailable: its certificate could not be verified ({first});"
            " check DB_SSLROOTCERT (the CA bundle) and that DB_HOST is a name on the"
            " database's certificate"
        )
    return f"database unavailable: {first}"


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    started = time.monotonic()
    credentials = get_credentials()
    try:
        config = current_app.config
        version = probe(config["DATABASE"], credentials, config["HEALTH_TIMEOUT_SECONDS"])
    except (psycopg2.Error, ProbeTimeout, OSError, SecretUnavailable) as error:
        reason = _reason(error, credentials)
        current_app.logger.warning("health check failed: %s", reason)
        return jsonify(status="unavailable", error=reason), 503
    elapsed_ms = round((time.monotonic() - started) * 1000, 1)
    expected = MIGRATIONS[-1].version
    if version is None or version < expected:
        # Serving before migrations ran would answer errors; keep the task out of the ALB.
        found = "not migrated" if version is None else f"at version {version}"
        reason = f"database schema {found}, this app needs version {expected}"
        return jsonify(status="unavailable", error=reason), 503
    return jsonify(status="ok", database="ok", schema_version=version, latency_ms=elapsed_ms)
