"""A service's rollout, followed through describe_services: its deployments (old and new
tasks) and events as they change, and how it ends: stable on the new revision, or failed and
rolled back by the deployment circuit breaker (which this says, with ECS's reason).

docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html: a
failed deployment's rolloutState is FAILED; with rollback on, ECS deploys the last completed
revision again, and the failed deployment leaves the list once that rollback is done.

A service deleted while it is watched (a destroy from another terminal, or by hand) ends the
watch at once with that reason: DescribeServices then answers it with status DRAINING or
INACTIVE (ECS keeps a deleted service INACTIVE for a while), or, once ECS has forgotten it, not
at all but in `failures` with reason MISSING. Nothing more will happen to it, so waiting up to
the wait's timeout would only hide what happened.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from runbook.errors import Problem, RunbookError
from runbook.events import Deployment, Rollout, ServiceEvent

EVENTS = 8  # the newest events a report carries
GONE = ("DRAINING", "INACTIVE")  # a service's status once delete_service has been called
MARGIN = timedelta(seconds=1)  # between ECS's clock for deployments and for events


def revision(arn: str) -> str:
    """arn:aws:ecs:...:task-definition/flask-todo:3 -> flask-todo:3"""
    return arn.rsplit("/", 1)[-1]


def steady(svc: dict[str, Any]) -> bool:
    """One deployment, completed, every desired task running."""
    deployments = svc.get("deployments", [])
    primary = next((d for d in deployments if d.get("status") == "PRIMARY"), None)
    return (
        len(deployments) == 1
        and svc["runningCount"] == svc["desiredCount"]
        and (primary or {}).get("rolloutState", "COMPLETED") == "COMPLETED"
    )


def _completed(deployment: dict[str, Any] | None) -> bool:
    """A deployment done: every desired task running (the failed one may still be listed)."""
    return bool(deployment) and (
        deployment.get("rolloutState") == "COMPLETED"  # type: ignore[union-attr]
        and deployment.get("runningCount") == deployment.get("desiredCount")  # type: ignore[union-attr]
    )


def _events(svc: dict[str, Any], count: int = 3) -> str:
    return "; ".join(e["message"] for e in svc.get("events", [])[:count])


class ServiceDeleted(RunbookError):
    """The service was deleted while a wait watched it: nothing more will happen to it."""


def deleted(name: str, how: str) -> ServiceDeleted:
    return ServiceDeleted(
        Problem(
            "ServiceDeleted",
            f"the service {name} was deleted while we waited for it ({how}): nothing more "
            "will happen to it, so the wait stopped.",
            "If it was meant (a `runbook destroy` from another terminal, or by hand), there "
            "is nothing to do. Otherwise run `runbook deploy` again: it makes the service "
            "anew.",
            "DescribeServices",
        )
    )


def check_not_deleted(r: dict[str, Any], name: str = "") -> None:
    """ServiceDeleted if DescribeServices says the service is deleted, or being deleted."""
    services = r.get("services", [])
    if services:
        svc = services[0]
        if svc.get("status") in GONE:
            raise deleted(svc.get("serviceName", name), f"ECS answers status {svc['status']}")
        return
    for failure in r.get("failures", []):
        if failure.get("reason") == "MISSING":
            arn = str(failure.get("arn", ""))
            raise deleted(name or arn.rsplit("/", 1)[-1], "ECS answers MISSING")


class RolloutWatch:
    """One wait's view of one rollout: what it rolls towards is read from the first answer,
    so an earlier rollout's leftovers never count."""

    def __init__(self, section: str, service: str = "") -> None:
        self.section = section
        self.service = service
        self.target: str | None = None  # the task definition the rollout rolls towards
        self.since: Any = None  # when that deployment began
        self.failed: dict[str, Any] | None = None

    def _first(self, svc: dict[str, Any]) -> None:
        # update_service points the service at the new revision at once (a rollback points it
        # back); the newest deployment is the rollout's, and says when it began.
        self.target = svc.get("taskDefinition")
        dated = [d for d in svc.get("deployments") or [] if _when(d) is not None]
        self.since = _when(max(dated, key=_when)) if dated else None

    def _service(self, r: dict[str, Any]) -> dict[str, Any] | None:
        """The service in a describe_services answer; the first one seen fixes the target."""
        services = r.get("services", [])
        if not services:
            return None
        svc: dict[str, Any] = services[0]
        if self.target is None:
            self._first(svc)
        return svc

    def until(self, r: dict[str, Any]) -> bool | str:
        check_not_deleted(r, self.service)
        svc = self._service(r)
        if svc is None:
            return False
        deployments = svc.get("deployments", [])
        for d in deployments:
            if d.get("rolloutState") == "FAILED" and self._ours(d) and self.failed is None:
                self.failed = {**d, "events": _events(svc)}
        primary = next((d for d in deployments if d.get("status") == "PRIMARY"), None)
        if self.failed is not None:
            reason = self.failed.get("rolloutStateReason") or "the deployment failed"
            events = self.failed["events"]
            back_to = primary.get("taskDefinition") if primary else None
            if back_to is None or back_to == self.failed.get("taskDefinition"):
                # No rollback: the failed deployment stays; nothing more will happen.
                return f"{reason}" + (f" (recent events: {events})" if events else "")
            if not _completed(primary):
                return False  # rolling back: the reports show it until it is done
            return (
                f"{reason} The circuit breaker rolled the service back to "
                f"{revision(back_to)}, which is running again; "
                f"{revision(self.failed.get('taskDefinition', ''))} never became healthy"
                + (f" (events: {events})" if events else "")
            )
        if steady(svc) and self.target and svc.get("taskDefinition") != self.target:
            # Its failure went by between two looks: the service is back where it was.
            return (
                f"the service is running {revision(svc['taskDefinition'])}, not "
                f"{revision(self.target)}: ECS rolled the new revision back"
                + (f" (recent events: {_events(svc)})" if svc.get("events") else "")
            )
        return steady(svc)

    def report(self, r: dict[str, Any]) -> Rollout | None:
        svc = self._service(r)
        if svc is None:
            return None
        deployments = tuple(
            Deployment(
                d.get("id", ""),
                d.get("status", ""),
                revision(d.get("taskDefinition", "")),
                d.get("rolloutState", ""),
                d.get("desiredCount", 0),
                d.get("runningCount", 0),
                d.get("pendingCount", 0),
                d.get("failedTasks", 0),
                d.get("rolloutStateReason", ""),
            )
            for d in svc.get("deployments", [])
        )
        events = tuple(
            ServiceEvent(e.get("id", ""), e.get("message", ""))
            for e in svc.get("events", [])[:EVENTS]
            if self._ours(e)
        )
        return Rollout(self.section, svc.get("serviceName", ""), deployments, events)

    def _ours(self, item: dict[str, Any]) -> bool:
        """Made since this rollout began (a deployment, or an event)."""
        when = _when(item)
        if self.since is None or when is None:
            return True
        try:
            return bool(when >= self.since - MARGIN)
        except TypeError:  # naive against aware: cannot tell, so keep it
            return True


def _when(item: dict[str, Any] | None) -> Any:
    return (item or {}).get("createdAt")
