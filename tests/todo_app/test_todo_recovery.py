"""The app rides out a database restart: no 500s while it is down, and it serves again after."""

from __future__ import annotations

from collections.abc import Callable

import psycopg2
from flask import Flask

from todo_app.db import get_pool
from todo_app.embedded_pg import EmbeddedPostgres


def test_requests_succeed_again_after_the_database_restarts(
    dedicated_server: EmbeddedPostgres, make_app: Callable[..., Flask]
) -> None:
    app = make_app(dedicated_server.dsn("todo"))
    client = app.test_client()
    created = client.post("/todos", json={"title": "survives a restart"})
    assert created.status_code == 201
    # Fill the pool with several idle connections that the restart will break.
    pool = get_pool(app)
    held = [pool.acquire() for _ in range(3)]
    for conn in held:
        pool.release(conn)

    dedicated_server.stop()
    down = client.get("/todos")
    assert down.status_code == 503
    assert "database unavailable" in down.get_json()["error"]
    assert client.get("/healthz").status_code == 503

    dedicated_server.start()
    # The same app object, never recreated: its dead connections are dropped, new ones made.
    listed = client.get("/todos")
    assert listed.status_code == 200
    assert [todo["title"] for todo in listed.get_json()] == ["survives a restart"]
    assert client.post("/todos", json={"title": "after"}).status_code == 201
    assert client.get("/healthz").status_code == 200


def test_a_connection_the_server_killed_is_replaced_before_use(app: Flask, database: str) -> None:
    client = app.test_client()
    assert client.get("/todos").status_code == 200  # leaves one idle pooled connection
    pool = get_pool(app)
    conn = pool.acquire()
    backend_pid = conn.get_backend_pid()
    pool.release(conn)

    admin = psycopg2.connect(database)
    try:
        with admin.cursor() as cur:
            # With a timeout, it returns once the backend is gone, not merely signalled.
            cur.execute("SELECT pg_terminate_backend(%s, 5000)", (backend_pid,))
    finally:
        admin.close()

    # The very next request gets a working connection: no error, not even a 503.
    assert client.post("/todos", json={"title": "x"}).status_code == 201
    conn = pool.acquire()
    assert conn.get_backend_pid() != backend_pid
    pool.release(conn)
