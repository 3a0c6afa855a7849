"""The listener holds to ALB's rules at the edge, against a real target (gunicorn) and raw sockets.

Severe requests get ALB's 400 and never reach the target; ambiguous framing is sent on once and
both connections close after it, so bytes after its body never reach the app; invalid header
fields are dropped when the attribute is on; X-Forwarded-* are the balancer's; bodies stream
both ways in bounded memory; slow clients hold no thread and cannot keep others out.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import itertools
import json
import logging
import os
import socket
import subprocess
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from runbook.sandbox.load_balancer import HealthCheck, Listener, Settings, TargetGroup, balancers
from runbook.sandbox.load_balancer import listener as listener_module
from tests.sandbox.lb_target import LIMIT, serve_command

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def until(condition: Callable[[], bool], seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


class Client:
    """Raw bytes to the listener, and the answers parsed just enough to check them."""

    def __init__(self, listener: Listener) -> None:
        self.sock = socket.create_connection((listener.address, listener.port), timeout=10)
        self.buffer = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self) -> bool:
        data = self.sock.recv(65536)
        self.buffer += data
        return bool(data)

    def answer(self) -> tuple[int, list[tuple[str, str]], bytes]:
        """The next whole answer (Content-Length or chunked bodies)."""
        while b"\r\n\r\n" not in self.buffer:
            assert self._fill(), f"closed before an answer: {self.buffer!r}"
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = [tuple(x.strip() for x in line.split(":", 1)) for line in lines[1:]]
        fields = {k.lower(): v for k, v in headers}
        if status == 100:
            return self.answer()
        if "content-length" in fields:
            n = int(fields["content-length"])
            while len(self.buffer) < n:
                assert self._fill()
            body, self.buffer = self.buffer[:n], self.buffer[n:]
        elif fields.get("transfer-encoding") == "chunked":
            body = b""
            while True:
                while b"\r\n" not in self.buffer:
                    assert self._fill()
                size_line, self.buffer = self.buffer.split(b"\r\n", 1)
                size = int(size_line, 16)
                while len(self.buffer) < size + 2:
                    assert self._fill()
                body, self.buffer = body + self.buffer[:size], self.buffer[size + 2 :]
                if size == 0:
                    break
        else:
            while self._fill():
                pass
            body, self.buffer = self.buffer, b""
        return status, headers, body  # type: ignore[return-value]

    def closed(self) -> bool:
        """True when the listener has closed this connection (nothing more to read); asked
        only where it should have (an open one would keep this waiting for its idle timeout)."""
        try:
            return not self.buffer and not self._fill()
        except ConnectionResetError:
            return True

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(scope="module")
def target() -> Iterator[int]:
    """gunicorn with the recording app, one worker and threads (as the Todo API runs)."""
    port = free_port()
    process = subprocess.Popen(
        serve_command(port),
        cwd=ROOT,
    )
    try:

        def answers() -> bool:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return True
            except OSError:
                return False

        until(answers, 30)
        yield port
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
def lines() -> list[str]:
    return []


@pytest.fixture
def listener(target: int, lines: list[str]) -> Iterator[Listener]:
    check = HealthCheck("/healthz", 15, 5, 2, 2, "200")
    group = TargetGroup("arn:tg", check, 0.01, lambda _: None)
    group.start()
    settings = Settings(drop_invalid=True, header_timeout=2.0, idle_timeout=5.0)
    local = Listener(
        "127.0.0.1", 0, lambda: {"Type": "forward", "group": group}, settings, lines.append
    )
    registered = group.register("127.0.0.1", target)
    until(lambda: registered.state == "healthy")
    yield local
    local.close()
    group.stop()


def exchange(
    listener: Listener, raw: bytes, *, closes: bool = False
) -> tuple[int, dict[str, str], bytes, bool]:
    """Send raw bytes; the first answer, and (if `closes`) whether the listener then closed
    the connection."""
    client = Client(listener)
    try:
        client.send(raw)
        status, headers, body = client.answer()
        return status, {k.lower(): v for k, v in headers}, body, closes and client.closed()
    finally:
        client.close()


def seen(listener: Listener) -> list[str]:
    """The requests the target has seen, but health checks and these questions."""
    lines = json.loads(exchange(listener, b"GET /seen HTTP/1.1\r\nHost: t\r\n\r\n")[2])
    return [line for line in lines if line not in ("GET /healthz", "GET /seen")]


def echo(listener: Listener, headers: bytes) -> dict[str, str]:
    status, _, body, _ = exchange(
        listener, b"GET /echo HTTP/1.1\r\nHost: t\r\n" + headers + b"\r\n"
    )
    assert status == 200, body
    return json.loads(body)["headers"]


SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n"


@pytest.mark.parametrize(
    "head, body",
    [
        # TE.CL: the target would read the chunked body; a CL reader would see GET /smuggled
        (b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n", b"0\r\n\r\n" + SMUGGLED),
        (b"Transfer-Encoding: chunked\r\nContent-Length: 40\r\n", b"0\r\n\r\n" + SMUGGLED),
        # Repeated Content-Length with the same value, and obsolete line folding
        (b"Content-Length: 2\r\nContent-Length: 2\r\n", b"hi" + SMUGGLED),
        (b"Content-Length: 2\r\nX-Folded: a\r\n b\r\n", b"hi" + SMUGGLED),
        (b"Content-Length: 2\r\nTransfer_Encoding: chunked\r\n", b"hi" + SMUGGLED),
    ],
)
def test_ambiguous_framing_is_sent_once_and_nothing_after_it_reaches_the_app(
    listener: Listener, head: bytes, body: bytes
) -> None:
    before = seen(listener)
    status, headers, answer, closed = exchange(
        listener, b"POST /echo HTTP/1.1\r\nHost: t\r\n" + head + b"\r\n" + body, closes=True
    )
    assert status == 200 and closed  # answered once, then both connections closed
    assert headers["connection"] == "close"
    got = json.loads(answer)["headers"]
    assert not ("Content-Length" in got and "Transfer-Encoding" in got)  # one framing only
    assert seen(listener)[len(before) :] == ["POST /echo"]  # and never GET /smuggled


@pytest.mark.parametrize(
    "raw, status",
    [
        (b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: abc\r\n\r\n", 400),
        (b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n", 400),
        (b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhi\r\n", 400),
        (b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 400),
        (b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
        ("GET /caf\u00e9 HTTP/1.1\r\nHost: t\r\n\r\n".encode(), 400),
        (b"GET /echo HTTP/1.1\r\nHost: t\r\nX-A: a\x00b\r\n\r\n", 400),
        (b"GET /echo HTTP/1.1\r\nHost: t\r\nX-A: " + b"a" * 17000 + b"\r\n\r\n", 400),
        (b"GET /echo HTTP/1.1\r\nHost: t\r\n" + b"X-A: aaaaaaaaaa\r\n" * 5000 + b"\r\n", 400),
        (b"GET /echo HTTP/9.9\r\nHost: t\r\n\r\n", 400),
        (b"GET /echo HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        (b"G(T /echo HTTP/1.1\r\nHost: t\r\n\r\n", 400),
    ],
)
def test_severe_and_malformed_requests_get_albs_page_and_one_log_line(
    listener: Listener, lines: list[str], raw: bytes, status: int
) -> None:
    before = seen(listener)
    lines.clear()
    got, headers, body, closed = exchange(listener, raw, closes=True)
    assert got == status and closed
    assert headers["server"] == "awselb/2.0" and f"<h1>{status} ".encode() in body
    assert len(lines) == 1 and f": {status} to 127.0.0.1: " in lines[0]
    assert "Traceback" not in lines[0]
    assert seen(listener) == before  # the target never saw it


def test_invalid_header_fields_are_dropped_when_the_attribute_is_on(listener: Listener) -> None:
    got = echo(listener, b"X(bad): 1\r\nX_Under_Score: 2\r\nX-Good: 3\r\n")
    assert got.get("X-Good") == "3"
    assert not [k for k in got if "Bad" in k or "Under" in k]
    listener.settings.drop_invalid = False
    status, _, _, _ = exchange(listener, b"GET /echo HTTP/1.1\r\nHost: t\r\nX(bad): 1\r\n\r\n")
    assert status == 400  # not a token: no strict parser (nor gunicorn) takes it


def test_x_forwarded_headers_are_the_balancers_whatever_the_client_sent(
    listener: Listener,
) -> None:
    got = echo(
        listener,
        b"x-forwarded-proto: https\r\nX-FORWARDED-PORT: 1\r\nX-Forwarded-For: 203.0.113.9\r\n"
        b"x-forwarded-for: 198.51.100.7\r\n",
    )
    assert got["X-Forwarded-Proto"] == "http"  # one value: the client's is gone
    assert got["X-Forwarded-Port"] == str(listener.requested_port)
    assert got["X-Forwarded-For"] == "203.0.113.9, 198.51.100.7, 127.0.0.1"
    assert got["X-Amzn-Trace-Id"].startswith("Root=1-")
    assert "X-Forwarded-Host" not in got


def test_the_targets_own_server_and_date_pass_through_once(listener: Listener) -> None:
    client = Client(listener)
    try:
        client.send(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        _, headers, _ = client.answer()
    finally:
        client.close()
    names = [k.lower() for k, _ in headers]
    assert names.count("server") == 1 and names.count("date") == 1
    assert dict((k.lower(), v) for k, v in headers)["server"].startswith("gunicorn")


def test_keep_alive_and_pipelined_requests_are_answered_in_order(listener: Listener) -> None:
    client = Client(listener)
    try:
        client.send(
            b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n" * 2
            + b"GET /nope HTTP/1.1\r\nHost: t\r\n\r\n"
        )
        assert [client.answer()[0] for _ in range(3)] == [200, 200, 404]
        client.send(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        assert client.answer()[0] == 200  # still open
    finally:
        client.close()


def test_bodies_stream_both_ways_in_bounded_memory(listener: Listener) -> None:
    size = 8 * 1024 * 1024  # under the target's limit; memory is watched, not time
    piece = bytes(range(256)) * 256
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        client = Client(listener)
        try:
            client.send(
                f"POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: {size}\r\n\r\n".encode()
            )
            for _ in range(size // len(piece)):
                client.send(piece)
            status, _, body = client.answer()
            client.send(f"GET /big?n={size} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
            received = 0
            # Read the download as it comes, without keeping it.
            while b"\r\n\r\n" not in client.buffer:
                client._fill()
            head, rest = client.buffer.split(b"\r\n\r\n", 1)
            received, client.buffer = len(rest), b""
            while received < size:
                received += len(client.sock.recv(1 << 20))
        finally:
            client.close()
        peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()
    assert status == 200 and received == size and b" 200 " in head
    expected = hashlib.sha256(piece * (size // len(piece))).hexdigest()
    assert json.loads(body) == {"bytes": size, "sha256": expected}
    assert peak < 3 * 1024 * 1024, f"the listener held {peak} bytes at once"


def test_the_targets_413_comes_back_as_the_targets_413(
    listener: Listener, lines: list[str]
) -> None:
    client = Client(listener)
    try:
        size = 4 * LIMIT
        client.send(f"POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: {size}\r\n\r\n".encode())
        with contextlib.suppress(OSError):
            for _ in range(64):  # some of the body; the target answers without reading it
                client.send(b"x" * 65536)
        status, headers, _ = client.answer()
    finally:
        client.close()
    assert status == 413, lines
    assert dict((k.lower(), v) for k, v in headers)["server"].startswith("gunicorn")


def test_expect_100_continue_gets_a_continue_then_the_answer(listener: Listener) -> None:
    client = Client(listener)
    try:
        client.send(
            b"POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"
        )
        while b"\r\n\r\n" not in client.buffer:
            client._fill()
        assert client.buffer.startswith(b"HTTP/1.1 100 ")
        client.send(b"hello")
        status, _, body = client.answer()
    finally:
        client.close()
    assert status == 200 and json.loads(body)["bytes"] == 5


def test_a_head_that_never_finishes_gets_a_408(listener: Listener, lines: list[str]) -> None:
    listener.settings.header_timeout = 0.3
    status, headers, _, closed = exchange(
        listener, b"GET /healthz HTTP/1.1\r\nHost: t\r\n", closes=True
    )
    assert status == 408 and closed and headers["server"] == "awselb/2.0"


def test_a_target_slower_than_the_idle_timeout_is_a_504(listener: Listener) -> None:
    listener.settings.idle_timeout = 0.3
    status, _, body, _ = exchange(listener, b"GET /slow?s=1 HTTP/1.1\r\nHost: t\r\n\r\n")
    assert status == 504 and b"504 Gateway Time-out" in body


def test_slow_clients_hold_no_thread_and_do_not_keep_others_out(listener: Listener) -> None:
    listener.settings.header_timeout = 30.0
    threads = threading.active_count()
    slow = [Client(listener) for _ in range(100)]
    try:
        for client in slow:
            client.send(b"POST /upload HTTP/1.1\r\nHost: t\r\n")  # and never the rest
        until(lambda: listener.connections >= 100)
        assert threading.active_count() == threads  # one loop serves them all
        status, _, _, _ = exchange(listener, b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        assert status == 200
    finally:
        for client in slow:
            client.close()


def test_connections_beyond_the_bound_get_a_503(listener: Listener) -> None:
    listener.settings.max_connections = 3
    held = [Client(listener) for _ in range(3)]
    try:
        until(lambda: listener.connections == 3)
        status, _, _, closed = exchange(
            listener, b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n", closes=True
        )
        assert status == 503 and closed
    finally:
        for client in held:
            client.close()
    until(lambda: listener.connections == 0)
    assert exchange(listener, b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")[0] == 200


def test_a_redirect_action_answers_with_albs_location(lines: list[str]) -> None:
    action = {
        "Type": "redirect",
        "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"},
    }
    local = Listener("127.0.0.1", 0, lambda: action, Settings(), lines.append)
    try:
        status, headers, _, _ = exchange(
            local, b"GET /todos?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n"
        )
    finally:
        local.close()
    assert status == 301
    assert headers["location"] == "https://example.com:443/todos?x=1"


# -- in the sandbox: the listener as the data plane opens it from the emulator --------------


def only_world(emulator: Any) -> Any:
    (world,) = emulator.data_plane._snapshot()
    return world


def test_the_listener_takes_its_settings_from_the_load_balancers_attributes(
    data_plane_emulator: Any, full_aws: Any, full_runbook: Any, target: int
) -> None:
    runbook = full_runbook()
    for number in ("I", "II"):
        runbook.apply(runbook.step(number))
    elbv2 = full_aws.client("elbv2")
    lb = elbv2.describe_load_balancers(Names=["flask-todo-elb"])["LoadBalancers"][0]
    url = until_url(data_plane_emulator, lb["DNSName"])
    world = only_world(data_plane_emulator)
    (local,) = world.load_balancers.listeners.values()
    assert local.url == url
    tg = elbv2.describe_target_groups(Names=["flask-todo-elb-target-group"])["TargetGroups"][0]
    registered = world.target_group(tg["TargetGroupArn"]).register("127.0.0.1", target)
    until(lambda: registered.state == "healthy")
    # The runbook turns routing.http.drop_invalid_header_fields.enabled on: dropped.
    assert "X-Under-Score" not in echo(local, b"X_Under_Score: 1\r\n")
    raw = b"GET /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n"  # acceptable, not compliant
    assert exchange(local, raw)[0] == 200
    elbv2.modify_load_balancer_attributes(
        LoadBalancerArn=lb["LoadBalancerArn"],
        Attributes=[{"Key": "routing.http.desync_mitigation_mode", "Value": "strictest"}],
    )
    until(lambda: local.settings.desync_mode == "strictest")
    assert exchange(local, raw)[0] == 400


def until_url(emulator: Any, dns: str) -> str:
    found: list[str] = []

    def listening() -> bool:
        found[:] = [emulator.data_plane.local_urls().get(dns, "")]
        return bool(found[0])

    until(listening, 30)
    return found[0]


def test_a_listener_that_cannot_listen_is_reported_once_and_retried_with_backoff(
    data_plane_emulator: Any, full_aws: Any, full_runbook: Any, monkeypatch: Any, caplog: Any
) -> None:
    refused = threading.Event()
    refused.set()
    calls: list[float] = []
    real_bind = listener_module.bind

    def bind(address: str, port: int) -> socket.socket:
        calls.append(time.monotonic())
        if refused.is_set():
            raise OSError(errno.EADDRNOTAVAIL, os.strerror(errno.EADDRNOTAVAIL))
        return real_bind(address, port)

    monkeypatch.setattr(listener_module, "bind", bind)
    monkeypatch.setattr(balancers, "RETRY_FIRST", 0.05)
    monkeypatch.setattr(balancers, "RETRY_CAP", 0.2)
    caplog.set_level(logging.INFO, logger="runbook.sandbox")
    runbook = full_runbook()
    for number in ("I", "II"):
        runbook.apply(runbook.step(number))
    elbv2 = full_aws.client("elbv2")

    def state() -> dict[str, str]:
        return elbv2.describe_load_balancers(Names=["flask-todo-elb"])["LoadBalancers"][0]["State"]

    until(lambda: len(calls) >= 4)  # tried again, and again
    assert state()["Code"] == "active_impaired"
    assert state()["Reason"].startswith("listener 80 cannot listen at 127.")
    assert state()["Reason"].endswith("Cannot assign requested address")
    said = [r.getMessage() for r in caplog.records if "cannot listen" in r.getMessage()]
    assert len(said) == 1  # once, not on every try
    gaps = [b - a for a, b in itertools.pairwise(calls)]
    assert all(gap >= 0.05 * 0.9 for gap in gaps)  # never sooner than the backoff
    world = only_world(data_plane_emulator)
    assert not world.load_balancers.listeners  # nothing held meanwhile
    refused.clear()
    lb = elbv2.describe_load_balancers(Names=["flask-todo-elb"])["LoadBalancers"][0]
    assert until_url(data_plane_emulator, lb["DNSName"]).startswith("http://127.")
    assert state() == {"Code": "active"}
