"""The app's own secrets ([app] secrets), in section V: one Secrets Manager secret of the
deployment holding a JSON object NAME -> value, which ECS reads at task start and injects by
JSON key (the task definition's `secrets`).

A value comes only from RUNBOOK_SECRET_<NAME> in the environment of the person deploying and
is sent to AWS as a plan.Secret: never printed, logged, or written to the state file. Once
kept, a later deploy needs no value (the kept one stays) unless a new one is given.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from runbook.aws import Aws
from runbook.errors import Problem, RunbookError
from runbook.plan import Action, ApiCall, Ref, Secret, tags
from runbook.resources import secret as secret_kind
from runbook.settings import SECRET_ENV_PREFIX, Settings
from runbook.steps.base import Observed, Resource, missing_on, tag_check

# Names the IAM policy matches: Secrets Manager appends "-" and six characters to the name.
ARN_SUFFIX = "-??????"


def secret_name(s: Settings) -> str:
    return f"{s.deployment.name}{secret_kind.APP_SECRETS}"


def arn_key(s: Settings) -> str:
    return f"{secret_name(s)}.ARN"


def given(s: Settings, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The values the person gives now, by name (RUNBOOK_SECRET_<NAME>)."""
    environ = os.environ if environ is None else environ
    return {
        n: environ[SECRET_ENV_PREFIX + n] for n in s.app.secrets if SECRET_ENV_PREFIX + n in environ
    }


def container_secrets(s: Settings) -> list[dict[str, Any]]:
    """The task definition's entries: each name from its JSON key of the one secret."""
    return [
        {"name": name, "valueFrom": Ref(arn_key(s), fmt="{}:" + name + "::")}
        for name in s.app.secrets
    ]


def discover(aws: Aws, s: Settings, seen: Observed) -> None:
    if not s.app.secrets:
        return
    name = secret_name(s)
    got = missing_on(
        secret_kind.NOT_FOUND,
        lambda: aws.call("secretsmanager", "describe_secret", SecretId=name),
    )
    if got and got.get("DeletedDate"):
        got = None
    if got:
        seen.known[arn_key(s)] = got["ARN"]
        value = aws.call("secretsmanager", "get_secret_value", SecretId=got["ARN"])
        try:
            kept = json.loads(value.get("SecretString") or "{}")
        except ValueError:
            kept = {}
        # Wrapped: discovery's findings are shown and compared, a Secret never printed.
        seen.found["app_secrets"] = Secret(kept if isinstance(kept, dict) else {})
    seen.resources.append(Resource.seen(secret_kind.NAME, name, got, "ARN", tag_check(s, "Tags")))


def missing(s: Settings, seen: Observed) -> list[str]:
    """The secrets [app] names that have no value: none given now, none kept in the secret."""
    values = given(s)
    current = seen.found.get("app_secrets")
    kept: dict[str, Any] = current.value if isinstance(current, Secret) else {}
    return [n for n in s.app.secrets if n not in values and n not in kept]


def missing_problem(names: list[str]) -> Problem:
    """Said before the first call (preflight) and again if a section V plan meets it."""
    exports = " ".join(f"{SECRET_ENV_PREFIX}{n}=..." for n in names)
    many = len(names) > 1
    return Problem(
        "AppSecretMissing",
        f"The app's secret{'s' if many else ''} {', '.join(names)} (app.secrets) "
        + ("have" if many else "has")
        + " no value yet. Nothing was changed.",
        f"Give {'them' if many else 'it'} in the environment for this deploy only (`export "
        f"{exports}`, or a secrets manager's CLI): it goes to Secrets Manager and is never "
        "printed or written to a file.",
    )


def plan(s: Settings, seen: Observed | None, section: str) -> list[Action]:
    if not s.app.secrets:
        return []
    values = given(s)
    current = seen.found.get("app_secrets") if seen else None
    kept: dict[str, Any] = current.value if isinstance(current, Secret) else {}
    without = missing(s, seen) if seen is not None else []
    if without:
        raise RunbookError(missing_problem(without))
    wanted = {n: values.get(n, kept.get(n, "")) for n in s.app.secrets}
    body = Secret(json.dumps(wanted))
    shown = ", ".join(s.app.secrets)
    if current is None:
        return [
            ApiCall(
                "secretsmanager",
                "create_secret",
                {
                    "Name": secret_name(s),
                    "Description": f"{s.deployment.name}: the app's secrets ({shown})",
                    "SecretString": body,
                    "Tags": tags(s.deployment.name),
                },
                f"keep the app's secrets ({shown}) in Secrets Manager, for ECS to inject",
                section,
                captures={arn_key(s): "ARN"},
            )
        ]
    if wanted == kept:
        return []
    changed = sorted(n for n in wanted if wanted[n] != kept.get(n))
    return [
        ApiCall(
            "secretsmanager",
            "put_secret_value",
            {"SecretId": Ref(arn_key(s)), "SecretString": body},
            f"a new value for {', '.join(changed)} (tasks started from now on get it)",
            section,
        )
    ]


def policy_resource(s: Settings, part: str, region: str, account: str) -> str:
    """The secret's ARN for IAM, by its name (its random suffix matched)."""
    return f"arn:{part}:secretsmanager:{region}:{account}:secret:{secret_name(s)}{ARN_SUFFIX}"
