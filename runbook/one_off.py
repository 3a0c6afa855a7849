"""One-off commands in the deployment (`runbook run`, a release command): a Fargate task from
the service's own task definition, in the service's network (its subnets, security group and
public IP setting), with another command; waited for, its output read, its exit code kept.

As `copilot task run` or `heroku run`: ECS RunTask with a containerOverrides `command` (the
entry point stays, as `docker run IMAGE CMD` keeps the image's ENTRYPOINT), then
DescribeTasks until STOPPED, the container's exitCode, and the task's awslogs stream
(`prefix/container/task-id`, as the awslogs driver names it) from CloudWatch Logs.
(docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html)
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from runbook.aws import Aws
from runbook.errors import Problem, RunbookError
from runbook.plan import ApiCall, Ref, Wait
from runbook.settings import Settings
from runbook.steps.cluster import ecs_tags

# Who started the task, as DescribeTasks and the console show it (RunTask's startedBy).
STARTED_BY = "fargate-runbook/run"
RELEASE_STARTED_BY = "fargate-runbook/release"
POLL_SECONDS = 3.0
# CloudWatch Logs may show a task's last lines a few seconds after it has stopped.
LOG_SETTLE_SECONDS = 6.0
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
    return {"containerOverrides": [{"name": s.task_definition.container_name, "command": command}]}


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


def the_service(aws: Aws, s: Settings) -> dict[str, Any]:
    """The service as ECS has it (its task definition and network), or a problem saying so."""
    try:
        got = aws.call(
            "ecs", "describe_services", cluster=s.cluster.name, services=[s.service.name]
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ClusterNotFoundException":
            raise
        got = {"services": []}
    svc = next((x for x in got["services"] if x.get("status") == "ACTIVE"), None)
    if svc is None:
        raise RunbookError(
            Problem(
                "NoService",
                f"The service {s.service.name} does not exist in {s.cluster.name}: there is "
                "no deployment to run the command in. Nothing was started.",
                "Deploy first (`runbook deploy`), then run the command.",
            )
        )
    return svc


def start(aws: Aws, params: Mapping[str, Any]) -> str:
    """RunTask, checked against AWS's rules first; the task's ARN."""
    from runbook.aws_rules import refuse_if_broken

    call = ApiCall("ecs", "run_task", params, "run a one-off task")
    refuse_if_broken(call, {})
    # One token for every send: a retry after a lost answer starts no second task.
    sent = {**params, "clientToken": str(uuid.uuid4())}
    answer = aws.request("ecs", "run_task", sent, before_resend=lambda: None)
    tasks = answer.get("tasks") or []
    if not tasks:
        failures = "; ".join(
            f"{f.get('reason', '')} {f.get('detail', '')}".strip()
            for f in answer.get("failures", [])
        )
        raise RunbookError(
            Problem(
                "RunTaskFailed",
                f"ECS did not start the task: {failures or 'no reason given'}.",
                "Check the cluster and the service's network, then run the command again.",
                "RunTask",
            )
        )
    return str(tasks[0]["taskArn"])


class LogReader:
    """The task's awslogs stream, read from the head; new lines on each poll."""

    def __init__(self, aws: Aws, container: Mapping[str, Any], task_arn: str) -> None:
        options = (container.get("logConfiguration") or {}).get("options") or {}
        self.aws = aws
        self.group = options.get("awslogs-group")
        prefix = options.get("awslogs-stream-prefix")
        task_id = task_arn.rsplit("/", 1)[-1]
        self.stream = f"{prefix}/{container['name']}/{task_id}" if prefix else None
        self._token: str | None = None

    def poll(self) -> list[str]:
        if not (self.group and self.stream):
            return []
        lines: list[str] = []
        while True:
            params: dict[str, Any] = {
                "logGroupName": self.group,
                "logStreamName": self.stream,
                "startFromHead": True,
            }
            if self._token:
                params["nextToken"] = self._token
            try:
                got = self.aws.call("logs", "get_log_events", **params)
            except ClientError as exc:
                if exc.response["Error"]["Code"] == "ResourceNotFoundException":
                    return lines  # the stream is made as the container starts
                raise
            events = got.get("events", [])
            lines += [e.get("message", "") for e in events]
            token = got.get("nextForwardToken")
            # The same token again: nothing more for now (CloudWatch Logs' end of stream).
            if not events or token == self._token:
                self._token = token or self._token
                return lines
            self._token = token


def container_of(task: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    return next((c for c in task.get("containers", []) if c.get("name") == name), {})


def finished(task: Mapping[str, Any], name: str) -> Finished:
    container = container_of(task, name)
    code = container.get("exitCode")
    reason = "; ".join(
        part for part in (task.get("stoppedReason"), container.get("reason")) if part
    )
    return Finished(str(task["taskArn"]), int(code) if code is not None else None, reason)


def follow(
    aws: Aws,
    s: Settings,
    task_arn: str,
    task_definition: Mapping[str, Any],
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    poll: float = POLL_SECONDS,
    settle: float = LOG_SETTLE_SECONDS,
    timeout: float = TIMEOUT_SECONDS,
) -> Iterator[str | Finished]:
    """The task's output lines as they arrive, then how it ended (the last item)."""
    name = s.task_definition.container_name
    container = next(
        (c for c in task_definition.get("containerDefinitions", []) if c.get("name") == name),
        {"name": name},
    )
    logs = LogReader(aws, container, task_arn)
    started = clock()
    while True:
        described = aws.call("ecs", "describe_tasks", cluster=s.cluster.name, tasks=[task_arn])
        yield from logs.poll()
        task = next(iter(described.get("tasks") or []), None)
        if task is None:
            raise RunbookError(
                Problem(
                    "TaskNotFound",
                    f"ECS no longer knows the task {task_arn}.",
                    "Look for its output with `runbook logs`.",
                    "DescribeTasks",
                )
            )
        if task.get("lastStatus") == "STOPPED":
            break
        if clock() - started > timeout:
            raise RunbookError(
                Problem(
                    "WaitTimedOut",
                    f"the task {task_arn} still runs after {int(timeout)} s",
                    "It goes on running: stop it in the ECS console (or let it finish) and "
                    "read its output with `runbook logs`.",
                    "DescribeTasks",
                )
            )
        sleep(poll)
    # Lines the task wrote last may reach CloudWatch Logs after it stopped.
    quiet_since = clock()
    while clock() - quiet_since < settle:
        lines = logs.poll()
        if lines:
            yield from lines
            quiet_since = clock()
        else:
            sleep(min(poll, settle))
    yield finished(task, name)


def stop(aws: Aws, s: Settings, task_arn: str, reason: str) -> None:
    """StopTask: ECS sends SIGTERM, then SIGKILL after the container's stop timeout."""
    aws.call("ecs", "stop_task", cluster=s.cluster.name, task=task_arn, reason=reason)


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
