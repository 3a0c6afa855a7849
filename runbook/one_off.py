"""One-off commands in the deployment (`runbook run`): a Fargate task from
the service's own task definition, in the service's network (its subnets, security group and
public IP setting), with another command; waited for, its output read, its exit code kept.

As `copilot task run` or `heroku run`: ECS RunTask with a containerOverrides `command` (the
entry point stays, as `docker run IMAGE CMD` keeps the image's ENTRYPOINT), then
DescribeTasks until STOPPED, the container's exitCode, and the task's awslogs stream
(`prefix/container/task-id`, as the awslogs driver names it) from CloudWatch Logs.
(docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html)
The release command, the same task as a step of the deploy, is plan data: steps/release.py.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from botocore.exceptions import ClientError

from runbook.aws import Aws
from runbook.errors import Problem, RunbookError
from runbook.plan import ApiCall
from runbook.resources import service as service_kind
from runbook.settings import Settings
from runbook.steps.release import (
    POLL_SECONDS,
    STARTED_BY,
    TIMEOUT_SECONDS,
    Finished,
    finished,
    request,
)

# CloudWatch Logs may show a task's last lines a few seconds after it has stopped.
LOG_SETTLE_SECONDS = 6.0

__all__ = ["STARTED_BY", "Finished", "finished", "follow", "request", "start", "stop"]


def the_service(aws: Aws, s: Settings) -> dict[str, Any]:
    """The service as ECS has it (its task definition and network), or a problem saying so."""
    return service_kind.ours_to_change(aws, s, "run a command in", "was started")


def start(aws: Aws, params: Mapping[str, Any]) -> str:
    """RunTask, checked against AWS's rules first; the task's ARN."""
    from runbook.aws_rules import refuse_if_broken

    # One token for every send: a retry after a lost answer starts no second task.
    sent = {**params, "clientToken": str(uuid.uuid4())}
    refuse_if_broken(ApiCall("ecs", "run_task", sent, "run a one-off task"), {})
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
