"""Gunicorn's threaded worker, but a thread gets a request only once all of it has arrived.

gunicorn's gthread worker hands a connection to a thread as soon as its first byte is
there, and the thread then blocks reading the rest: ten clients that send their headers or
bodies a byte at a time hold every thread of a 0.25 vCPU task, and the ALB's health checks
to /healthz wait behind them until the task is killed as unhealthy. Here the worker's
event loop (gthread's own, which already holds idle keep-alive connections) reads each
request without blocking, until todo_app.framing says it is whole, and only then submits it
to the thread pool, with the bytes put back in front of gunicorn's parser. A slow client
then costs a socket and a buffer of at most 128 KiB, never a thread; a request that has
not arrived REQUEST_SECONDS after its first byte is answered 408 and closed. The threads
stay for what needs them: psycopg2's blocking calls to PostgreSQL.

Only plain HTTP is read this way (the ALB speaks HTTP to its targets); with TLS configured
in gunicorn the worker behaves as gthread does.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import socket
import time
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from gunicorn.workers.gthread import STOP_KEEPALIVE_LINGER, ThreadWorker

from todo_app.framing import RequestScan, Verdict

# The whole of a request (head and body) must arrive within this many seconds of its first
# byte. An ALB forwards a request's head at once and its body as fast as the client sends
# it; a 64 KiB body at 4 KB/s still arrives in time.
REQUEST_SECONDS = float(os.environ.get("GUNICORN_REQUEST_SECONDS", "20"))
# The largest body the app takes (todo_app.MAX_BODY_BYTES, not imported: the arbiter loads
# this class before any app). A larger one is handed on at once; the app refuses it (413).
BODY_MAX_BYTES = 64 * 1024
_READ_BYTES = 64 * 1024


def _answer(status: str, message: str) -> bytes:
    body = f'{{"error": "{message}", "status": {status.split()[0]}}}'.encode()
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n"
        "X-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\n\r\n"
    ).encode() + body


_TIMEOUT = _answer("408 Request Timeout", "the request did not arrive in time")
_HEAD_TOO_LARGE = _answer(
    "431 Request Header Fields Too Large", "the request's header fields are too large"
)
_BODY_TOO_LARGE = _answer("413 Request Entity Too Large", "the body is larger than 64 KiB")
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


@dataclass
class _Reading:
    """A request on its way in: the bytes so far, and until when it may keep coming."""

    data: bytearray = field(default_factory=bytearray)
    scan: RequestScan = field(default_factory=lambda: RequestScan(BODY_MAX_BYTES))
    deadline: float = 0.0
    continued: bool = False  # "100 Continue" sent
    registered: bool = False  # with the event loop's poller
    closing: bool = False  # answered (a refusal); dropping the rest until the client goes


class RequestBufferingWorker(ThreadWorker):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._reading: dict[Any, _Reading] = {}

    def enqueue_req(self, conn: Any) -> None:
        """Read the connection's next request in the event loop; a thread gets it whole."""
        if self.cfg.is_ssl:
            super().enqueue_req(conn)
            return
        reading = _Reading()
        if conn.parser is not None:
            # Bytes gunicorn already read past the last request (a pipelined request, or
            # part of one) come first.
            held = conn.parser.unreader.buf.getvalue()
            conn.parser.unreader.buf.seek(0)
            conn.parser.unreader.buf.truncate()
            reading.data += held
        # Until its first byte, a connection is idle: it may stay as long as a kept-alive
        # one (longer than the ALB's idle timeout, which must be the one to close it).
        reading.deadline = time.monotonic() + (
            REQUEST_SECONDS if reading.data else self.cfg.keepalive
        )
        conn.sock.setblocking(False)
        self._reading[conn] = reading
        if reading.data:
            self._judge(conn, reading)
        if conn in self._reading:
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_readable, conn))
            reading.registered = True

    def _on_readable(self, conn: Any, _sock: Any) -> None:
        reading = self._reading[conn]
        try:
            chunk = conn.sock.recv(_READ_BYTES)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:  # the client went away (or reset the connection)
            self._forget(conn)
            self._close(conn)
            return
        if reading.closing:
            return  # answered already: what still comes is dropped
        if not reading.data:
            reading.deadline = time.monotonic() + REQUEST_SECONDS
        reading.data += chunk
        self._judge(conn, reading)

    def _judge(self, conn: Any, reading: _Reading) -> None:
        """Act on the request read so far: wait for more, refuse it, or hand it on."""
        found = reading.scan.verdict(reading.data)
        if found is Verdict.HEAD_TOO_LARGE:
            self._refuse(conn, reading, _HEAD_TOO_LARGE)
        elif found is Verdict.BODY_TOO_LARGE:
            self._refuse(conn, reading, _BODY_TOO_LARGE)
        elif found is Verdict.INCOMPLETE:
            if not reading.continued and reading.scan.expects_continue:
                # The client holds its body back until told to go on (RFC 9110, 10.1.1);
                # gunicorn may say it again later, and a client takes any number of 1xx.
                reading.continued = True
                self._send(conn, _CONTINUE)
        else:
            self._forget(conn)
            self._dispatch(conn, bytes(reading.data))

    def _dispatch(self, conn: Any, data: bytes) -> None:
        conn.init()  # gunicorn's parser for this connection (plain HTTP: no I/O)
        conn.parser.unreader.unread(data)
        conn.data_ready = True
        super().enqueue_req(conn)

    def _forget(self, conn: Any) -> None:
        reading = self._reading.pop(conn, None)
        if reading is not None and reading.registered:
            with contextlib.suppress(KeyError, ValueError, OSError):
                self.poller.unregister(conn.sock)

    def _close(self, conn: Any) -> None:
        self.nr_conns -= 1
        conn.close()

    def _send(self, conn: Any, data: bytes) -> None:
        with contextlib.suppress(OSError):
            conn.sock.send(data)  # small enough for an empty send buffer; best effort

    def _refuse(self, conn: Any, reading: _Reading, answer: bytes) -> None:
        """Answer, send nothing more, and drop what the client still sends for a moment
        before closing: closing with bytes unread resets the connection, and the client
        may then never read the answer."""
        self._send(conn, answer)
        with contextlib.suppress(OSError):
            conn.sock.shutdown(socket.SHUT_WR)
        reading.closing = True
        reading.data = bytearray()
        reading.deadline = time.monotonic() + STOP_KEEPALIVE_LINGER

    def murder_pending(self) -> None:
        super().murder_pending()
        now = time.monotonic()
        for conn, reading in list(self._reading.items()):
            idle = not reading.data and not reading.closing
            if not self.alive and idle:
                # Stopping: an idle connection gets a short grace, as gthread gives its
                # kept-alive ones, not its whole idle time.
                reading.deadline = min(reading.deadline, now + STOP_KEEPALIVE_LINGER)
            if reading.deadline > now:
                continue
            if reading.closing or idle:
                self._forget(conn)
                self._close(conn)
            else:
                self._refuse(conn, reading, _TIMEOUT)

    def murder_keepalived(self, force: bool = False) -> None:
        super().murder_keepalived(force)
        if force:
            for conn in list(self._reading):
                self._forget(conn)
                self._close(conn)
