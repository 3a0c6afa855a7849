"""The pool: one connection per thread, waiting rather than failing when all are busy."""

from __future__ import annotations

import threading
from collections.abc import Callable

import psycopg2
import pytest
from flask import Flask
from todo_helpers import at_once

from todo_app.db import get_pool
from todo_app.pool import PoolTimeout


def app_connections(dsn: str) -> int:
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND application_name = 'todo-api'"
            )
            row = cur.fetchone()
            return row[0] if row else 0
    finally:
        conn.close()


def test_more_threads_than_connections_all_succeed(
    database: str, make_app: Callable[..., Flask]
) -> None:
    app = make_app(database, DB_POOL_MAX=2)
    statuses: list[int] = []
    lock = threading.Lock()

    def work() -> None:
        client = app.test_client()
        for n in range(5):
            status = client.post("/todos", json={"title": f"t{n}"}).status_code
            with lock:
                statuses.append(status)

    at_once(work, 8)
    assert statuses == [201] * 40
    assert len(app.test_client().get("/todos").get_json()) == 40
    assert 1 <= app_connections(database) <= 2  # never more than the pool size; kept open


def test_a_request_waits_for_a_connection_then_gives_up_with_503(
    database: str, make_app: Callable[..., Flask]
) -> None:
    app = make_app(database, DB_POOL_MAX=1, DB_POOL_WAIT_SECONDS=0.2)
    pool = get_pool(app)
    busy = pool.acquire()
    try:
        with pytest.raises(PoolTimeout):
            pool.acquire()
        response = app.test_client().get("/todos")
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "1"
    finally:
        pool.release(busy)
    assert app.test_client().get("/todos").status_code == 200
