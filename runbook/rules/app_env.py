"""The app's variables as ECS's container definition takes them, and the task definition's size.

ECS passes a container's `environment` to Docker as it is (ContainerDefinition: "maps to Env
in the docker container create command"): Docker takes any name without "=" (its NAME=VALUE
form), so a plain variable may be `spring.profiles.active`. A secret's name is more: it is
RUNBOOK_SECRET_<NAME> in the deploying person's shell, and the JSON key in ECS's valueFrom
(`<secret ARN>:<json-key>::`), where a ":" would end the key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from runbook.rules.kinds import by_hand
from runbook.rules.spec import Combination, Found, settings_fix

# ECS service quotas, "Task definition size": the most a registered task definition may be.
TASK_DEFINITION_MOST = 64 * 1024
QUOTAS = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-quotas.html"
# A name Docker's NAME=VALUE form can carry: not empty, no "=", no control characters.
PLAIN_NAME = re.compile(r"[^=\x00-\x1f\x7f]+")
# A shell variable's name: RUNBOOK_SECRET_<NAME> must be one, and ":" would end ECS's JSON key.
SECRET_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,254}")
# The variables the runbook sets in every app's container (runbook/steps/task_definition.py
# and the database wrapper): one given again would give the container two values.
RUNBOOK_SETS = (
    "DB_HOST",
    "DB_PORT",
    "DB_NAME",
    "DB_SSLMODE",
    "DB_SSLROOTCERT",
    "DB_SECRET_ARN",
    "DB_USER_NAME",
    "DB_PWD",
    "PORT",
    "RUNBOOK_DATABASE_URL_ENV",
    "RUNBOOK_DATABASE_PARTS",
)


def misnamed(names: Iterable[str], rule: re.Pattern[str], why: str) -> str | None:
    """The names `rule` does not take, quoted, then `why` a name must be so."""
    bad = [n for n in names if not rule.fullmatch(n)]
    return f"{', '.join(map(repr, bad))}: {why}" if bad else None


def plain_name_problem(names: Iterable[str]) -> str | None:
    return misnamed(
        names,
        PLAIN_NAME,
        "a variable's name must not be empty or contain "
        "= or control characters (Docker's NAME=VALUE form, which ECS passes it in)",
    )


def secret_name_problem(names: Iterable[str]) -> str | None:
    return misnamed(
        names,
        SECRET_NAME,
        "a secret's name is letters, digits and underscores, "
        "not starting with a digit: its value comes from RUNBOOK_SECRET_<NAME> in your "
        "shell, and the name is the JSON key in ECS's valueFrom, which a ':' would end",
    )


def taken_names(names: Iterable[str], also: Iterable[str] = ()) -> str | None:
    """Names the runbook sets itself (and the database variables the settings name)."""
    taken = set(RUNBOOK_SETS) | set(also)
    clash = sorted(n for n in set(names) if n in taken)
    if clash:
        return (
            f"{', '.join(clash)}: the runbook sets {'it' if len(clash) == 1 else 'them'} in "
            "the container itself (the database's variables and the port); use another name"
        )
    return None


def json_size(value: Any) -> int:
    """Characters as compact JSON, as ECS stores it (not an SDK's escapes)."""
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str))


def environment_size(environment: Mapping[str, str]) -> int:
    """The [app] environment's share of the task definition: its {name, value} entries."""
    return sum(json_size({"name": k, "value": v}) + 1 for k, v in environment.items())  # + a comma


def _task_definition_size(params: dict[str, Any]) -> Found:
    size = json_size(params)
    if size > TASK_DEFINITION_MOST:
        yield (
            "containerDefinitions",
            f"{size} characters",
            f"a task definition takes at most {TASK_DEFINITION_MOST} characters as JSON "
            f"(ECS's 64 KiB); this one is {size}",
        )


TASK_DEFINITION_SIZE = Combination(
    by_hand(
        f"a task definition is at most {TASK_DEFINITION_MOST} characters (64 KiB) as JSON",
        QUOTAS,
        lambda _: True,
    ),
    _task_definition_size,
    settings_fix("app.environment")
    + " Keep long values out of the task definition (a file in the image, or a secret).",
)
