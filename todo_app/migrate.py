"""`python -m todo_app.migrate`: bring the configured database's schema up to date, then exit."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable, Sequence

import psycopg2

from todo_app.config import database_from_env, secret_arn_from_env
from todo_app.credentials import connect, credentials_for
from todo_app.dsn import connection_kwargs
from todo_app.migrations import MIGRATIONS, upgrade
from todo_app.secret import SecretUnavailable


def connect_with_retry(
    open_connection: Callable[[], psycopg2.extensions.connection],
    wait_seconds: float,
    sleep: Callable[[float], None] = time.sleep,
) -> psycopg2.extensions.connection:
    """Connect, retrying for up to wait_seconds: a task may start before its database."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return open_connection()
        except (psycopg2.OperationalError, SecretUnavailable) as error:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
            if time.monotonic() >= deadline:
                raise
            print(f"migrate: database not reachable yet ({reason}); retrying", file=sys.stderr)
            sleep(2.0)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m todo_app.migrate",
        description="Apply the Todo API's schema migrations to the database named by "
        "DATABASE_URL or DB_HOST, DB_PORT, DB_NAME, DB_USER_NAME, with the password in "
        "DB_PWD or the Secrets Manager secret DB_SECRET_ARN.",
    )
    parser.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="keep trying to reach the database for this long (default: 0, one try)",
    )
    args = parser.parse_args(argv)
    # The app's notices (its password read from the secret, refused, read again) on stderr.
    notices = logging.StreamHandler(sys.stderr)
    notices.setFormatter(logging.Formatter("migrate: %(message)s"))
    logging.getLogger("todo_app").addHandler(notices)
    logging.getLogger("todo_app").setLevel(logging.INFO)
    try:
        database = database_from_env()
        credentials = credentials_for(database, secret_arn_from_env())
    except ValueError as error:
        print(f"migrate: {error}", file=sys.stderr)
        return 2
    kwargs = connection_kwargs(database)
    try:
        conn = connect_with_retry(lambda: connect(kwargs, credentials), args.wait)
    except (psycopg2.OperationalError, SecretUnavailable) as error:
        print(f"migrate: cannot reach the database: {error}".strip(), file=sys.stderr)
        return 1
    try:
        applied = upgrade(conn)
    finally:
        conn.close()
    latest = MIGRATIONS[-1].version
    # stderr: stdout is kept for the JSON access log.
    if applied:
        message = f"applied {', '.join(map(str, applied))}; schema at version {latest}"
    else:
        message = f"schema already at version {latest}"
    print(f"migrate: {message}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
