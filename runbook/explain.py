"""Why a section or a day-two action failed, in AWS's own words: a service that did not
stabilise (its stopped tasks' reasons), a database that failed (RDS's events about it)."""

from __future__ import annotations

from runbook.aws import Aws
from runbook.settings import Settings
from runbook.steps.database import failure_events


def explain(aws: Aws | None, s: Settings, code: str) -> list[str]:
    """For a service that did not stabilise: why its tasks stopped, in ECS's words; for a
    database that failed: RDS's events about it."""
    if code == "DBInstanceFailed" and aws is not None:
        return failure_events(aws, s.database.identifier)
    if code != "ServiceNotStable" or aws is None:
        return []
    cluster = s.cluster.name
    try:
        arns = aws.call(
            "ecs",
            "list_tasks",
            cluster=cluster,
            serviceName=s.service.name,
            desiredStatus="STOPPED",
        )["taskArns"][:5]
        if not arns:
            return []
        tasks = aws.call("ecs", "describe_tasks", cluster=cluster, tasks=arns)["tasks"]
    except Exception:  # explaining a failure must not hide it
        return []
    return [
        f"task {t['taskArn'].rsplit('/', 1)[-1]} stopped: {t.get('stoppedReason', '?')}"
        + "".join(
            f"; {c['name']}: {c.get('reason', c.get('exitCode', ''))}"
            for c in t.get("containers", [])
            if c.get("reason") or c.get("exitCode")
        )
        for t in tasks
    ]
