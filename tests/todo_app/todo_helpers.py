"""Small helpers the Todo API's tests share: migrating a database, running work at once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import psycopg2
import pytest

from todo_app.migrations import upgrade


def migrate(dsn: str) -> list[int]:
    """Apply the app's migrations to the database `dsn` names; the versions applied now."""
    conn = psycopg2.connect(dsn)
    try:
        return upgrade(conn)
    finally:
        conn.close()


def at_once(work: Callable[[], None], threads: int) -> None:
    """`work` in that many threads at the same time; back when they are all done (30 s each
    at most)."""
    running = [threading.Thread(target=work) for _ in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join(timeout=30)


def named(cases: Sequence[tuple[Any, ...]]) -> list[Any]:
    """A table of (name, *values) rows as pytest parameters, each shown by its name."""
    return [pytest.param(*values, id=name) for name, *values in cases]
