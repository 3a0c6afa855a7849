"""No list is ever older than a write already acknowledged to any client, when writers and
readers run at once on two gunicorn servers (as two ECS tasks: two processes, each with
its own kept list) against one real PostgreSQL."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from health_wait import wait_for_health

REPO = Path(__file__).resolve().parents[2]
WRITERS = 2
TODOS_PER_WRITER = 25
READERS = 4


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Life:
    """One todo's writes, each step's time as the writer saw it (monotonic seconds)."""

    created: float = float("inf")  # acknowledged
    patched: float = float("inf")  # acknowledged
    delete_sent: float = float("inf")
    deleted: float = float("inf")  # acknowledged


@dataclass
class Read:
    started: float
    ended: float
    titles: set[str] = field(default_factory=set)


def request(
    conn: http.client.HTTPConnection, method: str, path: str, body: object = None, **headers: str
) -> tuple[int, dict[str, str], bytes]:
    data = json.dumps(body).encode() if body is not None else None
    if data is not None:
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=headers)
    answer = conn.getresponse()
    return answer.status, dict(answer.getheaders()), answer.read()


def write(port: int, writer: int, lives: dict[str, Life]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    for n in range(TODOS_PER_WRITER):
        name = f"w{writer}-{n}"
        life = lives[name] = Life()
        status, _, body = request(conn, "POST", "/todos", {"title": name})
        assert status == 201
        life.created = time.monotonic()
        todo_id = json.loads(body)["id"]
        status, _, _ = request(conn, "PATCH", f"/todos/{todo_id}", {"title": f"{name}-done"})
        assert status == 200
        life.patched = time.monotonic()
        life.delete_sent = time.monotonic()
        status, _, _ = request(conn, "DELETE", f"/todos/{todo_id}")
        assert status == 204
        life.deleted = time.monotonic()
    conn.close()


def read(port: int, until: threading.Event, reads: list[Read], not_modified: list[int]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    etag, titles = None, set[str]()
    while not until.is_set():
        started = time.monotonic()
        headers = {"If-None-Match": etag} if etag else {}
        status, answer_headers, body = request(conn, "GET", "/todos", **headers)
        if status == 200:
            etag = answer_headers["ETag"]
            titles = {todo["title"] for todo in json.loads(body)}
        else:
            assert status == 304, status
            not_modified.append(1)
        reads.append(Read(started, time.monotonic(), set(titles)))
    conn.close()


def stage_seen(life: Life, name: str, read: Read) -> int:
    """How far along its life the read saw the todo: 0 not yet, 1 created, 2 patched,
    3 deleted (absent after its delete was sent; absent before that is 0)."""
    if name in read.titles:
        return 1
    if f"{name}-done" in read.titles:
        return 2
    return 3 if life.delete_sent < read.ended else 0


def stage_acknowledged(life: Life, read: Read) -> int:
    """The furthest step acknowledged to the writer before the read was sent."""
    steps = (life.created, life.patched, life.deleted)
    return sum(1 for at in steps if at < read.started)


def test_reads_on_either_server_never_miss_an_acknowledged_write(
    database: str, spawn: Callable[..., subprocess.Popen[str]]
) -> None:
    ports = [_port(), _port()]
    for port in ports:
        env = {
            **os.environ,
            "DATABASE_URL": database,
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "PYTHONPATH": str(REPO),
            "GUNICORN_WORKERS": "1",
        }
        command = [sys.executable, "-m", "gunicorn", "--config", "python:todo_app.gunicorn_conf"]
        server = spawn(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_health(port, server)

    lives: dict[str, Life] = {}
    reads: list[Read] = []
    not_modified: list[int] = []
    done = threading.Event()
    failures: list[BaseException] = []

    def guarded(target: Callable[..., None], *args: object) -> Callable[[], None]:
        def run() -> None:
            try:
                target(*args)
            except BaseException as error:  # reported below, not lost in the thread
                failures.append(error)
                done.set()

        return run

    # Writers on the first server; readers on both, so most reads find their list kept
    # by a process that did not make the write.
    readers = [
        threading.Thread(target=guarded(read, ports[n % 2], done, reads, not_modified))
        for n in range(READERS)
    ]
    writers = [threading.Thread(target=guarded(write, ports[0], n, lives)) for n in range(WRITERS)]
    for thread in readers + writers:
        thread.start()
    for thread in writers:
        thread.join(timeout=120)
    done.set()
    for thread in readers:
        thread.join(timeout=30)
    assert not failures, failures

    assert len(lives) == WRITERS * TODOS_PER_WRITER
    assert len(reads) > 50
    assert not_modified, "no conditional GET ever found its list unchanged"
    stale = [
        (name, stage_acknowledged(life, r), stage_seen(life, name, r))
        for r in reads
        for name, life in lives.items()
        if stage_seen(life, name, r) < stage_acknowledged(life, r)
    ]
    assert not stale, f"{len(stale)} reads missed an acknowledged write, e.g. {stale[:3]}"
