"""Target health: each target group's targets checked with the group's own settings, as ALB does.

Health checks use the target group's path, interval, timeout, thresholds and matcher; the
states and reasons are ALB's, and show where describe_target_health answers. Only unhealthy
targets left: all of them get traffic (ALB "fails open").
(docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html)
"""

from __future__ import annotations

import http.client
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from runbook.sandbox.timings import INSTANT_HEALTH_INTERVAL

# The least time, in real seconds, from a target's first failed check to its "unhealthy":
# scaled timings check every 0.2 s, and two failures 0.4 s apart would judge a task by a
# stall AWS never sees (a reconnect after a password rotation, a loaded machine), where on
# AWS the least is 10 s (an interval of at least 5 s, a threshold of at least 2). The task's
# own time is real even when the sandbox's waits are scaled.
UNHEALTHY_AFTER_SECONDS = 3.0

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
    failing_since: float = 0.0  # the first of the failures in a row (time.monotonic)
    due: float = 0.0  # when its next check is due (time.monotonic); 0: at once


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

    def pace(self, target: Target) -> float:
        """Seconds between this target's checks: the group's interval, scaled. When instant,
        a target still settling (initial or unhealthy) is checked every INSTANT_HEALTH_INTERVAL
        and a healthy one at the group's own interval, each on its own clock: a healthy target
        is not checked five times a second because a new one beside it is settling (as on AWS,
        where every target keeps the group's interval), so a short stall of a healthy task,
        while a rollout starts its replacement, is not judged in 0.4 s where AWS takes a minute."""
        if self.scale:
            return max(INSTANT_HEALTH_INTERVAL, self.check.interval * self.scale)
        if target.state in ("initial", "unhealthy"):
            return INSTANT_HEALTH_INTERVAL
        return self.check.interval

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
            self._poke.wait(self._until_next())
            self._poke.clear()
            if self._stop.is_set():
                return
            now = time.monotonic()
            with self._lock:
                due = [t for t in self.targets.values() if t.state != "draining" and t.due <= now]
            for target in due:
                if self._stop.is_set():
                    return
                self._judge(target, *self._probe(target))

    def _until_next(self) -> float:
        """Seconds until the next target's check is due (the group's interval when none is)."""
        with self._lock:
            waiting = [t.due for t in self.targets.values() if t.state != "draining"]
        if not waiting:
            return self.check.interval
        return max(0.0, min(waiting) - time.monotonic())

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
                if not target.failures:
                    target.failing_since = time.monotonic()
                target.failures, target.passes = target.failures + 1, 0
                failing = time.monotonic() - target.failing_since
                if (
                    target.failures >= self.check.unhealthy_threshold
                    and failing >= UNHEALTHY_AFTER_SECONDS
                ):
                    target.state, target.reason, target.description = (
                        "unhealthy",
                        reason,
                        description,
                    )
            target.due = time.monotonic() + self.pace(target)
            if (target.state, target.reason) != before:
                self.report(target)
