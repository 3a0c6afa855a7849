"""The release command: a one-off task of the new revision (RunTask with the service's network
and a containerOverrides command), waited for before the service takes that revision; the
deploy stops if it fails. Also the parts of a one-off task `runbook run` shares
(runbook/one_off.py): its RunTask parameters and how it ended."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from runbook.plan import ApiCall, Ref, Wait
from runbook.rules.ecs_task import command_overrides
from runbook.settings import Settings
from runbook.steps.cluster import ecs_tags

# Who started the task, as DescribeTasks and the console show it (RunTask's startedBy).
STARTED_BY = "fargate-runbook/run"
RELEASE_STARTED_BY = "fargate-runbook/release"
POLL_SECONDS = 3.0
TIMEOUT_SECONDS = 3600.0


@dataclass(frozen=True)
class Finished:
    """How a one-off task ended: its container's exit code, or why it never ran."""

    task_arn: str
    exit_code: int | None
    reason: str  # ECS's stopped reason (and the container's), when it did not exit by itself

    @property
    def ran(self) -> bool:
        return self.exit_code is not None


def overrides(s: Settings, command: list[str]) -> dict[str, Any]:
    return command_overrides(s.task_definition.container_name, command)


def request(
    s: Settings, task_definition: Any, network: Any, command: list[str], started_by: str
) -> dict[str, Any]:
    """RunTask's parameters: one Fargate task, tagged as the deployment's."""
    return {
        "cluster": s.cluster.name,
        "taskDefinition": task_definition,
        "count": 1,
        "launchType": "FARGATE",
        "platformVersion": "LATEST",
        "networkConfiguration": network,
        "overrides": overrides(s, command),
        "startedBy": started_by,
        "enableECSManagedTags": True,
        "tags": ecs_tags(s.deployment.name),
    }


def container_of(task: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    return next((c for c in task.get("containers", []) if c.get("name") == name), {})


def finished(task: Mapping[str, Any], name: str) -> Finished:
    container = container_of(task, name)
    code = container.get("exitCode")
    reason = "; ".join(
        part for part in (task.get("stoppedReason"), container.get("reason")) if part
    )
    return Finished(str(task["taskArn"]), int(code) if code is not None else None, reason)


# -- the release command: a step of the deploy, as plan data ------------------------------------


def release_key(s: Settings) -> str:
    return f"{s.service.name}.releaseTaskArn"


def release_actions(
    s: Settings, task_definition: Ref | str, network: Any, section: str
) -> list[ApiCall | Wait]:
    """Run [app] release_command with the new revision, before any task of it takes traffic;
    the deploy stops here if it fails (the service stays on the revision it runs)."""
    command = s.app.release_command
    name = s.task_definition.container_name

    def until(answer: dict[str, Any]) -> bool | str:
        task = next(iter(answer.get("tasks") or []), None)
        if task is None or task.get("lastStatus") != "STOPPED":
            return False
        end = finished(task, name)
        if end.exit_code == 0:
            return True
        if end.ran:
            return (
                f"the release command exited with code {end.exit_code}; the service was not "
                "changed. Its output: `runbook logs --since 15m`"
            )
        return f"the release command did not run ({end.reason}); the service was not changed"

    def no_task(answer: Mapping[str, Any]) -> str:
        if answer.get("tasks"):
            return ""
        return "; ".join(f.get("reason", "") for f in answer.get("failures", [])) or "no task"

    return [
        ApiCall(
            "ecs",
            "run_task",
            request(s, task_definition, network, list(command), RELEASE_STARTED_BY),
            f"run the release command ({' '.join(command)}) with the new revision, before "
            "it takes traffic",
            section,
            captures={release_key(s): "tasks.0.taskArn"},
            failed=no_task,
        ),
        Wait(
            "ecs",
            "describe_tasks",
            {"cluster": s.cluster.name, "tasks": [Ref(release_key(s))]},
            "the release command to finish (exit code 0)",
            until=until,
            section=section,
            interval=POLL_SECONDS,
            timeout=TIMEOUT_SECONDS,
        ),
    ]
