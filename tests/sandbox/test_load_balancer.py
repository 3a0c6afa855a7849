"""The local listener and health checks behave as an ALB does, against real HTTP servers."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from runbook.sandbox.load_balancer import HealthCheck, Listener, Target, TargetGroup, matches


class App:
    """A stand-in target: answers /healthz with `status`, echoes headers elsewhere."""

    def __init__(self) -> None:
        self.status = 200
        self.checks = 0  # /healthz requests answered
        app = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                pass

            def do_GET(self) -> None:
                body = json.dumps(dict(self.headers)).encode()
                app.checks += self.path == "/healthz"
                self.send_response(app.status if self.path == "/healthz" else 200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def app() -> Iterator[App]:
    server = App()
    yield server
    server.close()


@pytest.fixture
def group() -> Iterator[tuple[TargetGroup, list[tuple[str, str]]]]:
    reports: list[tuple[str, str]] = []
    check = HealthCheck("/healthz", 15, 2, 2, 2, "200-299")
    # Timings aws:0.01: checks every 0.2 s whatever the state (instant slows down once healthy).
    tg = TargetGroup("arn:tg", check, 0.01, lambda t: reports.append((t.state, t.reason)))
    tg.start()
    yield tg, reports
    tg.stop()


def until(condition: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_matcher_forms() -> None:
    assert matches(200, "200") and matches(204, "200-299") and matches(202, "200,202")
    assert not matches(503, "200-299")


def test_a_target_goes_initial_healthy_unhealthy_with_alb_reasons(app: App, group) -> None:
    tg, reports = group
    target = tg.register("127.0.0.1", app.port)
    assert (target.state, target.reason) == ("initial", "Elb.RegistrationInProgress")
    until(lambda: target.state == "healthy")  # one pass after registration
    app.status = 503
    until(lambda: target.state == "unhealthy")  # two failures in a row
    assert target.reason == "Target.ResponseCodeMismatch"
    assert target.description == "Health checks failed with these codes: [503]"
    assert reports[:3] == [
        ("initial", "Elb.RegistrationInProgress"),
        ("healthy", ""),
        ("unhealthy", "Target.ResponseCodeMismatch"),
    ]
    tg.drain("127.0.0.1")
    assert reports[-1] == ("draining", "Target.DeregistrationInProgress")


def test_a_target_that_does_not_answer_fails_its_checks(group) -> None:
    tg, _ = group
    target = tg.register("127.0.0.1", 9)  # nothing listens there
    until(lambda: target.state == "unhealthy")
    assert target.reason == "Target.FailedHealthChecks"


def test_a_healthy_target_keeps_its_own_pace_beside_a_settling_one(app: App) -> None:
    """Instant timings check a settling target five times a second; a healthy one beside it
    keeps the group's interval (as each target does on AWS), so a short stall of a serving
    task while its replacement settles is not judged unhealthy in 0.4 s."""
    tg = TargetGroup("arn:tg", HealthCheck("/healthz", 15, 2, 2, 2, "200-299"), 0.0, lambda _: None)
    tg.start()
    try:
        serving = tg.register("127.0.0.1", app.port)
        until(lambda: serving.state == "healthy")
        checked = app.checks
        settling = tg.register("127.0.0.2", 9)  # nothing listens there: it never settles
        until(lambda: settling.state == "unhealthy")  # checked five times a second meanwhile
        assert settling.failures >= 10
        assert app.checks == checked and serving.state == "healthy"
    finally:
        tg.stop()


def test_a_stall_shorter_than_the_least_aws_could_judge_leaves_a_target_healthy(
    app: App, group
) -> None:
    """Checks every 0.2 s (scaled timings) see a second's stall five times; AWS, checking every
    5 s at the least, would not judge a target unhealthy by it, nor does the sandbox."""
    tg, reports = group
    target = tg.register("127.0.0.1", app.port)
    until(lambda: target.state == "healthy")
    app.status = 503
    until(lambda: target.failures >= 3)
    time.sleep(1.0)
    app.status = 200
    until(lambda: target.passes >= 2)
    assert target.state == "healthy" and ("unhealthy", "Target.ResponseCodeMismatch") not in reports


def get(url: str, path: str = "/todos", headers: dict[str, str] | None = None) -> tuple[int, Any]:
    host, _, port = url.removeprefix("http://").partition(":")
    connection = http.client.HTTPConnection(host, int(port or 80), timeout=10)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_the_listener_forwards_to_healthy_targets_with_alb_headers(app: App, group) -> None:
    tg, _ = group
    listener = Listener("127.0.0.1", 0, lambda: {"Type": "forward", "group": tg})
    try:
        assert get(listener.url)[0] == 503  # nothing registered
        target = tg.register("127.0.0.1", app.port)
        until(lambda: target.state == "healthy")
        status, body = get(listener.url, headers={"X-Forwarded-For": "203.0.113.9"})
        seen = json.loads(body)
        assert status == 200
        assert seen["X-Forwarded-For"] == "203.0.113.9, 127.0.0.1"
        assert seen["X-Forwarded-Proto"] == "http"
        assert seen["X-Forwarded-Port"] == str(listener.requested_port)
        assert seen["X-Amzn-Trace-Id"].startswith("Root=1-")
        assert seen["Host"].startswith("127.0.0.1")  # the client's Host, unchanged
    finally:
        listener.close()


def test_only_unhealthy_targets_fail_open_and_a_dead_one_is_a_502(group) -> None:
    tg, _ = group
    tg.targets["127.0.0.1"] = Target("127.0.0.1", 9, "unhealthy", "Target.FailedHealthChecks")
    listener = Listener("127.0.0.1", 0, lambda: {"Type": "forward", "group": tg})
    try:
        assert get(listener.url)[0] == 502  # sent anyway (fail open), and it fails
    finally:
        listener.close()


def test_a_refused_port_falls_back_to_a_free_one(app: App) -> None:
    taken = Listener("127.0.0.1", 0, lambda: {})
    try:
        second = Listener("127.0.0.1", taken.port, lambda: {})
        assert second.port != taken.port and second.requested_port == taken.port
        assert second.url == f"http://127.0.0.1:{second.port}"
        second.close()
    finally:
        taken.close()
