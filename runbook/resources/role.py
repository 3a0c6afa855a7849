"""IAM roles: section V's execution role and task role, each the deployment's own.

IAM is not in the Resource Groups Tagging API ("does not currently support IAM users and
roles"): the tag inventory lists roles with their tags itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from runbook.aws import Aws
from runbook.plan import Action, ApiCall, Ref
from runbook.recovery.answers import Found
from runbook.resources.kind import (
    Create,
    Kind,
    Tagged,
    TagSearch,
    adopts,
    leftover_label,
    missing_on,
)
from runbook.resources.tags import tagged as carries_tag
from runbook.resources.template import Template, logical_id
from runbook.rules.combinations import POLICY_SIZE, tag_count
from runbook.rules.common import tag_fields
from runbook.rules.kinds import from_schema
from runbook.rules.spec import FOUND, OWN_TEXT, Field, Operation
from runbook.rules.spec import settings_fix as fix

NAME = "role"
NOT_FOUND = ("NoSuchEntity",)
# Account-wide names other services use: never created, changed or deleted by the runbook,
# even if an older version of it tagged one as a deployment's.
WELL_KNOWN = frozenset({"ecsTaskExecutionRole"})
SERVICE_LINKED_PATH = "/aws-service-role/"


def delete(
    role: str, inline: Iterable[str], attached: Iterable[str], label: str, section: str
) -> list[Action]:
    """Its policies first, as IAM requires, then the role."""
    return [
        *(
            ApiCall(
                "iam",
                "delete_role_policy",
                {"RoleName": role, "PolicyName": policy},
                f"remove {role}'s policy {policy}",
                section,
                done_on=NOT_FOUND,
            )
            for policy in inline
        ),
        *(
            ApiCall(
                "iam",
                "detach_role_policy",
                {"RoleName": role, "PolicyArn": arn},
                f"detach {arn.rsplit('/', 1)[-1]} from {role}",
                section,
                done_on=NOT_FOUND,
            )
            for arn in attached
        ),
        ApiCall(
            "iam", "delete_role", {"RoleName": role}, f"delete {label}", section, done_on=NOT_FOUND
        ),
    ]


def find(aws: Aws, p: Mapping[str, Any]) -> Found | None:
    got = missing_on(NOT_FOUND, lambda: aws.call("iam", "get_role", RoleName=p["RoleName"]))
    if not got:
        return None
    return Found(f"role {p['RoleName']}", {"Role": got["Role"]}, got["Role"].get("Tags"))


def tagged(aws: Aws, deployment: str, _arns: list[str]) -> Iterator[Tagged]:
    """One paged call lists every role with its tags and policies."""
    marker = ""
    while True:
        page = aws.call(
            "iam",
            "get_account_authorization_details",
            Filter=["Role"],
            **({"Marker": marker} if marker else {}),
        )
        for role in page.get("RoleDetailList", []):
            if role.get("Path", "").startswith(SERVICE_LINKED_PATH):
                continue  # belongs to AWS and the whole account
            if role["RoleName"] in WELL_KNOWN:
                continue  # account-wide, even if an older runbook tagged it: never ours
            if carries_tag(role.get("Tags"), deployment):
                yield Tagged(
                    NAME,
                    role["RoleName"],
                    role["Arn"],
                    detail={
                        "inline": [p["PolicyName"] for p in role.get("RolePolicyList", [])],
                        "attached": [
                            p["PolicyArn"] for p in role.get("AttachedManagedPolicies", [])
                        ],
                    },
                )
        if not page.get("IsTruncated"):
            return
        marker = page["Marker"]


def leftover(t: Tagged, section: str) -> list[Action]:
    return delete(
        t.name, t.detail.get("inline", []), t.detail.get("attached", []), leftover_label(t), section
    )


def as_cfn(t: Template, call: ApiCall) -> None:
    p = call.params
    properties = {k: p[k] for k in ("RoleName", "Description", "AssumeRolePolicyDocument")}
    name = p["RoleName"]
    t.made(call, "AWS::IAM::Role", properties, logical=logical_id(name), name=name, attribute="Arn")


def policy_as_cfn(t: Template, call: ApiCall) -> None:
    props = t.properties(t.owner(call.params["RoleName"]))
    document = call.params["PolicyDocument"]
    props.setdefault("Policies", []).append(
        {
            "PolicyName": call.params["PolicyName"],
            "PolicyDocument": t.value(document)
            if isinstance(document, Ref)
            else json.loads(document),
        }
    )


def rules() -> dict[tuple[str, str], Operation]:
    role, policy = "AWS::IAM::Role", "AWS::IAM::RolePolicy"
    name = from_schema(role, "RoleName")
    named = fix("task_definition.execution_role", "task_definition.task_role")
    return {
        ("iam", "create_role"): Operation(
            (
                Field("RoleName", name, named),
                Field("Description", from_schema(role, "Description"), OWN_TEXT),
                Field(
                    "AssumeRolePolicyDocument",
                    from_schema(role, "AssumeRolePolicyDocument"),
                    OWN_TEXT,
                ),
                *tag_fields(role),
            ),
            (tag_count("Tags"),),
        ),
        ("iam", "update_assume_role_policy"): Operation(
            (
                Field("RoleName", name, FOUND),
                Field("PolicyDocument", from_schema(role, "AssumeRolePolicyDocument"), OWN_TEXT),
            )
        ),
        ("iam", "put_role_policy"): Operation(
            (
                Field("RoleName", from_schema(policy, "RoleName"), named),
                Field("PolicyName", from_schema(policy, "PolicyName"), fix("deployment.name")),
                Field("PolicyDocument", from_schema(policy, "PolicyDocument"), OWN_TEXT),
            ),
            (POLICY_SIZE,),
        ),
        ("iam", "delete_role_policy"): Operation(
            (Field("PolicyName", from_schema(policy, "PolicyName"), FOUND),)
        ),
        ("iam", "detach_role_policy"): Operation((Field("RoleName", name, FOUND),)),
        ("iam", "delete_role"): Operation((Field("RoleName", name, FOUND),)),
    }


KIND = Kind(
    NAME,
    section="V",
    not_found=NOT_FOUND,
    create=Create("iam", "create_role", as_cfn, adopts("EntityAlreadyExists", find)),
    translations={("iam", "put_role_policy"): policy_as_cfn},
    rules=rules,
    # Its policies first (the plan's order: the same place in a destroy), then the role.
    deleted_by={
        ("iam", "delete_role_policy"): 11,
        ("iam", "detach_role_policy"): 11,
        ("iam", "delete_role"): 11,
    },
    inventory=TagSearch("IAM roles", tagged),
    leftover=leftover,
)
