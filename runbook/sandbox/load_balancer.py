"""Load balancer -> a loopback HTTP listener that health-checks and forwards as an ALB does.

Each HTTP listener of an application load balancer listens at the load balancer's own
loopback address on its port (a free high port if that one is refused), and its default
action forwards to the target group's healthy targets in turn, adding X-Forwarded-For,
-Proto and -Port and X-Amzn-Trace-Id as an ALB does. No registered target: 503; a target
that fails mid-request: 502; only unhealthy targets: all of them (ALB "fails open").
Health checks use the target group's own path, interval, timeout, thresholds and matcher;
the states and reasons are ALB's, and show where describe_target_health answers.
(docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html;
 X-Forwarded-Host is not among the headers an ALB adds: .../application/x-forwarded-headers.html)
"""

from __future__ import annotations

import contextlib
import http.client
import itertools
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from runbook.sandbox.addresses import bind
from runbook.sandbox.timings import INSTANT_HEALTH_INTERVAL

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
}
REASONS = {
    "initial": ("Elb.RegistrationInProgress", "Target registration is in progress"),
    "draining": ("Target.DeregistrationInProgress", "Target deregistration is in progress"),
}


def matches(code: int, matcher: str) -> bool:
    """ALB's matcher: "200", "200,202", "200-299"."""
    for part in matcher.split(","):
        low, _, high = part.strip().partition("-")
        if low and int(low) <= code <= int(high or low):
            return True
    return False


@dataclass
class Target:
    id: str
    port: int
    state: str = "initial"
    reason: str = REASONS["initial"][0]
    description: str = REASONS["initial"][1]
    passes: int = 0
    failures: int = 0
    healthy_since: float = 0.0


@dataclass
class HealthCheck:
    path: str = "/"
    interval: float = 30.0
    timeout: float = 5.0
    healthy_threshold: int = 5
    unhealthy_threshold: int = 2
    matcher: str = "200"
    port: str = "traffic-port"

    @classmethod
    def of(cls, tg: dict[str, Any]) -> HealthCheck:
        return cls(
            tg.get("HealthCheckPath", "/"),
            float(tg.get("HealthCheckIntervalSeconds", 30)),
            float(tg.get("HealthCheckTimeoutSeconds", 5)),
            int(tg.get("HealthyThresholdCount", 5)),
            int(tg.get("UnhealthyThresholdCount", 2)),
            tg.get("Matcher", {}).get("HttpCode", "200"),
            str(tg.get("HealthCheckPort", "traffic-port")),
        )


@dataclass
class TargetGroup:
    """One target group's targets and their health, checked on a thread of its own."""

    arn: str
    check: HealthCheck
    scale: float  # the sandbox's timings: 0 is instant
    report: Callable[[Target], None]  # where describe_target_health learns of a change
    targets: dict[str, Target] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _poke: threading.Event = field(default_factory=threading.Event)
    _rotation: itertools.count[int] = field(default_factory=itertools.count)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name=f"health {self.arn[-12:]}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._poke.set()

    @property
    def interval(self) -> float:
        """The group's interval, scaled; when instant, fast until every target is healthy."""
        if self.scale:
            return max(INSTANT_HEALTH_INTERVAL, self.check.interval * self.scale)
        with self._lock:
            settling = any(t.state in ("initial", "unhealthy") for t in self.targets.values())
        return INSTANT_HEALTH_INTERVAL if settling else self.check.interval

    def register(self, target_id: str, port: int) -> Target:
        with self._lock:
            target = self.targets.get(target_id)
            if target is None or target.state == "draining":
                target = self.targets[target_id] = Target(target_id, port)
                self.report(target)
                self._poke.set()
            return target

    def drain(self, target_id: str) -> None:
        with self._lock:
            target = self.targets.get(target_id)
            if target is not None:
                target.state = "draining"
                target.reason, target.description = REASONS["draining"]
                self.report(target)

    def forget(self, target_id: str) -> None:
        with self._lock:
            self.targets.pop(target_id, None)

    def state_of(self, target_id: str) -> Target | None:
        with self._lock:
            return self.targets.get(target_id)

    def pick(self) -> Target | None:
        """The next target to send a request to, round robin; None: 503."""
        with self._lock:
            live = [t for t in self.targets.values() if t.state != "draining"]
            healthy = [t for t in live if t.state == "healthy"]
            if not healthy and live and all(t.state == "unhealthy" for t in live):
                healthy = live  # fail open: only unhealthy targets left
            if not healthy:
                return None
            return healthy[next(self._rotation) % len(healthy)]

    def _run(self) -> None:
        while not self._stop.is_set():
            self._poke.wait(self.interval)
            self._poke.clear()
            if self._stop.is_set():
                return
            with self._lock:
                due = [t for t in self.targets.values() if t.state != "draining"]
            for target in due:
                if self._stop.is_set():
                    return
                self._judge(target, *self._probe(target))

    def _probe(self, target: Target) -> tuple[bool, str, str]:
        port = target.port if self.check.port == "traffic-port" else int(self.check.port)
        connection = http.client.HTTPConnection(target.id, port, timeout=self.check.timeout)
        try:
            connection.request(
                "GET", self.check.path, headers={"User-Agent": "ELB-HealthChecker/2.0"}
            )
            response = connection.getresponse()
            response.read()
        except TimeoutError:
            return False, "Target.Timeout", "Request timed out"
        except OSError:
            return False, "Target.FailedHealthChecks", "Health checks failed"
        finally:
            connection.close()
        if matches(response.status, self.check.matcher):
            return True, "", ""
        return (
            False,
            "Target.ResponseCodeMismatch",
            f"Health checks failed with these codes: [{response.status}]",
        )

    def _judge(self, target: Target, ok: bool, reason: str, description: str) -> None:
        with self._lock:
            if self.targets.get(target.id) is not target or target.state == "draining":
                return
            before = (target.state, target.reason)
            if ok:
                target.passes, target.failures = target.passes + 1, 0
                # A new target needs one pass; an unhealthy one the healthy threshold.
                need = 1 if before[0] == "initial" else self.check.healthy_threshold
                if before[0] != "healthy" and target.passes >= need:
                    target.state, target.reason, target.description = "healthy", "", ""
                    target.healthy_since = time.monotonic()
            else:
                target.failures, target.passes = target.failures + 1, 0
                if target.failures >= self.check.unhealthy_threshold:
                    target.state, target.reason, target.description = (
                        "unhealthy",
                        reason,
                        description,
                    )
            if (target.state, target.reason) != before:
                self.report(target)


class Listener:
    """One HTTP listener: a threaded server on the load balancer's address."""

    def __init__(self, address: str, port: int, action: Callable[[], dict[str, Any]]) -> None:
        self.requested_port = port
        self._action = action
        sock = bind(address, port)
        self.address, self.port = sock.getsockname()[:2]
        self.server = ThreadingHTTPServer(
            (self.address, self.port), _handler(self), bind_and_activate=False
        )
        self.server.socket.close()
        self.server.socket = sock
        self.server.daemon_threads = True
        self._thread = threading.Thread(
            target=self.server.serve_forever, name="listener", daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://{self.address}" + ("" if self.port == 80 else f":{self.port}")

    def action(self) -> dict[str, Any]:
        return self._action()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _handler(listener: Listener) -> type[BaseHTTPRequestHandler]:
    class Forward(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "awselb/2.0"
        sys_version = ""

        def log_message(self, *_: Any) -> None:  # the task logs requests; we keep quiet
            pass

        def _send(self, status: int, title: str, headers: dict[str, str] | None = None) -> None:
            body = (
                f"<html>\r\n<head><title>{status} {title}</title></head>\r\n<body>\r\n"
                f"<center><h1>{status} {title}</h1></center>\r\n</body>\r\n</html>\r\n"
            ).encode()
            self.send_response(status, title)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _body(self) -> bytes | None:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else None

        def _forward(self) -> None:
            body = self._body()
            action = listener.action()
            if action.get("Type") == "redirect":
                self._redirect(action.get("RedirectConfig", {}))
                return
            if action.get("Type") == "fixed-response":
                config = action.get("FixedResponseConfig", {})
                payload = config.get("MessageBody", "").encode()
                self.send_response(int(config.get("StatusCode", 200)))
                self.send_header("Content-Type", config.get("ContentType", "text/plain"))
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            group: TargetGroup | None = action.get("group")
            target = group.pick() if group else None
            if target is None:
                self._send(503, "Service Temporarily Unavailable")
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            client = self.client_address[0]
            forwarded = self.headers.get("X-Forwarded-For")
            headers["X-Forwarded-For"] = f"{forwarded}, {client}" if forwarded else client
            headers["X-Forwarded-Proto"] = "http"
            headers["X-Forwarded-Port"] = str(listener.requested_port)
            headers["X-Amzn-Trace-Id"] = f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"
            if body is not None:
                headers["Content-Length"] = str(len(body))
            upstream = http.client.HTTPConnection(target.id, target.port, timeout=60)
            try:
                upstream.request(self.command, self.path, body=body, headers=headers)
                response = upstream.getresponse()
                payload = response.read()
            except OSError:
                self._send(502, "Bad Gateway")
                return
            finally:
                upstream.close()
            self.send_response(response.status, response.reason)
            for key, value in response.getheaders():
                if key.lower() not in HOP_BY_HOP and key.lower() != "content-length":
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        def _redirect(self, config: dict[str, Any]) -> None:
            host = self.headers.get("Host", listener.address).split(":")[0]
            path, _, query = self.path.partition("?")
            protocol = config.get("Protocol", "#{protocol}").replace("#{protocol}", "http")
            port = config.get("Port", "#{port}").replace("#{port}", str(listener.requested_port))
            location = (
                f"{protocol.lower()}://{config.get('Host', '#{host}').replace('#{host}', host)}"
                f":{port}{config.get('Path', '/#{path}').replace('/#{path}', path)}"
            )
            query = config.get("Query", "#{query}").replace("#{query}", query)
            status = 301 if config.get("StatusCode", "HTTP_301") == "HTTP_301" else 302
            self._send(status, "Moved", {"Location": location + (f"?{query}" if query else "")})

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _forward

    return Forward


def close_quietly(listener: Listener) -> None:
    with contextlib.suppress(Exception):
        listener.close()


class LoadBalancers:
    """ELB's data plane for one account and region: listeners for active load balancers."""

    name = "load_balancer"

    def __init__(self, world: Any) -> None:
        self.world = world
        self.balancers: dict[str, dict[str, Any]] = {}  # arn -> address, ready_at, dns
        self.listeners: dict[str, Listener] = {}  # listener arn -> its local listener
        self.actions: dict[str, dict[str, Any]] = {}

    def reconcile(self) -> None:
        elbv2 = self.world.client("elbv2")
        now = time.monotonic()
        found = {
            lb["LoadBalancerArn"]: lb
            for lb in elbv2.describe_load_balancers()["LoadBalancers"]
            if lb.get("Type", "application") == "application"
        }
        wanted: set[str] = set()
        for arn, lb in found.items():
            known = self.balancers.get(arn)
            if known is None:
                known = self.balancers[arn] = {
                    "address": self.world.block.take(),
                    "ready_at": now + self.world.timings.seconds("lb_provisioning"),
                    "dns": lb["DNSName"],
                }
            if lb["State"]["Code"] == "provisioning":
                if now < known["ready_at"]:
                    continue
                self.world.set_lb_state(arn, "active")
                self.world.log(f"load balancer {lb['LoadBalancerName']}: active")
            known["active"] = True
            for listener in elbv2.describe_listeners(LoadBalancerArn=arn)["Listeners"]:
                if listener["Protocol"] != "HTTP":
                    continue  # HTTPS would need ACM's certificate: not served locally
                larn = listener["ListenerArn"]
                wanted.add(larn)
                self.actions[larn] = self._action(listener.get("DefaultActions", []))
                if larn not in self.listeners:
                    local = Listener(
                        known["address"], listener["Port"], lambda larn=larn: self.actions[larn]
                    )
                    self.listeners[larn] = local
                    local.dns = known["dns"]  # type: ignore[attr-defined]
                    self.world.log(
                        f"load balancer {lb['LoadBalancerName']}: listener {listener['Port']} "
                        f"at {local.url} (for http://{known['dns']}"
                        + ("" if listener["Port"] == 80 else f":{listener['Port']}")
                        + ")"
                    )
                    self.world.listeners_changed()
        for larn in [x for x in self.listeners if x not in wanted]:
            close_quietly(self.listeners.pop(larn))
            self.actions.pop(larn, None)
            self.world.listeners_changed()
        for arn in [x for x in self.balancers if x not in found]:
            self.world.block.give_back(self.balancers.pop(arn)["address"])
            self.world.log(f"load balancer {arn.rsplit('/', 2)[-2]}: deleted; listener closed")

    def _action(self, actions: list[dict[str, Any]]) -> dict[str, Any]:
        first = dict(sorted(actions, key=lambda a: a.get("Order", 0))[0]) if actions else {}
        if first.get("Type") == "forward":
            arn = first.get("TargetGroupArn") or (
                first.get("ForwardConfig", {}).get("TargetGroups") or [{}]
            )[0].get("TargetGroupArn")
            first["group"] = self.world.target_group(arn) if arn else None
        return first

    def next_due(self) -> float | None:
        """When a load balancer still provisioning becomes active."""
        waiting = [b["ready_at"] for b in self.balancers.values() if not b.get("active")]
        return min(waiting, default=None)

    def urls(self) -> dict[str, str]:
        """DNS name -> the local URL of its first listener (port 80's if there is one)."""
        found: dict[str, str] = {}
        for local in sorted(self.listeners.values(), key=lambda x: x.requested_port != 80):
            found.setdefault(local.dns, local.url)  # type: ignore[attr-defined]
        return found

    def close(self) -> None:
        for local in self.listeners.values():
            close_quietly(local)
        self.listeners.clear()
