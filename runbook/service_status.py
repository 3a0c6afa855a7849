"""The service as it runs: its deployments, its tasks and its newest events (read-only).

What `aws ecs describe-services`, `list-tasks`/`describe-tasks` and the target group's health
say, folded into rows a front end shows as they are: the app's service view polls it.
Five read calls a look; nothing here changes anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from runbook.aws import Aws
from runbook.resources import cluster as cluster_kind
from runbook.resources import target_group as target_group_kind
from runbook.settings import Settings
from runbook.steps.base import missing_on
from runbook.steps.rollout import revision

STOPPED_SHOWN = 5  # the newest stopped tasks: their reasons are why a rollout failed
EVENTS_SHOWN = 12


@dataclass(frozen=True)
class DeploymentRow:
    status: str  # PRIMARY | ACTIVE
    revision: str  # flask-todo:5
    desired: int
    running: int
    pending: int
    rollout: str  # IN_PROGRESS | COMPLETED | FAILED
    reason: str = ""
    failed: int = 0


@dataclass(frozen=True)
class TaskRow:
    id: str  # the task's ID, as the console shows it
    revision: str
    last_status: str
    health: str  # the load balancer's view (healthy, initial, draining...) or ECS's
    started: datetime | None = None
    stopped: datetime | None = None
    stopped_reason: str = ""


@dataclass(frozen=True)
class EventRow:
    at: datetime | None
    message: str


@dataclass
class ServiceStatus:
    name: str
    exists: bool = False
    status: str = ""
    revision: str = ""
    desired: int = 0
    running: int = 0
    pending: int = 0
    deployments: list[DeploymentRow] = field(default_factory=list)
    tasks: list[TaskRow] = field(default_factory=list)
    events: list[EventRow] = field(default_factory=list)


def _why_stopped(task: dict[str, Any]) -> str:
    """ECS's stopped reason, and the container's own (an exit code, an image it could not pull)."""
    reason = task.get("stoppedReason", "")
    for container in task.get("containers", []):
        said = container.get("reason") or (
            f"exit code {container['exitCode']}" if container.get("exitCode") is not None else ""
        )
        if said:
            reason += f"; {container.get('name', 'container')}: {said}"
    return reason


def _address(task: dict[str, Any]) -> str:
    for container in task.get("containers", []):
        for interface in container.get("networkInterfaces", []):
            if interface.get("privateIpv4Address"):
                return str(interface["privateIpv4Address"])
    for attachment in task.get("attachments", []):
        for detail in attachment.get("details", []):
            if detail.get("name") == "privateIPv4Address":
                return str(detail.get("value", ""))
    return ""


def _target_health(aws: Aws, svc: dict[str, Any]) -> dict[str, str]:
    """The load balancer's view of each task's address: healthy, initial, draining, ..."""
    states: dict[str, str] = {}
    for lb in svc.get("loadBalancers", []):
        arn = lb.get("targetGroupArn")
        if not arn:
            continue
        got = missing_on(
            target_group_kind.NOT_FOUND,
            lambda arn=arn: aws.call("elbv2", "describe_target_health", TargetGroupArn=arn),
        )
        for d in (got or {}).get("TargetHealthDescriptions", []):
            states[d["Target"]["Id"]] = d["TargetHealth"]["State"]
    return states


def _tasks(aws: Aws, s: Settings, svc: dict[str, Any]) -> list[TaskRow]:
    cluster, name = s.cluster.name, s.service.name
    arns: list[str] = []
    for wanted in ("RUNNING", "STOPPED"):
        arns += aws.call(
            "ecs", "list_tasks", cluster=cluster, serviceName=name, desiredStatus=wanted
        )["taskArns"][:100]
    if not arns:
        return []
    described = aws.call("ecs", "describe_tasks", cluster=cluster, tasks=arns[:100])["tasks"]
    # Some emulators ignore serviceName: the task's group says whose it is.
    mine = [t for t in described if t.get("group", f"service:{name}") == f"service:{name}"]
    health = _target_health(aws, svc)
    live = sorted(
        (t for t in mine if t.get("lastStatus") != "STOPPED"),
        key=lambda t: str(t.get("startedAt") or t.get("createdAt") or ""),
    )
    stopped = sorted(
        (t for t in mine if t.get("lastStatus") == "STOPPED"),
        key=lambda t: str(t.get("stoppedAt") or ""),
        reverse=True,
    )[:STOPPED_SHOWN]
    rows = []
    for t in live + stopped:
        ecs_health = str(t.get("healthStatus", "")).lower().replace("unknown", "")
        # A stopped task's address may be a newer task's now: no health for it.
        seen = "" if t.get("lastStatus") == "STOPPED" else health.get(_address(t), ecs_health)
        rows.append(
            TaskRow(
                t["taskArn"].rsplit("/", 1)[-1],
                revision(t.get("taskDefinitionArn", "")),
                t.get("lastStatus", ""),
                seen,
                t.get("startedAt"),
                t.get("stoppedAt"),
                _why_stopped(t) if t.get("lastStatus") == "STOPPED" else "",
            )
        )
    return rows


def read(aws: Aws, s: Settings) -> ServiceStatus:
    """The service now; exists=False (and nothing else) when there is no service yet."""
    name = s.service.name
    got = missing_on(
        cluster_kind.NOT_FOUND,
        lambda: aws.call("ecs", "describe_services", cluster=s.cluster.name, services=[name]),
    ) or {"services": []}
    svc = next((x for x in got["services"] if x["status"] != "INACTIVE"), None)
    if svc is None:
        return ServiceStatus(name)
    prefix = f"(service {name}) "
    return ServiceStatus(
        name,
        True,
        svc["status"],
        revision(svc.get("taskDefinition", "")),
        svc.get("desiredCount", 0),
        svc.get("runningCount", 0),
        svc.get("pendingCount", 0),
        [
            DeploymentRow(
                d.get("status", ""),
                revision(d.get("taskDefinition", "")),
                d.get("desiredCount", 0),
                d.get("runningCount", 0),
                d.get("pendingCount", 0),
                d.get("rolloutState", ""),
                d.get("rolloutStateReason", ""),
                d.get("failedTasks", 0),
            )
            for d in svc.get("deployments", [])
        ],
        _tasks(aws, s, svc),
        [
            EventRow(e.get("createdAt"), e.get("message", "").removeprefix(prefix))
            for e in svc.get("events", [])[:EVENTS_SHOWN]
        ],
    )
