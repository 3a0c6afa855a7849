"""Secrets Manager secrets: the database password, when it is the person's own (section IV),
and the app's own secrets ([app] secrets, section V).

(A password RDS generates is in a secret RDS manages, deleted with the instance.)
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from runbook.aws import Aws
from runbook.plan import ApiCall, Secret
from runbook.recovery.answers import Answer, Found, Token
from runbook.resources.kind import Create, Delete, Kind, Tagged, TagSearch, adopts, missing_on
from runbook.resources.template import PASSWORD_PARAMETER, Template, logical_id
from runbook.rules.combinations import tag_count
from runbook.rules.common import tag_fields
from runbook.rules.kinds import from_schema, pattern
from runbook.rules.spec import OWN_TEXT, Field, Operation
from runbook.rules.spec import settings_fix as fix

NAME = "secret"
APP_SECRETS = "/app-secrets"  # the app's own secrets (runbook/steps/app_secrets.py)
NOT_FOUND = ("ResourceNotFoundException",)


def find(aws: Aws, p: Mapping[str, Any]) -> Found | None:
    got = missing_on(
        NOT_FOUND, lambda: aws.call("secretsmanager", "describe_secret", SecretId=p["Name"])
    )
    if not got:
        return None
    answer = {"ARN": got["ARN"], "Name": got["Name"]}
    return Found(f"secret {p['Name']}", answer, got.get("Tags"))


def tagged(aws: Aws, _deployment: str, arns: list[str]) -> Iterator[Tagged]:
    for arn in sorted(set(arns)):
        secret = missing_on(
            NOT_FOUND,
            lambda arn=arn: aws.call("secretsmanager", "describe_secret", SecretId=arn),
        )
        if secret and not secret.get("DeletedDate"):
            yield Tagged(NAME, secret["Name"], secret["ARN"])


def as_cfn(t: Template, call: ApiCall) -> None:
    """A password of the person's own: a NoEcho parameter, kept only in Secrets Manager."""
    p = call.params
    if p["Name"].endswith(APP_SECRETS):
        _app_secrets_as_cfn(t, call)
        return
    body = json.loads(p["SecretString"].value) if isinstance(p["SecretString"], Secret) else {}
    t.parameters[PASSWORD_PARAMETER] = {
        "Type": "String",
        "NoEcho": True,
        "MinLength": 8,
        "MaxLength": 128,
        # RDS refuses / " @ and spaces; a backslash would break the secret's JSON.
        "AllowedPattern": r'[^/"@ \\]+',
        "Description": "The database master password (RUNBOOK_DB_PASSWORD): given when the "
        "stack is created, never stored in the template, kept in Secrets Manager.",
    }
    _secret(
        t,
        call,
        {"username": body.get("username", ""), "password": "${" + PASSWORD_PARAMETER + "}"},
    )
    t.notes.append(
        "The database password is your own (RUNBOOK_DB_PASSWORD): the template holds none. "
        f"Give it as the NoEcho parameter {PASSWORD_PARAMETER} when you create the stack; it "
        "goes to Secrets Manager, and RDS reads it from there (a dynamic reference)."
    )


def _secret(t: Template, call: ApiCall, body: dict[str, str]) -> None:
    """The secret itself, its value `body` with ${parameters} the stack's creator gives."""
    p = call.params
    t.made(
        call,
        "AWS::SecretsManager::Secret",
        {
            "Name": p["Name"],
            "Description": p["Description"],
            "SecretString": {"Fn::Sub": json.dumps(body)},
        },
        logical=logical_id(p["Name"]),
    )


def _app_secrets_as_cfn(t: Template, call: ApiCall) -> None:
    """The app's secrets ([app] secrets): one NoEcho parameter each, none in the template."""
    p = call.params
    names = (
        list(json.loads(p["SecretString"].value)) if isinstance(p["SecretString"], Secret) else []
    )
    body = {}
    for name in names:
        parameter = "AppSecret" + "".join(part.capitalize() for part in name.split("_"))
        t.parameters[parameter] = {
            "Type": "String",
            "NoEcho": True,
            "Description": f"The app's secret {name} (RUNBOOK_SECRET_{name}): given when the "
            "stack is created, never stored in the template, kept in Secrets Manager.",
        }
        body[name] = "${" + parameter + "}"
    _secret(t, call, body)
    t.notes.append(
        f"The app's secrets ({', '.join(names)}) are parameters (NoEcho): give their values "
        "when you create the stack; they go to Secrets Manager, ECS injects them."
    )


def rules() -> dict[tuple[str, str], Operation]:
    secret = "AWS::SecretsManager::Secret"
    return {
        ("secretsmanager", "create_secret"): Operation(
            (
                Field(
                    "Name",
                    (
                        pattern(
                            r"[A-Za-z0-9/_+=.@-]{1,512}",
                            "must be 1-512 ASCII letters, digits or /_+=.@-",
                            "https://docs.aws.amazon.com/secretsmanager/latest/apireference/"
                            "API_CreateSecret.html",
                        ),
                    ),
                    fix("deployment.name"),
                ),
                Field("Description", from_schema(secret, "Description"), OWN_TEXT),
                Field(
                    "SecretString",
                    from_schema(secret, "SecretString"),
                    # The same call keeps the person's own database password and the app's
                    # secrets ([app] secrets, one JSON object).
                    "Choose a shorter RUNBOOK_DB_PASSWORD, or shorter values for the app's "
                    "secrets (RUNBOOK_SECRET_<NAME>).",
                ),
                *tag_fields(secret),
            ),
            (tag_count("Tags"),),
        ),
        ("secretsmanager", "put_secret_value"): Operation(
            (
                Field(
                    "SecretString",
                    from_schema(secret, "SecretString"),
                    "Choose shorter values for the app's secrets.",
                ),
            ),
        ),
    }


KIND = Kind(
    NAME,
    section="IV",
    not_found=NOT_FOUND,
    gone=(Answer("InvalidRequestException", "marked for deletion"),),
    create=Create(
        "secretsmanager",
        "create_secret",
        as_cfn,
        # 32 to 64 characters; botocore fills one per call, but a resend is a new call.
        adopts("ResourceExistsException", find, token=Token("ClientRequestToken", 64)),
    ),
    rules=rules,
    inventory=TagSearch("secrets", tagged, arn_type="secret", tagging_service="secretsmanager"),
    delete=Delete(
        "secretsmanager",
        "delete_secret",
        "SecretId",
        rank=10,
        extra={"ForceDeleteWithoutRecovery": True},
    ),
)
