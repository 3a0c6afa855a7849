"""Section V's IAM roles: the deployment's own execution and task roles, or one it is lent.

A role counts as ours only when it carries our tag because we created it: roles are never
adopted by tagging, and one the account already has (the guide's ecsTaskExecutionRole, used by
other services) is used as it is, never given or stripped of policies, never deleted. This is
what AWS Copilot and CDK's ApplicationLoadBalancedFargateService do too: a role per service.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from runbook.aws import Aws
from runbook.errors import Problem, RunbookError
from runbook.plan import Action, ApiCall, Ref, tags
from runbook.settings import Settings
from runbook.steps.base import Observed, Resource, missing_on, tagged

EXECUTION_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
# Account-wide names other services use: never created, changed or deleted by the runbook,
# even if an older version of it tagged one as a deployment's.
WELL_KNOWN = frozenset({"ecsTaskExecutionRole"})
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ecs-tasks.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


@dataclass(frozen=True)
class Role:
    kind: str  # "execution role" | "task role"
    name: str
    description: str
    managed: tuple[str, ...]
    # Per deployment: two deployments in one account never share a policy name.
    policy_name: str
    policy_why: str


def roles(s: Settings) -> tuple[Role, Role]:
    td, deployment = s.task_definition, s.deployment.name
    return (
        Role(
            "execution role",
            td.execution_role,
            f"{deployment}: lets ECS pull the image, write logs and inject the DB password",
            (EXECUTION_POLICY,),
            f"{deployment}-inject-db-secret",
            "let ECS read the database password at task start to inject it as DB_PWD",
        ),
        Role(
            "task role",
            td.task_role,
            f"{deployment}: the app's own role; reads the DB password after a rotation",
            (),
            f"{deployment}-read-db-secret",
            "let the app re-read the database password itself (RDS rotates it)",
        ),
    )


def arn_key(name: str) -> str:
    return f"{name}.Arn"


def secret_policy(secret_arn: Any) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": secret_arn,
            }
        ],
    }


def _policy_json(secret: Ref) -> Ref:
    """The policy names the secret's ARN, known only once section IV has run."""
    return Ref(secret.key, fmt=json.dumps(secret_policy("{}")))


def discover(aws: Aws, s: Settings, seen: Observed) -> None:
    """Each role: whether it exists, whether it is ours, its policies (only if ours)."""
    for role in roles(s):
        got = missing_on(
            ("NoSuchEntity",), lambda r=role: aws.call("iam", "get_role", RoleName=r.name)
        )
        if got is None and role.name in WELL_KNOWN:
            raise RunbookError(
                Problem(
                    "AccountRoleMissing",
                    f"task_definition names {role.name}, an account-wide role the runbook never "
                    "creates, and this account does not have it.",
                    f"Leave task_definition.{role.kind.replace(' ', '_')} at its default (a role "
                    "of the deployment's own, which the runbook creates and deletes), or create "
                    f"{role.name} yourself, then run again.",
                )
            )
        found = got["Role"] if got else None
        ours = bool(found) and is_ours(role.name, found.get("Tags"), s.deployment.name)
        if found:
            seen.known[arn_key(role.name)] = found["Arn"]
            entry: dict[str, Any] = {"role": found, "ours": ours}
            if ours:
                attached = aws.call("iam", "list_attached_role_policies", RoleName=role.name)
                entry["attached"] = [p["PolicyArn"] for p in attached["AttachedPolicies"]]
                inline = missing_on(
                    ("NoSuchEntity",),
                    lambda r=role: aws.call(
                        "iam", "get_role_policy", RoleName=r.name, PolicyName=r.policy_name
                    ),
                )
                entry["inline"] = inline and inline["PolicyDocument"]
            seen.found[role.kind] = entry
        seen.resources.append(
            Resource(
                role.kind,
                role.name,
                found["Arn"] if found else "",
                ("exists" if ours else "exists, the account's") if found else "missing",
                ours,
            )
        )


def is_ours(name: str, role_tags: Any, deployment: str) -> bool:
    return name not in WELL_KNOWN and tagged(role_tags, deployment)


def lent(s: Settings, seen: Observed | None, kind: str) -> bool:
    """Is this role one the account lends us (exists, not ours), to be used as it is?"""
    role = next(r for r in roles(s) if r.kind == kind)
    if seen is None:  # offline: as if nothing exists, but an account-wide name is never ours
        return role.name in WELL_KNOWN
    entry = seen.found.get(kind)
    return entry is not None and not entry["ours"]


def plan(s: Settings, seen: Observed | None, secret: Ref, section: str) -> list[Action]:
    """Create what is missing; bring our own roles back to what they should be; lent: nothing."""
    actions: list[Action] = []
    known: Mapping[str, Any] = seen.known if seen else {}
    for role in roles(s):
        if lent(s, seen, role.kind):
            continue
        entry = seen.found.get(role.kind) if seen else None
        if entry is None:
            actions.append(
                ApiCall(
                    "iam",
                    "create_role",
                    {
                        "RoleName": role.name,
                        "AssumeRolePolicyDocument": json.dumps(TRUST),
                        "Description": role.description,
                        "Tags": tags(s.deployment.name),
                    },
                    f"create {role.name}, this deployment's own {role.kind}",
                    section,
                    captures={arn_key(role.name): "Role.Arn"},
                )
            )
        attached = entry.get("attached", []) if entry else []
        actions += [
            ApiCall(
                "iam",
                "attach_role_policy",
                {"RoleName": role.name, "PolicyArn": arn},
                "let ECS pull images and write logs (AmazonECSTaskExecutionRolePolicy)",
                section,
                # A role made seconds ago may not be visible to every IAM endpoint yet.
                retry_on=("NoSuchEntity",),
            )
            for arn in role.managed
            if arn not in attached
        ]
        current = entry.get("inline") if entry else None
        wanted_arn = known.get(secret.key)
        if wanted_arn is None or current != secret_policy(wanted_arn):
            actions.append(
                ApiCall(
                    "iam",
                    "put_role_policy",
                    {
                        "RoleName": role.name,
                        "PolicyName": role.policy_name,
                        "PolicyDocument": _policy_json(secret),
                    },
                    role.policy_why + ", and nothing else",
                    section,
                    retry_on=("NoSuchEntity",),
                )
            )
    return actions


def teardown(s: Settings, seen: Observed, section: str) -> list[Action]:
    """Only the roles we created: their policies first, as IAM requires, then the role."""
    actions: list[Action] = []
    by_kind = {r.kind: r for r in seen.resources}
    for role in roles(s):
        found = by_kind.get(role.kind)
        if not (found and found.exists and found.ours) or role.name in WELL_KNOWN:
            continue
        actions.append(
            ApiCall(
                "iam",
                "delete_role_policy",
                {"RoleName": role.name, "PolicyName": role.policy_name},
                f"remove {role.name}'s secret access",
                section,
                done_on=("NoSuchEntity",),
            )
        )
        actions += [
            ApiCall(
                "iam",
                "detach_role_policy",
                {"RoleName": role.name, "PolicyArn": arn},
                f"detach {arn.rsplit('/', 1)[-1]} from {role.name}",
                section,
                done_on=("NoSuchEntity",),
            )
            for arn in role.managed
        ]
        actions.append(
            ApiCall(
                "iam",
                "delete_role",
                {"RoleName": role.name},
                f"delete {role.name}",
                section,
                done_on=("NoSuchEntity",),
            )
        )
    return actions
