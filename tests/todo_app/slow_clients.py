"""Slow clients for a server on loopback: each sends its request a byte at a time, forever.

Half send their head slowly (slowloris); half send a whole head announcing a 1000-byte
body, then the body slowly. A connection the server closes is opened again at once, as an
attacker would. One thread drives them all, so the clients cost the machine almost nothing.
Used by tests/todo_app/test_todo_slow_clients.py and bench/bench_todo_slow_clients.py.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

SLOW_HEAD = b"GET /todos HTTP/1.1\r\nHost: slow.example\r\nX-Slow: " + b"z" * 100_000
SLOW_BODY = (
    b"POST /todos HTTP/1.1\r\nHost: slow.example\r\nContent-Type: application/json\r\n"
    b"Content-Length: 1000\r\n\r\n" + b" " * 1000
)


@dataclass
class _Client:
    request: bytes
    sock: socket.socket | None = None
    sent: int = 0


class SlowClients:
    """`count` slow connections to 127.0.0.1:port while the context is open."""

    def __init__(self, port: int, count: int, pause: float = 0.5) -> None:
        self.port = port
        self.pause = pause
        self.clients = [_Client(SLOW_HEAD if n % 2 else SLOW_BODY) for n in range(count)]
        self.reconnects = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="slow-clients", daemon=True)

    def _connect(self, client: _Client) -> None:
        if client.sock is not None:
            client.sock.close()
            self.reconnects += 1
        client.sock = socket.create_connection(("127.0.0.1", self.port), timeout=2)
        head_end = client.request.find(b"\r\n\r\n")
        # The slow body's head goes at once; the slow head's first line does.
        client.sent = head_end + 4 if head_end >= 0 else client.request.find(b"\r\n") + 2
        client.sock.sendall(client.request[: client.sent])

    def _step(self, client: _Client) -> None:
        try:
            if client.sock is None or client.sent >= len(client.request):
                self._connect(client)
                return
            client.sock.send(client.request[client.sent : client.sent + 1])
            client.sent += 1
        except OSError:
            with contextlib.suppress(OSError):
                self._connect(client)

    def _run(self) -> None:
        while not self._stop.is_set():
            for client in self.clients:
                self._step(client)
            self._stop.wait(self.pause)

    def __enter__(self) -> SlowClients:
        for client in self.clients:
            self._connect(client)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        for client in self.clients:
            if client.sock is not None:
                client.sock.close()


def health_latency(port: int, timeout: float) -> float | None:
    """Seconds /healthz took to answer 200, or None if it did not within timeout."""
    started = time.monotonic()
    try:
        url = f"http://127.0.0.1:{port}/healthz"
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            ok = answer.status == 200
    except (urllib.error.URLError, OSError):
        return None
    return time.monotonic() - started if ok else None
