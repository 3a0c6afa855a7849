"""/healthz: 200 when the app and its database answer, else a prompt JSON 503 saying why."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator

import pytest
from flask import Flask

from todo_app.migrations import MIGRATIONS

# "Within about a second": the probe's deadline is 1 s; allow for a loaded CI machine.
PROMPT = 1.8


def timed_health(app: Flask) -> tuple[int, dict[str, object], float]:
    started = time.monotonic()
    response = app.test_client().get("/healthz")
    return response.status_code, response.get_json(), time.monotonic() - started


def test_healthy_with_a_migrated_database(app: Flask) -> None:
    status, body, elapsed = timed_health(app)
    assert status == 200
    assert body["status"] == "ok"
    assert body["schema_version"] == MIGRATIONS[-1].version
    assert elapsed < PROMPT


def test_unavailable_when_nothing_listens_on_the_database_port(
    make_app: Callable[..., Flask], free_port: int
) -> None:
    app = make_app(f"host=127.0.0.1 port={free_port} dbname=todo user=todo")
    status, body, elapsed = timed_health(app)
    assert status == 503
    assert body["status"] == "unavailable"
    assert "refused" in str(body["error"]).lower()
    assert elapsed < PROMPT


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts TCP connections and then never says a word (a hung database)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)  # the kernel completes handshakes; nobody ever reads or answers
        yield listener.getsockname()[1]


def test_unavailable_within_a_second_when_the_database_hangs(
    make_app: Callable[..., Flask], silent_server: int
) -> None:
    app = make_app(f"host=127.0.0.1 port={silent_server} dbname=todo user=todo")
    status, body, elapsed = timed_health(app)
    assert status == 503
    assert "database unavailable" in str(body["error"])
    assert 0.9 < elapsed < PROMPT


def test_unavailable_while_the_schema_is_not_migrated(
    empty_database: str, make_app: Callable[..., Flask]
) -> None:
    status, body, _ = timed_health(make_app(empty_database))
    assert status == 503
    assert body["error"] == "database schema not migrated, this app needs version 1"
