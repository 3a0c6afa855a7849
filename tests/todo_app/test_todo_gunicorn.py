"""The Todo API under its production gunicorn settings, spoken to over raw sockets: slow
clients never stop /healthz, whole requests are served however they arrive, and no header a
client sends moves the API's URLs or breaks its own requests."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from health_wait import wait_for_health
from slow_clients import SlowClients, health_latency

REPO = Path(__file__).resolve().parents[2]
ALB_TIMEOUT = 5.0  # the HealthCheckTimeoutSeconds the runbook sets
REQUEST_SECONDS = 2  # the worker's deadline for a whole request, shortened for the test


@pytest.fixture(scope="module")
def gunicorn(
    module_database: str,
    module_free_port: int,
    module_spawn: Callable[..., subprocess.Popen[str]],
) -> Iterator[int]:
    """gunicorn with todo_app/gunicorn_conf.py on a migrated database; its port. One server
    for the module (starting one took 1-4 s a test): each test speaks over connections of
    its own and needs no todo but those it makes."""
    env = {
        **os.environ,
        "DATABASE_URL": module_database,
        "HOST": "127.0.0.1",
        "PORT": str(module_free_port),
        "PYTHONPATH": str(REPO),
        "GUNICORN_REQUEST_SECONDS": str(REQUEST_SECONDS),
    }
    command = [sys.executable, "-m", "gunicorn", "--config", "python:todo_app.gunicorn_conf"]
    server = module_spawn(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_health(module_free_port, server)
    yield module_free_port
    server.terminate()
    server.wait(timeout=30)


def exchange(port: int, *pieces: bytes, pause: float = 0.0) -> bytes:
    """Send the pieces (pausing between them), then read until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        for piece in pieces:
            sock.sendall(piece)
            time.sleep(pause)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


def post(body: bytes, *headers: str) -> bytes:
    lines = [
        "POST /todos HTTP/1.1",
        "Host: todo.example.com",
        "Content-Type: application/json",
        "Connection: close",
        *headers,
    ]
    if not any(h.lower().startswith(("content-length", "transfer-encoding")) for h in headers):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def status_of(answer: bytes) -> int:
    final = answer
    while final.startswith(b"HTTP/1.1 100"):
        final = final.split(b"\r\n\r\n", 1)[1]
    return int(final.split(b" ", 2)[1])


def body_of(answer: bytes) -> dict[str, object]:
    return json.loads(answer.rsplit(b"\r\n\r\n", 1)[1])


def test_health_checks_answer_in_time_while_50_slow_clients_hold_connections(
    gunicorn: int,
) -> None:
    with SlowClients(gunicorn, 50) as slow:
        time.sleep(0.5)  # every slow client connected and started
        latencies = [health_latency(gunicorn, ALB_TIMEOUT) for _ in range(8)]
        # Past the worker's deadline for a whole request (and its 2 s for the client to
        # take the 408), the server closes the slow ones and they come back: the checks
        # still answer then. Waited for as it happens, not for a fixed time.
        deadline = time.monotonic() + REQUEST_SECONDS + 30
        while not slow.reconnects and time.monotonic() < deadline:
            latencies.append(health_latency(gunicorn, ALB_TIMEOUT))
            time.sleep(0.2)
        assert slow.reconnects > 0  # the server closed slow connections at the deadline
        latencies += [health_latency(gunicorn, ALB_TIMEOUT) for _ in range(4)]
    answered = [latency for latency in latencies if latency is not None]
    assert len(answered) == len(latencies), f"{latencies}"


def test_a_request_that_stalls_is_answered_408_json(gunicorn: int) -> None:
    answer = exchange(gunicorn, post(b'{"title": "x"}')[:-5])  # never sends the last bytes
    assert status_of(answer) == 408
    assert "did not arrive in time" in str(body_of(answer)["error"])


def test_a_request_arriving_in_pieces_is_served(gunicorn: int) -> None:
    request = post(b'{"title": "in pieces"}')
    pieces = [request[n : n + 9] for n in range(0, len(request), 9)]
    answer = exchange(gunicorn, *pieces, pause=0.01)
    assert status_of(answer) == 201
    assert body_of(answer)["title"] == "in pieces"


def test_a_chunked_body_is_served(gunicorn: int) -> None:
    first, second = b'{"titl', b'e": "chunked"}'
    chunks = b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (len(first), first, len(second), second)
    answer = exchange(gunicorn, post(chunks, "Transfer-Encoding: chunked"), pause=0.01)
    assert status_of(answer) == 201
    assert body_of(answer)["title"] == "chunked"


@pytest.mark.parametrize(
    "chunks",
    [b"1\r\n{}\r\n0\r\n\r\n", b"zz\r\n{}\r\n0\r\n\r\n", b"2\r\n{}XX0\r\n\r\n"],
    ids=["data longer than its chunk size", "bad chunk size", "no chunk terminator"],
)
def test_a_malformed_chunked_body_is_refused_400_json(gunicorn: int, chunks: bytes) -> None:
    answer = exchange(gunicorn, post(chunks, "Transfer-Encoding: chunked"))
    assert status_of(answer) == 400
    assert "error" in body_of(answer)


def test_expect_100_continue_gets_its_interim_answer_then_the_todo(gunicorn: int) -> None:
    request = post(b'{"title": "after 100"}', "Expect: 100-continue")
    head, body = request.split(b"\r\n\r\n", 1)
    with socket.create_connection(("127.0.0.1", gunicorn), timeout=10) as sock:
        sock.sendall(head + b"\r\n\r\n")
        assert sock.recv(1024).startswith(b"HTTP/1.1 100 Continue\r\n")
        sock.sendall(body)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert status_of(answer) == 201


def test_two_pipelined_requests_are_both_answered(gunicorn: int) -> None:
    first = post(b'{"title": "one"}').replace(b"Connection: close\r\n", b"")
    second = b"GET /todos HTTP/1.1\r\nHost: todo.example.com\r\nConnection: close\r\n\r\n"
    answer = exchange(gunicorn, first + second)
    assert answer.count(b"HTTP/1.1 201") == 1
    assert answer.count(b"HTTP/1.1 200") == 1
    assert b'"title":"one"' in answer.rsplit(b"\r\n\r\n", 1)[1]


def test_oversize_header_fields_are_refused_431(gunicorn: int) -> None:
    answer = exchange(gunicorn, post(b"{}", "X-Big: " + "b" * 70_000))
    assert status_of(answer) == 431


def test_an_oversize_chunked_body_is_refused_413_json(gunicorn: int) -> None:
    data = b"y" * 70_000
    chunked = f"{len(data):x}\r\n".encode() + data + b"\r\n0\r\n\r\n"
    answer = exchange(gunicorn, post(chunked, "Transfer-Encoding: chunked"))
    assert status_of(answer) == 413
    assert body_of(answer)["status"] == 413


def test_no_header_a_client_sends_moves_the_urls(gunicorn: int) -> None:
    # X-Forwarded-Host is no ALB header; SCRIPT_NAME would become the app's mount point
    # if gunicorn trusted this peer's forwarding headers.
    request = post(
        b'{"title": "x"}',
        "X-Forwarded-Host: evil.example",
        "SCRIPT_NAME: //evil.example",
        "X-Forwarded-Proto: https",
        "X-Forwarded-For: 203.0.113.7",
    )
    answer = exchange(gunicorn, request)
    assert status_of(answer) == 201
    assert b"evil" not in answer
    assert b"Location: https://todo.example.com/todos/" in answer


def test_a_clients_own_scheme_headers_do_not_fail_its_request(gunicorn: int) -> None:
    # gunicorn refuses "contradictory scheme headers" from a peer it trusts; it trusts none.
    request = post(b'{"title": "x"}', "X-Forwarded-Ssl: on", "X-Forwarded-Proto: http")
    answer = exchange(gunicorn, request)
    assert status_of(answer) == 201
    assert b"Location: http://todo.example.com/todos/" in answer
