"""ELB's data plane for one account and region: a local listener per HTTP listener.

Each HTTP listener of an active application load balancer listens at the load balancer's own
loopback address on its port (a free high port if that one is refused), with the settings
its load balancer's attributes give (idle timeout, invalid header fields, desync mode), read
again on every pass. A listener that cannot listen at all is reported once with its reason
(in the log, and as the load balancer's state, `active_impaired`, with that reason, where
describe_load_balancers answers), holds nothing, and is tried again with backoff.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import Any

from runbook.sandbox.load_balancer.forwarding import Settings
from runbook.sandbox.load_balancer.listener import Listener

RETRY_FIRST = 1.0  # never more often than once a second
RETRY_CAP = 60.0


@dataclass
class Failure:
    reason: str
    attempts: int
    retry_at: float


def close_quietly(listener: Listener) -> None:
    with contextlib.suppress(Exception):
        listener.close()


class LoadBalancers:
    """Listeners for the active load balancers of one account and region."""

    name = "load_balancer"

    def __init__(self, world: Any) -> None:
        self.world = world
        self.balancers: dict[str, dict[str, Any]] = {}  # arn -> address, ready_at, dns
        self.listeners: dict[str, Listener] = {}  # listener arn -> its local listener
        self.actions: dict[str, dict[str, Any]] = {}
        self.settings: dict[str, Settings] = {}  # load balancer arn -> its listeners' settings
        self.failures: dict[str, Failure] = {}  # listener arn -> why it does not listen

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
            self._read_settings(arn)
            for listener in elbv2.describe_listeners(LoadBalancerArn=arn)["Listeners"]:
                if listener["Protocol"] != "HTTP":
                    continue  # HTTPS would need ACM's certificate: not served locally
                larn = listener["ListenerArn"]
                wanted.add(larn)
                self.actions[larn] = self._action(listener.get("DefaultActions", []))
                if larn not in self.listeners:
                    self._open(lb, known, larn, listener["Port"], now)
        for larn in [x for x in self.listeners if x not in wanted]:
            close_quietly(self.listeners.pop(larn))
            self.actions.pop(larn, None)
            self.world.listeners_changed()
        for larn in [x for x in self.failures if x not in wanted]:
            self.failures.pop(larn)
        for arn in [x for x in self.balancers if x not in found]:
            self.world.block.give_back(self.balancers.pop(arn)["address"])
            self.settings.pop(arn, None)
            self.world.log(f"load balancer {arn.rsplit('/', 2)[-2]}: deleted; listener closed")

    def _read_settings(self, arn: str) -> None:
        """The load balancer's attributes, into the settings its listeners already hold."""
        answer = self.world.client("elbv2").describe_load_balancer_attributes(LoadBalancerArn=arn)
        fresh = Settings.of({a["Key"]: a["Value"] for a in answer["Attributes"]})
        held = self.settings.setdefault(arn, fresh)
        for name in ("idle_timeout", "drop_invalid", "desync_mode", "forwarded_for"):
            setattr(held, name, getattr(fresh, name))

    def _open(
        self, lb: dict[str, Any], known: dict[str, Any], larn: str, port: int, now: float
    ) -> None:
        name, arn = lb["LoadBalancerName"], lb["LoadBalancerArn"]
        failure = self.failures.get(larn)
        if failure is not None and now < failure.retry_at:
            return
        try:
            local = Listener(
                known["address"],
                port,
                lambda larn=larn: self.actions[larn],
                self.settings[arn],
                report=self.world.log,
            )
        except OSError as exc:
            reason = f"listener {port} cannot listen at {known['address']}: {exc.strerror or exc}"
            attempts = failure.attempts + 1 if failure else 1
            delay = min(RETRY_CAP, RETRY_FIRST * 2 ** (attempts - 1))
            # Counted from this try, not from the pass's start (the calls before it take time):
            # the next try is never sooner than the backoff after this one.
            self.failures[larn] = Failure(reason, attempts, time.monotonic() + delay)
            if failure is None or failure.reason != reason:  # once, not on every try
                self.world.log(f"load balancer {name}: {reason}; trying again with backoff")
                self.world.set_lb_state(arn, "active_impaired", reason)
            return
        if failure is not None:
            self.failures.pop(larn)
            self.world.set_lb_state(arn, "active")
        local.dns = known["dns"]
        self.listeners[larn] = local
        self.world.log(
            f"load balancer {name}: listener {port} at {local.url} (for http://{known['dns']}"
            + ("" if port == 80 else f":{port}")
            + ")"
        )
        self.world.listeners_changed()

    def _action(self, actions: list[dict[str, Any]]) -> dict[str, Any]:
        first = dict(sorted(actions, key=lambda a: a.get("Order", 0))[0]) if actions else {}
        if first.get("Type") == "forward":
            arn = first.get("TargetGroupArn") or (
                first.get("ForwardConfig", {}).get("TargetGroups") or [{}]
            )[0].get("TargetGroupArn")
            first["group"] = self.world.target_group(arn) if arn else None
        return first

    def next_due(self) -> float | None:
        """When a load balancer still provisioning becomes active, or a failed listener is
        tried again."""
        waiting = [b["ready_at"] for b in self.balancers.values() if not b.get("active")]
        waiting += [f.retry_at for f in self.failures.values()]
        return min(waiting, default=None)

    def urls(self) -> dict[str, str]:
        """DNS name -> the local URL of its first listener (port 80's if there is one)."""
        found: dict[str, str] = {}
        for local in sorted(self.listeners.values(), key=lambda x: x.requested_port != 80):
            found.setdefault(local.dns, local.url)
        return found

    def close(self) -> None:
        for local in self.listeners.values():
            close_quietly(local)
        self.listeners.clear()
