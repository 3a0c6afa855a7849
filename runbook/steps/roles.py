"""Section V's IAM roles: the deployment's own execution and task roles, or one it is lent.

A role counts as ours only when it carries our tag because we created it: roles are never
adopted by tagging, and one the account already has (the guide's ecsTaskExecutionRole, used by
other services) is used as it is, never given or stripped of policies, never deleted. This is
what AWS Copilot and CDK's ApplicationLoadBalancedFargateService do too: a role per service.
Our roles trust ECS only on this account's behalf, and the execution role may do only what
this deployment's tasks need (runbook.steps.role_policies). A role an older runbook made
(no conditions, the account-wide managed policy) is brought to that on the next deploy.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from runbook.aws import Aws
from runbook.errors import Problem, RunbookError
from runbook.plan import Action, ApiCall, Ref, tags
from runbook.resources import role as role_kind

# Account-wide role names (ecsTaskExecutionRole): the role kind's, read here by preflight too.
from runbook.resources.role import WELL_KNOWN as WELL_KNOWN
from runbook.settings import Settings
from runbook.steps.base import Observed, Resource, missing_on, tagged
from runbook.steps.role_policies import (
    ACCOUNT,
    ACCOUNT_KEY,
    execution_access,
    partition,
    trust,
)

# What older runbooks attached to their execution role; the role's own policy replaces it.
# AWS's managed policy, by its ARN's tail: the partition (aws, aws-cn, aws-us-gov) comes first.
EXECUTION_POLICY = ":iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"


# The two roles a task definition names, as settings and resources call them.
RoleKind = Literal["execution role", "task role"]


@dataclass(frozen=True)
class Role:
    kind: RoleKind
    name: str
    description: str
    # Per deployment: two deployments in one account never share a policy name.
    policy_name: str
    policy_why: str
    # The execution role's own access (image, logs) in place of the managed policy.
    access_policy: str = ""


def roles(s: Settings) -> tuple[Role, Role]:
    td, deployment = s.task_definition, s.deployment.name
    return (
        Role(
            "execution role",
            td.execution_role,
            f"{deployment}: lets ECS pull the image, write logs and inject the DB password",
            f"{deployment}-inject-db-secret",
            "let ECS read the database password at task start to inject it as DB_PWD",
            f"{deployment}-pull-image-write-logs",
        ),
        Role(
            "task role",
            td.task_role,
            f"{deployment}: the app's own role; reads the DB password after a rotation",
            f"{deployment}-read-db-secret",
            "let the app re-read the database password itself (RDS rotates it)",
        ),
    )


def _where(s: Settings) -> tuple[str, str]:
    region = s.deployment.region
    return partition(region), region


def trust_json(s: Settings) -> Ref:
    """The trust policy, naming the account once discovery knows it."""
    return Ref(ACCOUNT_KEY, fmt=json.dumps(trust(*_where(s), ACCOUNT)))


def access_json(s: Settings) -> Ref:
    return Ref(ACCOUNT_KEY, fmt=json.dumps(execution_access(s, *_where(s), ACCOUNT)))


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
    # The account the trust conditions and ARNs name.
    seen.known[ACCOUNT_KEY] = aws.call("sts", "get_caller_identity")["Account"]
    for role in roles(s):
        got = missing_on(
            role_kind.NOT_FOUND, lambda r=role: aws.call("iam", "get_role", RoleName=r.name)
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
                    role_kind.NOT_FOUND,
                    lambda r=role: aws.call(
                        "iam", "get_role_policy", RoleName=r.name, PolicyName=r.policy_name
                    ),
                )
                entry["inline"] = inline and inline["PolicyDocument"]
                entry["access"] = role.access_policy and _inline(aws, role.name, role.access_policy)
            seen.found[role.kind] = entry
        seen.resources.append(
            Resource.seen(
                role.kind,
                role.name,
                found,
                "Arn",
                ours,
                state="exists" if ours else "exists, the account's",
            )
        )


def _inline(aws: Aws, role: str, policy: str) -> Any:
    got = missing_on(
        role_kind.NOT_FOUND,
        lambda: aws.call("iam", "get_role_policy", RoleName=role, PolicyName=policy),
    )
    return got and got["PolicyDocument"]


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
    account = known.get(ACCOUNT_KEY)
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
                        "AssumeRolePolicyDocument": trust_json(s),
                        "Description": role.description,
                        "Tags": tags(s.deployment.name),
                    },
                    f"create {role.name}, this deployment's own {role.kind}, which only ECS "
                    "may assume, on this account's behalf",
                    section,
                    captures={arn_key(role.name): "Role.Arn"},
                )
            )
        elif account is None or entry["role"].get("AssumeRolePolicyDocument") != trust(
            *_where(s), account
        ):
            actions.append(
                ApiCall(
                    "iam",
                    "update_assume_role_policy",
                    {"RoleName": role.name, "PolicyDocument": trust_json(s)},
                    f"let only ECS assume {role.name}, on this account's behalf "
                    "(aws:SourceAccount, aws:SourceArn)",
                    section,
                )
            )
        if role.access_policy and (
            account is None
            or not entry
            or entry.get("access") != execution_access(s, *_where(s), account)
        ):
            actions.append(
                ApiCall(
                    "iam",
                    "put_role_policy",
                    {
                        "RoleName": role.name,
                        "PolicyName": role.access_policy,
                        "PolicyDocument": access_json(s),
                    },
                    "let ECS pull this deployment's image and write to its log group, and "
                    "nothing else",
                    section,
                    # A role made seconds ago may not be visible to every IAM endpoint yet.
                    retry_on=role_kind.NOT_FOUND,
                )
            )
        # A role an older runbook made: its own policy (above) replaces the account-wide one.
        actions += [
            ApiCall(
                "iam",
                "detach_role_policy",
                {"RoleName": role.name, "PolicyArn": arn},
                f"detach {arn.rsplit('/', 1)[-1]} from {role.name}: its own policy, scoped "
                "to this deployment, replaces it",
                section,
                done_on=role_kind.NOT_FOUND,
            )
            for arn in (entry.get("attached", []) if entry else [])
            if arn.endswith(EXECUTION_POLICY) and role.access_policy
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
                    retry_on=role_kind.NOT_FOUND,
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
        entry = seen.found.get(role.kind) or {}
        inline = [name for name in (role.policy_name, role.access_policy) if name]
        actions += role_kind.delete(
            role.name, inline, entry.get("attached", []), role.name, section
        )
    return actions
