"""Versioned schema migrations, applied in order under a PostgreSQL advisory lock."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg2 import extensions


@dataclass(frozen=True)
class Migration:
    """One numbered step of the schema; once released, never edited (add a new one)."""

    version: int
    name: str
    sql: str


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "create todos",
        """
        CREATE TABLE todos (
            id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            title      text        NOT NULL,
            completed  boolean     NOT NULL DEFAULT false,
            position   integer,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT todos_title_length CHECK (char_length(title) BETWEEN 1 AND 500)
        );
        -- The listing order: by `order` (position; todos without one last), then creation.
        CREATE INDEX todos_listing ON todos (position, created_at, id);
        """,
    ),
    Migration(
        2,
        "count changes to todos",
        # The list's version, for the app's cached listing (todo_app/listing.py): the sum of
        # `changes` over these rows, bumped by every statement that writes to todos, in the
        # writer's own transaction. A reader's snapshot then sees the bump exactly when it
        # sees the write: an equal sum means the same committed writes, so the same list.
        # Each backend bumps the row of its own stripe, so concurrent writers seldom wait
        # for one another's commit on a single hot row. The upsert makes a missing stripe
        # row (deleted by hand) come back rather than silently freeze the version.
        # New objects only: on a database with todos, nothing existing is rewritten.
        """
        CREATE TABLE todo_changes (
            stripe  smallint PRIMARY KEY,
            changes bigint   NOT NULL
        ) WITH (fillfactor = 50);
        CREATE FUNCTION todo_count_change() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO todo_changes AS c (stripe, changes)
            VALUES (pg_backend_pid() % 16, 1)
            ON CONFLICT (stripe) DO UPDATE SET changes = c.changes + 1;
            RETURN NULL;
        END
        $$;
        CREATE TRIGGER todos_count_change
            AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON todos
            FOR EACH STATEMENT EXECUTE FUNCTION todo_count_change();
        """,
    ),
)

# Any constant bigint will do, as long as nothing else in the database uses it.
ADVISORY_LOCK_KEY = 0x746F646F5F6D6967  # "todo_mig"

_CREATE_LEDGER = """
    CREATE TABLE IF NOT EXISTS schema_migrations (
        version    integer     PRIMARY KEY,
        name       text        NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
    )
"""


def upgrade(conn: extensions.connection) -> list[int]:
    """Apply every migration not yet recorded; return the versions this call applied.

    Everything runs in one transaction holding a transaction-level advisory lock, so tasks
    starting together queue up: the first applies, the rest find nothing left to do. The
    lock goes with the transaction, even if the process dies half-way.
    """
    conn.autocommit = False
    applied: list[int] = []
    with conn, conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (ADVISORY_LOCK_KEY,))
        cur.execute(_CREATE_LEDGER)
        cur.execute("SELECT version FROM schema_migrations")
        done = {version for (version,) in cur.fetchall()}
        for migration in MIGRATIONS:
            if migration.version in done:
                continue
            cur.execute(migration.sql)
            cur.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                (migration.version, migration.name),
            )
            applied.append(migration.version)
    return applied


def current_version(conn: extensions.connection) -> int | None:
    """The highest applied version, or None when the database was never migrated."""
    with conn.cursor() as cur:
        cur.execute(LEDGER_EXISTS_SQL)
        if not _first(cur.fetchone()):
            return None
        cur.execute(CURRENT_VERSION_SQL)
        return _first(cur.fetchone())


# Two statements, since a query naming a missing table fails as a whole.
LEDGER_EXISTS_SQL = "SELECT to_regclass('schema_migrations') IS NOT NULL"
CURRENT_VERSION_SQL = "SELECT max(version) FROM schema_migrations"


def _first(row: tuple[Any, ...] | None) -> Any:
    return row[0] if row else None
