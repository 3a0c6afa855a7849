"""/healthz: 200 when the app and its database answer, else a prompt 503; the public answer
says only which, and the reason goes to the task's log, once per change of state."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable, Iterator

import pytest
from flask import Flask

from todo_app.migrations import MIGRATIONS

# "Within about a second": the probe's deadline is 1 s; allow for a loaded CI machine.
PROMPT = 1.8

HEALTHY = {"status": "ok"}
UNHEALTHY = {"status": "unavailable"}


def timed_health(app: Flask) -> tuple[int, dict[str, object], float]:
    started = time.monotonic()
    response = app.test_client().get("/healthz")
    return response.status_code, response.get_json(), time.monotonic() - started


def unhealthy_on_port(make_app: Callable[..., Flask], port: int) -> float:
    """An app whose database is at 127.0.0.1:port answers 503 'unavailable'; in how long."""
    app = make_app(f"host=127.0.0.1 port={port} dbname=todo user=todo")
    status, body, elapsed = timed_health(app)
    assert (status, body) == (503, UNHEALTHY)
    return elapsed


def health_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("health check")]


def test_healthy_with_a_migrated_database(app: Flask) -> None:
    status, body, elapsed = timed_health(app)
    assert (status, body) == (200, HEALTHY)
    assert elapsed < PROMPT


def test_unavailable_when_nothing_listens_on_the_database_port(
    make_app: Callable[..., Flask], free_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    assert unhealthy_on_port(make_app, free_port) < PROMPT
    [line] = health_lines(caplog)
    assert line.startswith("health check failed: database unavailable")
    assert "refused" in line.lower()


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts TCP connections and then never says a word (a hung database)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)  # the kernel completes handshakes; nobody ever reads or answers
        yield listener.getsockname()[1]


def test_unavailable_within_a_second_when_the_database_hangs(
    make_app: Callable[..., Flask], silent_server: int, caplog: pytest.LogCaptureFixture
) -> None:
    elapsed = unhealthy_on_port(make_app, silent_server)
    assert "database unavailable" in health_lines(caplog)[0]
    assert 0.9 < elapsed < PROMPT


def test_unavailable_while_the_schema_is_not_migrated(
    empty_database: str, make_app: Callable[..., Flask], caplog: pytest.LogCaptureFixture
) -> None:
    status, body, _ = timed_health(make_app(empty_database))
    assert (status, body) == (503, UNHEALTHY)
    latest = MIGRATIONS[-1].version
    assert health_lines(caplog) == [
        f"health check failed: database schema not migrated, this app needs version {latest}"
    ]


def test_the_503_names_neither_the_user_nor_the_database(
    make_app: Callable[..., Flask], free_port: int
) -> None:
    app = make_app(f"host=127.0.0.1 port={free_port} dbname=secretdb user=secretuser")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    text = response.get_data(as_text=True)
    for private in ("secretuser", "secretdb", "127.0.0.1", str(free_port)):
        assert private not in text


def test_the_log_has_one_line_per_change_of_state_not_per_probe(
    database: str, make_app: Callable[..., Flask], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="todo_app")
    app = make_app(database)
    client = app.test_client()
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    # The database goes away (a wrong port stands in for it), then comes back.
    good = app.config["DATABASE"]
    app.config["DATABASE"] = {"dsn": f"{database} port=1"}
    for _ in range(3):
        assert client.get("/healthz").status_code == 503
    app.config["DATABASE"] = good
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    lines = health_lines(caplog)
    assert len(lines) == 3, lines
    assert lines[0].startswith("health check passed")
    assert lines[1].startswith("health check failed: database unavailable")
    assert lines[2].startswith("health check passed")
