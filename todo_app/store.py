"""SQL for todos. Every value is a bound parameter; PostgreSQL renders each todo as JSON."""

from __future__ import annotations

from typing import Any

from psycopg2 import extensions

# PostgreSQL builds the JSON itself: listing 100 todos then costs Python one string copy,
# not 100 dicts of datetimes to convert (bench/bench_todo_api.py measures the difference).
# `url` is the collection's absolute URL, computed per request so it honours the proxy's
# scheme and host.
_TODO_OBJECT = """json_build_object(
    'id', id,
    'title', title,
    'completed', completed,
    'order', position,
    'url', %(collection_url)s || '/' || id,
    'created_at', created_at,
    'updated_at', updated_at)"""
_TODO_JSON = f"{_TODO_OBJECT}::text"

_LIST = f"""
    SELECT coalesce(json_agg({_TODO_OBJECT} ORDER BY position, created_at, id), '[]')::text
    FROM todos"""

_GET = f"SELECT {_TODO_JSON} FROM todos WHERE id = %(id)s"

_CREATE = f"""
    INSERT INTO todos (title, completed, position)
    VALUES (%(title)s, %(completed)s, %(order)s)
    RETURNING id, {_TODO_JSON}"""

# One fixed statement for any subset of fields: a `set_x` flag says whether x was sent,
# so `order` can be set to null on purpose.
_UPDATE = f"""
    UPDATE todos SET
        title      = CASE WHEN %(set_title)s THEN %(title)s ELSE title END,
        completed  = CASE WHEN %(set_completed)s THEN %(completed)s ELSE completed END,
        position   = CASE WHEN %(set_order)s THEN %(order)s ELSE position END,
        updated_at = now()
    WHERE id = %(id)s
    RETURNING {_TODO_JSON}"""


def _one(conn: extensions.connection, sql: str, params: dict[str, Any]) -> tuple[Any, ...] | None:
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()


def list_todos(conn: extensions.connection, collection_url: str) -> str:
    """All todos as a JSON array, by order (todos without one last), then creation."""
    row = _one(conn, _LIST, {"collection_url": collection_url})
    assert row is not None  # an aggregate always answers one row
    return row[0]


def get_todo(conn: extensions.connection, collection_url: str, todo_id: int) -> str | None:
    row = _one(conn, _GET, {"collection_url": collection_url, "id": todo_id})
    return row[0] if row else None


def create_todo(
    conn: extensions.connection, collection_url: str, fields: dict[str, Any]
) -> tuple[int, str]:
    """Insert a todo; return its id and JSON."""
    row = _one(conn, _CREATE, {"collection_url": collection_url, **fields})
    assert row is not None  # INSERT ... RETURNING answers the row it inserted
    return row[0], row[1]


def update_todo(
    conn: extensions.connection, collection_url: str, todo_id: int, changes: dict[str, Any]
) -> str | None:
    """Change the given fields of a todo; None when there is no such todo."""
    if not changes:
        return get_todo(conn, collection_url, todo_id)
    params: dict[str, Any] = {"collection_url": collection_url, "id": todo_id}
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
