"""Database access for requests: the per-process pool, get_db/close_db, `flask db-upgrade`."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import click
from flask import Flask, current_app, g
from flask.cli import with_appcontext
from psycopg2 import extensions

from todo_app.credentials import Credentials, connect, credentials_for
from todo_app.dsn import connection_kwargs
from todo_app.migrations import upgrade
from todo_app.pool import Pool
from todo_app.secret import SecretUnavailable

_EXTENSION = "todo_app.pool"
_CREDENTIALS = "todo_app.credentials"
_pool_lock = threading.Lock()
T = TypeVar("T")


def _once_per_app(app: Flask, key: str, make: Callable[[], T]) -> T:
    """The app's one `key` extension, made on first use by one thread (checked before the
    lock as well: after the first use no request waits for it)."""
    found = app.extensions.get(key)
    if found is None:
        with _pool_lock:
            found = app.extensions.get(key)
            if found is None:
                found = app.extensions[key] = make()
    return found


def get_credentials(app: Flask | None = None) -> Credentials:
    """This process's password keeper, shared by the pool and the health probe."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    config = app.config
    return _once_per_app(
        app,
        _CREDENTIALS,
        lambda: credentials_for(
            config["DATABASE"], config["DATABASE_SECRET_ARN"], config["DB_SECRET_REREAD_SECONDS"]
        ),
    )


def get_pool(app: Flask | None = None) -> Pool:
    """This process's pool, opened on first use.

    Lazily, so that importing or creating the app never needs the database (gunicorn
    workers each open their own after the fork, and the app starts even while the
    database is down: /healthz then says why).
    """
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    pool = app.extensions.get(_EXTENSION)
    if pool is not None:
        return pool
    config = app.config
    credentials = get_credentials(app)  # before the lock: it takes the lock itself
    kwargs = connection_kwargs(config["DATABASE"], config["DB_STATEMENT_TIMEOUT_MS"])
    return _once_per_app(
        app,
        _EXTENSION,
        lambda: Pool(
            config["DB_POOL_MAX"],
            config["DB_POOL_WAIT_SECONDS"],
            lambda: connect(kwargs, credentials),
        ),
    )


def get_db() -> extensions.connection:
    """The request's connection (autocommit), taken from the pool on first use."""
    if "db" not in g:
        g.db = get_pool().acquire()
    return g.db


def close_db(error: BaseException | None = None) -> None:
    """Give the request's connection back to the pool at the end of the request."""
    conn = g.pop("db", None)
    if conn is not None:
        get_pool().release(conn)


def close_pool(app: Flask) -> None:
    """Close every pooled connection (a worker shutting down says goodbye to the server)."""
    pool = app.extensions.pop(_EXTENSION, None)
    if pool is not None and not pool.closed:
        pool.closeall()


@click.command("db-upgrade")
@with_appcontext
def db_upgrade_command() -> None:
    """Apply the schema migrations that the database does not have yet."""
    kwargs = connection_kwargs(current_app.config["DATABASE"])
    try:
        conn = connect(kwargs, get_credentials())
    except SecretUnavailable as error:
        raise click.ClickException(str(error)) from None
    try:
        applied = upgrade(conn)
    finally:
        conn.close()
    click.echo(f"Applied migrations: {', '.join(map(str, applied))}." if applied else "Up to date.")


def init_app(app: Flask) -> None:
    app.teardown_appcontext(close_db)
    app.cli.add_command(db_upgrade_command)
