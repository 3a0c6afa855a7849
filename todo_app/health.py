"""/healthz: 200 when the app and its database answer, else 503 within ~1 s; the reason goes
to the log, once per change."""

from __future__ import annotations

import logging
import select
import threading
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
_STATE = "todo_app.health"


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
    """What a person reads in the log: libpq's first line, with what to check."""
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


class HealthState:
    """This process's last health verdict, so that the log gets one line per change of it
    (the ALB probes every few seconds; a line per probe would bury the reason)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reason: str | None = ""  # "": not probed yet; None: healthy

    def record(self, reason: str | None, log: logging.Logger) -> None:
        with self._lock:
            if reason == self._reason:
                return
            self._reason = reason
        if reason is None:
            log.info("health check passed: the database answers and its schema is current")
        else:
            log.warning("health check failed: %s", reason)


def _state() -> HealthState:
    return current_app.extensions.setdefault(_STATE, HealthState())  # type: ignore[no-any-return]


def _verdict() -> str | None:
    """None when healthy, else the reason it is not (for the log only)."""
    credentials = get_credentials()
    try:
        config = current_app.config
        version = probe(config["DATABASE"], credentials, config["HEALTH_TIMEOUT_SECONDS"])
    except (psycopg2.Error, ProbeTimeout, OSError, SecretUnavailable) as error:
        return _reason(error, credentials)
    expected = MIGRATIONS[-1].version
    if version is None or version < expected:
        # Serving before migrations ran would answer errors; keep the task out of the ALB.
        found = "not migrated" if version is None else f"at version {version}"
        return f"database schema {found}, this app needs version {expected}"
    return None


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    # The public answer says healthy or not, nothing else: the reason names the database
    # user, host and secret, which are nobody's business outside the task's own log.
    reason = _verdict()
    _state().record(reason, current_app.logger)
    if reason is not None:
        return jsonify(status="unavailable"), 503
    return jsonify(status="ok")
