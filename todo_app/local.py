"""`todo-api`: run the API on this machine, on an embedded PostgreSQL unless one is configured."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

import psycopg2
from psycopg2 import sql
from psycopg2.extensions import make_dsn

from todo_app import create_app
from todo_app.config import database_from_env, database_is_configured, secret_arn_from_env
from todo_app.credentials import connect, credentials_for
from todo_app.dsn import connection_kwargs
from todo_app.embedded_pg import EmbeddedPostgres
from todo_app.migrations import upgrade

EMBEDDED_DBNAME = "todo"


def default_pgdata() -> Path:
    # Under the temp folder rather than the home folder: run as root, PostgreSQL runs as the
    # `pgserver` user, which must reach the data folder, and /root stays closed to it.
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return Path(tempfile.gettempdir()) / f"todo-api-{uid}" / "pgdata"


def _ensure_database(server_dsn: str, dbname: str) -> None:
    conn = psycopg2.connect(server_dsn)
    try:
        conn.autocommit = True  # CREATE DATABASE refuses to run in a transaction
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,))
            if cur.fetchone() is None:
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    finally:
        conn.close()


def _migrate(database: dict[str, str], secret_arn: str | None) -> list[int]:
    conn = connect(connection_kwargs(database), credentials_for(database, secret_arn))
    try:
        return upgrade(conn)
    finally:
        conn.close()


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # Turn SIGTERM into SystemExit so `finally` stops the embedded server.
    sys.exit(0)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="todo-api",
        description="Run the Todo API locally (Flask's development server). Uses the "
        "database named by DATABASE_URL or DB_HOST/DB_NAME/DB_USER_NAME/DB_PWD if set, "
        "else starts an embedded PostgreSQL.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "5000")))
    parser.add_argument(
        "--pgdata",
        type=Path,
        default=Path(os.environ["TODO_API_PGDATA"])
        if os.environ.get("TODO_API_PGDATA")
        else default_pgdata(),
        help="data folder of the embedded PostgreSQL (kept between runs)",
    )
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)

    embedded: EmbeddedPostgres | None = None
    try:
        secret_arn = None
        if database_is_configured():
            database = database_from_env()
            secret_arn = secret_arn_from_env()
            where = "the configured database"
        else:
            embedded = EmbeddedPostgres(args.pgdata)
            try:
                embedded.start()
            except RuntimeError as exc:  # e.g. a data folder its user cannot reach
                print(f"todo-api: {exc}", file=sys.stderr)
                return 2
            _ensure_database(embedded.dsn(), EMBEDDED_DBNAME)
            database = {"dsn": make_dsn(embedded.dsn(), dbname=EMBEDDED_DBNAME)}
            where = f"an embedded PostgreSQL in {args.pgdata}"
        applied = _migrate(database, secret_arn)
        app = create_app({"DATABASE": database, "DATABASE_SECRET_ARN": secret_arn})
        print(f"Todo API on {where} (migrations applied now: {applied or 'none'})", flush=True)
        print(f"Serving on http://{args.host}:{args.port}/todos", flush=True)
        app.run(host=args.host, port=args.port, threaded=True, use_reloader=False)
    finally:
        if embedded is not None:
            embedded.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
