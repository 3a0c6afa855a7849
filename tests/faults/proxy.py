"""A fault-injecting HTTP proxy on loopback, in front of the emulator, on a seeded schedule.

boto3 points at it (endpoint URL); it reads each signed request as AWS's front door would
(service, operation), then, as the schedule says, answers in that service's wire format
(throttling, server errors, "not visible yet"), drops the connection before forwarding, or
forwards the request and drops the connection instead of answering (a lost answer: the
emulator has done it, the client cannot know). Everything else goes through untouched.
"""

from __future__ import annotations

import http.client
import random
import re
import socket
import threading
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from tests.faults.wire import (
    ERROR_500,
    ERROR_503,
    THROTTLE,
    Request,
    error_answer,
    fault_codes,
    read_request,
)

DROP = "dropped connection"  # closed before the request reached the emulator
LOST = "lost answer"  # the emulator did it; the answer never came back
NOT_YET = "not visible yet"
KINDS = (THROTTLE, ERROR_500, ERROR_503, DROP, LOST)
# The sandbox's stand-in for a person's `docker push` (ECR PutImage): no call of any plan,
# and outside the sandbox nobody makes it, so the runbook does not send it again after a
# lost answer. Schedules spare it.
NOT_PLANNED = frozenset({"PutImage"})
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "upgrade"}


class Changes:
    """Every operation that changes something: all but Describe*, List* and Get*."""

    def __contains__(self, operation: object) -> bool:
        return isinstance(operation, str) and not operation.startswith(("Describe", "List", "Get"))


@dataclass
class Rule:
    """Inject `kind` into matching requests: which, how many, and how often."""

    kind: str
    service: str | None = None  # botocore's name (ec2, elbv2, ...); None: every service
    operations: Collection[str] | None = None  # AWS's names (CreateSecurityGroup); None: all
    spare: Collection[str] = ()  # operations never hit
    times: int | None = 1  # injections in all; None: no limit
    skip: int = 0  # matching requests let through before the first injection
    each_request: bool = False  # only the first time each distinct request is seen
    chance: float = 1.0  # the share of matching requests hit, drawn from the seeded random
    seen: int = field(default=0, init=False)
    made: int = field(default=0, init=False)
    _hit: set[tuple[str, str, str, bytes]] = field(default_factory=set, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {self.kind!r}")

    def wants(self, req: Request, draw: Callable[[], float]) -> bool:
        if self.service not in (None, req.service):
            return False
        if self.operations is not None and req.operation not in self.operations:
            return False
        if req.operation in self.spare:
            return False
        self.seen += 1
        if self.seen <= self.skip or (self.times is not None and self.made >= self.times):
            return False
        key = (req.account, req.service, req.operation, req.body)
        if self.each_request and key in self._hit:
            return False
        if self.chance < 1.0 and draw() >= self.chance:
            return False
        self._hit.add(key)
        self.made += 1
        return True


@dataclass(frozen=True)
class NotYetVisible:
    """After `made` succeeds, each affected operation's next `times` requests naming the new
    thing do not see it.

    `name` finds the new thing's ID in the create's request or answer ("*": every request
    of the affected operations); `answers` are AWS's "not found" for each affected
    operation, with {id} in the message.
    """

    what: str
    made: tuple[str, str]
    name: Callable[[Request, str], str | None]
    answers: Mapping[tuple[str, str], tuple[str, str]]
    times: int = 2


def _in_answer(pattern: str) -> Callable[[Request, str], str | None]:
    def find(_req: Request, answer: str) -> str | None:
        match = re.search(pattern, answer)
        return match.group(1) if match else None

    return find


def _in_request(pattern: str) -> Callable[[Request, str], str | None]:
    def find(req: Request, _answer: str) -> str | None:
        match = re.search(pattern, req.text)
        return match.group(1) if match else None

    return find


# AWS's own words for these (EC2's eventual consistency guide; ELB, ECS as reported by users).
NEW_SECURITY_GROUP = NotYetVisible(
    "a new security group",
    ("ec2", "CreateSecurityGroup"),
    _in_answer(r"<groupId>(sg-[0-9a-f]+)</groupId>"),
    {
        ("ec2", "AuthorizeSecurityGroupIngress"): (
            "InvalidGroup.NotFound",
            "The security group '{id}' does not exist",
        ),
        ("elbv2", "CreateLoadBalancer"): (
            "InvalidSecurityGroup",
            "The security group '{id}' does not exist",
        ),
    },
)
NEW_ROLE = NotYetVisible(
    "a new role",
    ("iam", "CreateRole"),
    _in_answer(r"<Arn>(arn:aws:iam::\d+:role/[^<]+)</Arn>"),
    {("ecs", "RegisterTaskDefinition"): ("ClientException", "Role is not valid")},
)
NEW_SERVICE_LINKED_ROLE = NotYetVisible(
    "a new service-linked role",
    ("iam", "CreateServiceLinkedRole"),
    lambda _req, _answer: "*",
    {
        ("ecs", op): (
            "InvalidParameterException",
            "Unable to assume the service linked role. Please verify that the ECS service "
            "linked role exists.",
        )
        for op in ("CreateCluster", "CreateService")
    },
)
NEW_LISTENER = NotYetVisible(
    "a target group just put behind a listener",
    ("elbv2", "CreateListener"),
    _in_request(r"TargetGroupArn=([^&]+)"),
    {
        ("ecs", "CreateService"): (
            "InvalidParameterException",
            "The target group with targetGroupArn {id} does not have an associated load balancer.",
        )
    },
)
EVENTUAL_CONSISTENCY = (NEW_SECURITY_GROUP, NEW_ROLE, NEW_SERVICE_LINKED_ROLE, NEW_LISTENER)


class Schedule:
    """Which faults to inject, in order of the rules; seeded, so a run can be repeated."""

    def __init__(
        self, *rules: Rule, not_yet: Collection[NotYetVisible] = (), seed: int = 0
    ) -> None:
        self.rules = list(rules)
        self.not_yet = list(not_yet)
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        # (account, new thing's ID) -> (what, requests left per affected operation)
        self._stale: dict[tuple[str, str], tuple[NotYetVisible, Counter[tuple[str, str]]]] = {}
        self.injected: Counter[str] = Counter()  # by kind
        self.log: list[tuple[str, str, str]] = []  # (service, operation, kind)

    def decide(self, req: Request) -> tuple[str, tuple[str, str, int] | None]:
        """(kind, error answer or None); kind "" lets the request through."""
        with self._lock:
            for (account, name), (rule, left) in self._stale.items():
                where = (req.service, req.operation)
                answer = rule.answers.get(where)
                if account != req.account or answer is None or left[where] <= 0:
                    continue
                if name != "*" and name not in req.text:
                    continue
                left[where] -= 1
                self._note(req, NOT_YET)
                code, message = answer
                return NOT_YET, (code, message.replace("{id}", name), 400)
            for rule in self.rules:
                if rule.wants(req, self._random.random):
                    self._note(req, rule.kind)
                    if rule.kind in (THROTTLE, ERROR_500, ERROR_503):
                        return rule.kind, fault_codes(req.service, rule.kind)
                    return rule.kind, None
        return "", None

    def made(self, req: Request, answer: str) -> None:
        """A request the emulator carried out: does it start a while of not being visible?"""
        with self._lock:
            for rule in self.not_yet:
                if rule.made == (req.service, req.operation):
                    name = rule.name(req, answer)
                    if name:
                        left = Counter({where: rule.times for where in rule.answers})
                        self._stale[(req.account, name)] = (rule, left)

    def _note(self, req: Request, kind: str) -> None:
        self.injected[kind] += 1
        self.log.append((req.service, req.operation, kind))


class FaultProxy:
    """The proxy: `url` is the endpoint to give boto3; `schedule` may be replaced at any time."""

    def __init__(self, upstream: str, schedule: Schedule | None = None) -> None:
        self.upstream = urlsplit(upstream)
        self.schedule = schedule or Schedule()
        self.requests: Counter[str] = Counter()  # "ec2.CreateSecurityGroup": n, as received
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as AWS's endpoints

            def setup(self) -> None:
                super().setup()
                # Headers and body go out in two writes: without this, each answer waits
                # ~40 ms for the client's delayed acknowledgement.
                self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, *_args: object) -> None:
                pass

            def do_GET(self) -> None:
                proxy._serve(self)

            do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_GET

        return Handler

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in handler.headers.items()}
        req = read_request(handler.command, handler.path, headers, body)
        self.requests[f"{req.service}.{req.operation}"] += 1
        kind, error = self.schedule.decide(req)
        if kind == DROP:
            handler.close_connection = True  # no answer at all; nothing reached the emulator
            return
        if error is not None:
            self._answer(handler, *error_answer(req.service, *error))
            return
        status, answer_headers, answer = self._forward(handler, body)
        if status < 300:
            self.schedule.made(req, answer.decode("utf-8", "replace"))
        if kind == LOST:
            handler.close_connection = True  # done upstream; the client never hears of it
            return
        self._answer(handler, status, answer_headers, answer)

    def _forward(
        self, handler: BaseHTTPRequestHandler, body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        upstream = http.client.HTTPConnection(
            self.upstream.hostname, self.upstream.port, timeout=120
        )
        try:
            sent = {k: v for k, v in handler.headers.items() if k.lower() not in HOP_BY_HOP}
            upstream.request(handler.command, handler.path, body=body or None, headers=sent)
            response = upstream.getresponse()
            data = response.read()
            kept = {
                k: v
                for k, v in response.getheaders()
                if k.lower() not in HOP_BY_HOP and k.lower() != "content-length"
            }
            return response.status, kept, data
        finally:
            upstream.close()

    @staticmethod
    def _answer(
        handler: BaseHTTPRequestHandler, status: int, headers: Mapping[str, str], body: bytes
    ) -> None:
        handler.send_response(status)
        for key, value in headers.items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(body)
