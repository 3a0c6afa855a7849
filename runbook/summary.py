"""The end of the guide: the ALB's DNS name, its targets' health, and a probe of /healthz."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from runbook.aws import Aws
from runbook.resources import load_balancer as load_balancer_kind
from runbook.resources import target_group as target_group_kind
from runbook.settings import Settings
from runbook.steps.base import missing_on


@dataclass(frozen=True)
class Target:
    id: str
    port: int
    state: str
    reason: str = ""
    description: str = ""


@dataclass(frozen=True)
class Probe:
    url: str
    ok: bool
    detail: str


@dataclass
class Summary:
    dns_name: str = ""
    targets: list[Target] = field(default_factory=list)
    probe: Probe | None = None
    notes: list[str] = field(default_factory=list)
    domain: str = ""  # set when section VII gave the load balancer a name and HTTPS
    # Where the load balancer answers from this machine, when that is not its URL (sandbox).
    local_url: str = ""

    @property
    def url(self) -> str:
        if self.domain:
            return f"https://{self.domain}"
        return f"http://{self.dns_name}" if self.dns_name else ""


def probe(
    url: str,
    *,
    attempts: int = 1,
    sleep: Callable[[float], None] = time.sleep,
    timeout: float = 5.0,
) -> Probe:
    """GET the URL; a fresh ALB's DNS name can take a minute to resolve, so retry."""
    detail = ""
    for attempt in range(attempts):
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                return Probe(url, response.status == 200, f"HTTP {response.status}")
        except urllib.error.HTTPError as exc:
            detail = f"HTTP {exc.code}: {exc.read(200).decode(errors='replace')}"
        except (urllib.error.URLError, OSError) as exc:
            detail = f"not reachable: {getattr(exc, 'reason', exc)}"
        if attempt + 1 < attempts:
            sleep(10)
    return Probe(url, False, detail)


def summarise(
    aws: Aws,
    s: Settings,
    known: Mapping[str, Any] | None = None,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> Summary:
    """Uses the DNS name and target group ARN a deploy already knows; looks them up otherwise."""
    summary, known = Summary(domain=s.domain.name), known or {}
    lb_s = s.load_balancer
    summary.dns_name = known.get(f"{lb_s.name}.DNSName", "")
    tg_arn = known.get(f"{lb_s.target_group}.TargetGroupArn", "")
    if not summary.dns_name:
        lbs = missing_on(
            load_balancer_kind.NOT_FOUND,
            lambda: aws.call("elbv2", "describe_load_balancers", Names=[lb_s.name]),
        )
        if not lbs:
            summary.notes.append(f"There is no load balancer {lb_s.name} yet.")
            return summary
        summary.dns_name = lbs["LoadBalancers"][0]["DNSName"]
    if not tg_arn:
        tgs = missing_on(
            target_group_kind.NOT_FOUND,
            lambda: aws.call("elbv2", "describe_target_groups", Names=[lb_s.target_group]),
        )
        tg_arn = tgs["TargetGroups"][0]["TargetGroupArn"] if tgs else ""
    if tg_arn:
        health = aws.call("elbv2", "describe_target_health", TargetGroupArn=tg_arn)
        summary.targets = [
            Target(
                d["Target"]["Id"],
                d["Target"].get("Port", 0),
                d["TargetHealth"]["State"],
                d["TargetHealth"].get("Reason", ""),
                d["TargetHealth"].get("Description", ""),
            )
            for d in health["TargetHealthDescriptions"]
        ]
    path = s.load_balancer.health_check_path
    try:
        base = aws.url_for(summary.url)
    except LookupError as exc:
        # An emulator's DNS name resolves nowhere: asking would only send a query elsewhere.
        summary.probe = Probe(f"{summary.url}{path}", False, "not sent: nothing answers there")
        summary.notes.append(str(exc).strip("'\""))
        return summary
    if base != summary.url:
        summary.local_url = base
    summary.probe = probe(f"{base}{path}", attempts=6, sleep=sleep)
    return summary
