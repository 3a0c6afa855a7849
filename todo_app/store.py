"""SQL for todos. Every value is a bound parameter; PostgreSQL renders each todo as JSON."""

from __future__ import annotations

import weakref
from typing import Any

from psycopg2 import extensions

# PostgreSQL renders the JSON itself: listing 100 todos then costs Python one string copy,
# not 100 dicts of datetimes to convert (bench/bench_todo_api.py measures it). A record's
# JSON (row_to_json, json_agg) is compact and keyed by the column aliases below. `url` is
# the todo's id after the collection's absolute URL (with a final "/"), computed per
# request so that it honours the proxy's scheme and host.
_TODO_COLUMNS = """id, title, completed, position AS "order",
    %(url_prefix)s || id AS url, created_at, updated_at"""

# The listing is the hot path. It answers the list's version (see migration 2) and, only when
# that differs from the version the caller already holds, the list itself, both from one
# snapshot: the list then is exactly the one of that version. Prepared once per connection,
# it skips parsing and planning on every later call.
_LIST_NAME = "todo_list_since"
_PREPARE_LIST = f"""
    PREPARE {_LIST_NAME} (text, bigint) AS
    SELECT v.version, CASE WHEN v.version IS DISTINCT FROM $2 THEN (
        SELECT coalesce(json_agg(t ORDER BY t."order", t.created_at, t.id), '[]')::text
        FROM (SELECT {_TODO_COLUMNS.replace("%(url_prefix)s", "$1")} FROM todos) AS t
    ) END
    FROM (SELECT coalesce(sum(changes), 0)::bigint AS version FROM todo_changes) AS v"""
_LIST = f"EXECUTE {_LIST_NAME} (%(url_prefix)s, %(known)s)"
_listing_prepared: weakref.WeakSet[extensions.connection] = weakref.WeakSet()

_GET = f"""
    SELECT row_to_json(t)::text
    FROM (SELECT {_TODO_COLUMNS} FROM todos WHERE id = %(id)s) AS t"""

_CREATE = f"""
    WITH t AS (
        INSERT INTO todos (title, completed, position)
        VALUES (%(title)s, %(completed)s, %(order)s)
        RETURNING {_TODO_COLUMNS})
    SELECT id, row_to_json(t)::text FROM t"""

# One fixed statement for any subset of fields: a `set_x` flag says whether x was sent,
# so `order` can be set to null on purpose.
_UPDATE = f"""
    WITH t AS (
        UPDATE todos SET
            title      = CASE WHEN %(set_title)s THEN %(title)s ELSE title END,
            completed  = CASE WHEN %(set_completed)s THEN %(completed)s ELSE completed END,
            position   = CASE WHEN %(set_order)s THEN %(order)s ELSE position END,
            updated_at = now()
        WHERE id = %(id)s
        RETURNING {_TODO_COLUMNS})
    SELECT row_to_json(t)::text FROM t"""


def _one(conn: extensions.connection, sql: str, params: dict[str, Any]) -> tuple[Any, ...] | None:
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()


def _prefix(collection_url: str) -> str:
    return collection_url + "/"


def list_todos_since(
    conn: extensions.connection, collection_url: str, known_version: int | None
) -> tuple[int, str | None]:
    """The list's version, and all todos as a JSON array (by order, todos without one last,
    then creation), or None in its place when the version is still `known_version`."""
    if conn not in _listing_prepared:
        with conn.cursor() as cur:
            cur.execute(_PREPARE_LIST)
        _listing_prepared.add(conn)
    row = _one(conn, _LIST, {"url_prefix": _prefix(collection_url), "known": known_version})
    assert row is not None  # an aggregate always answers one row
    return row[0], row[1]


def get_todo(conn: extensions.connection, collection_url: str, todo_id: int) -> str | None:
    row = _one(conn, _GET, {"url_prefix": _prefix(collection_url), "id": todo_id})
    return row[0] if row else None


def create_todo(
    conn: extensions.connection, collection_url: str, fields: dict[str, Any]
) -> tuple[int, str]:
    """Insert a todo; return its id and JSON."""
    row = _one(conn, _CREATE, {"url_prefix": _prefix(collection_url), **fields})
    assert row is not None  # INSERT ... RETURNING answers the row it inserted
    return row[0], row[1]


def update_todo(
    conn: extensions.connection, collection_url: str, todo_id: int, changes: dict[str, Any]
) -> str | None:
    """Change the given fields of a todo; None when there is no such todo."""
    if not changes:
        return get_todo(conn, collection_url, todo_id)
    params: dict[str, Any] = {"url_prefix": _prefix(collection_url), "id": todo_id}
    for field in ("title", "completed", "order"):
        params[f"set_{field}"] = field in changes
        params[field] = changes.get(field)
    row = _one(conn, _UPDATE, params)
    return row[0] if row else None


def delete_todo(conn: extensions.connection, todo_id: int) -> bool:
    """Delete one todo; False when there was no such todo."""
    row = _one(conn, "DELETE FROM todos WHERE id = %(id)s RETURNING id", {"id": todo_id})
    return row is not None


def delete_all(conn: extensions.connection) -> None:
    with conn.cursor() as cur:
        cur.execute("DELETE FROM todos")
