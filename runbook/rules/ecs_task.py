"""Rules of the parameters that start ECS tasks: a service's network and RunTask's own.

From ECS's API reference (AwsVpcConfiguration, RunTask) and botocore's ECS model, whose
documentation strings state the limits its shapes do not (16 subnets, 5 security groups,
clientToken's characters, startedBy's).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from runbook.rules.core import Rule
from runbook.rules.kinds import by_hand, never, pattern
from runbook.rules.spec import ECS_API, FOUND, OWN_TEXT, Combination, Field, Found

AWSVPC_API = f"{ECS_API}/API_AwsVpcConfiguration.html"
RUN_TASK_API = f"{ECS_API}/API_RunTask.html"
# AwsVpcConfiguration: "There's a limit of 16 subnets" and "a limit of 5 security groups".
SUBNETS_MOST = 16
SECURITY_GROUPS_MOST = 5
# RunTask overrides: "A total of 8192 characters are allowed for overrides. This limit
# includes the JSON formatting characters of the override structure."
OVERRIDES_MOST = 8192
# RunTask count: "You can specify up to 10 tasks for each call."
TASKS_PER_RUN = 10


def overrides_size(overrides: Mapping[str, Any]) -> int:
    """The overrides' characters as JSON, formatting included.

    Compact, and with characters beyond ASCII as themselves: the limit is the service's, the
    same whichever SDK sent the request (botocore escapes them, others do not), so it cannot
    count an SDK's escapes.
    """
    return len(json.dumps(overrides, separators=(",", ":"), ensure_ascii=False))


def command_overrides(container: str, command: list[str]) -> dict[str, Any]:
    """RunTask's overrides for another command in one container (the entry point stays)."""
    return {"containerOverrides": [{"name": container, "command": command}]}


def command_too_long(container: str, command: list[str]) -> str | None:
    """Why RunTask would refuse this command, or None: its overrides' 8192 characters."""
    size = overrides_size(command_overrides(container, command))
    if size <= OVERRIDES_MOST:
        return None
    return (
        f"makes RunTask's overrides {size} characters as JSON (with the container's name and "
        f"the JSON formatting); ECS takes at most {OVERRIDES_MOST}: shorten it, or put it in a "
        "script in the app's image and run that"
    )


def _count(low: int, high: int, what: str) -> Rule:
    return by_hand(
        f"must list {low} to {high} {what}",
        AWSVPC_API,
        lambda v: not isinstance(v, list) or low <= len(v) <= high,
    )


def network_fields(where: str = "networkConfiguration.awsvpcConfiguration") -> tuple[Field, ...]:
    """A task's network (CreateService, UpdateService, RunTask): the default VPC's subnets
    and the app's security group. Their IDs are EC2's own answers, so only their counts
    are checked."""
    subnets_fix = (
        f"ECS takes at most {SUBNETS_MOST} subnets: the runbook uses the default VPC's, one "
        "per Availability Zone; delete the extra default subnets or report it."
    )
    return (
        Field(f"{where}.subnets", (_count(1, SUBNETS_MOST, "subnets"),), subnets_fix),
        Field(
            f"{where}.securityGroups",
            (_count(0, SECURITY_GROUPS_MOST, "security groups"),),
            OWN_TEXT,
        ),
    )


# -- RunTask's own parameters ---------------------------------------------------------------

TASK_DEFINITION = pattern(
    r"(?:arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition/[A-Za-z0-9_-]{1,255}(?::(?:\d+|\*))?)"
    r"|[A-Za-z0-9_-]{1,255}(?::\d+)?",
    "must be a task definition's family, family:revision, or its full ARN",
    RUN_TASK_API,
)


def run_task_fields() -> tuple[Field, ...]:
    return (
        Field(
            "count",
            (
                by_hand(
                    f"must be 1 to {TASKS_PER_RUN} tasks a call",
                    RUN_TASK_API,
                    lambda v: not isinstance(v, int) or 1 <= v <= TASKS_PER_RUN,
                ),
            ),
            OWN_TEXT,
        ),
        Field("taskDefinition", (TASK_DEFINITION,), FOUND),
        # "Up to 128 letters (uppercase and lowercase), numbers, hyphens (-), forward slash
        # (/), and underscores (_) are allowed."
        Field(
            "startedBy",
            (
                pattern(
                    r"[A-Za-z0-9_/-]{1,128}",
                    "must be 1-128 letters, digits, hyphens, slashes or underscores",
                    RUN_TASK_API,
                ),
            ),
            OWN_TEXT,
        ),
        # "Up to 64 characters are allowed. The valid characters are characters in the range
        # of 33-126, inclusive."
        Field(
            "clientToken",
            (
                pattern(
                    r"[\x21-\x7e]{1,64}",
                    "must be 1-64 characters from ! to ~ (ASCII 33-126)",
                    RUN_TASK_API,
                ),
            ),
            OWN_TEXT,
        ),
        # Fargate's platform versions: LATEST or a version number such as 1.4.0.
        Field(
            "platformVersion",
            (
                pattern(
                    r"LATEST|\d+\.\d+\.\d+",
                    "must be LATEST or a platform version such as 1.4.0",
                    "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/"
                    "platform-fargate.html",
                ),
            ),
            OWN_TEXT,
        ),
        # "An error will be received if you specify the SERVICE option when running a task."
        Field(
            "propagateTags",
            (
                never(
                    lambda v: v == "SERVICE",
                    "must not be SERVICE for a task RunTask starts (TASK_DEFINITION or NONE)",
                    RUN_TASK_API,
                ),
            ),
            OWN_TEXT,
        ),
        Field(
            "overrides",
            (
                by_hand(
                    f"must be at most {OVERRIDES_MOST} characters as JSON, its formatting included",
                    RUN_TASK_API,
                    lambda v: not isinstance(v, dict) or overrides_size(v) <= OVERRIDES_MOST,
                ),
            ),
            "Shorten the command (the release command is app.release_command in your "
            "settings), or put a long one in a script in the app's image and run that.",
        ),
    )


def _launch_or_capacity(params: dict[str, Any]) -> Found:
    # "If a capacityProviderStrategy is specified, the launchType parameter must be omitted."
    if params.get("launchType") is not None and params.get("capacityProviderStrategy"):
        yield "launchType", params["launchType"], "cannot be given with capacityProviderStrategy"


LAUNCH_OR_CAPACITY = Combination(
    by_hand(
        "a launch type or a capacity provider strategy, not both",
        RUN_TASK_API,
        lambda _: True,
    ),
    _launch_or_capacity,
    OWN_TEXT,
)
