"""What carries this deployment's tag under a name the settings no longer give, and its teardown.

A renamed security group, load balancer or cluster leaves the old one behind, still ours:
`status` shows it and `destroy` removes it with the rest.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime

from runbook.inventory import Tagged
from runbook.plan import Action, ApiCall, Wait
from runbook.steps import database, final_snapshot, revisions
from runbook.steps.base import Observed, Step
from runbook.words import count

# The section each kind belongs to, for the destroy report and the plan's section column.
SECTION_OF = {
    "security group": "I",
    "load balancer": "II",
    "target group": "II",
    "cluster": "III",
    "log group": "III",
    "database": "IV",
    "secret": "IV",
    "task definition": "V",
    "image repository": "V",
    "role": "V",
    "service": "VI",
    "certificate": "VII",
}


def _same(resource_id: str) -> str:
    """One spelling per resource: a log group's ARN is listed with and without ':*'."""
    return resource_id.removesuffix(":*")


def leftovers(found: Iterable[Tagged], observed: Iterable[tuple[Step, Observed]]) -> list[Tagged]:
    """Tagged resources that no section found under the names its settings give now."""
    named: set[str] = set()
    families: set[str] = set()
    for _step, seen in observed:
        for r in seen.resources:
            if not r.exists:
                continue
            named.add(_same(r.id))
            if r.kind == "task definition":
                families.add(r.name)
    left = []
    for t in found:
        if _same(t.id) in named:
            continue
        if t.kind == "task definition" and t.name in families:
            # The section deletes the family's active revisions; deregistered ones (left by
            # an earlier destroy) are ours to delete too, and only the tag finds them.
            deregistered = list(t.detail.get("deregistered", []))
            if deregistered:
                left.append(
                    Tagged(
                        t.kind,
                        t.name,
                        t.id,
                        f"{count(len(deregistered), 'revision')} deregistered, not deleted",
                        {"revisions": [], "deregistered": deregistered},
                    )
                )
            continue
        left.append(t)
    return left


def teardown(t: Tagged) -> list[Action]:
    """The calls that delete one left-over resource (and wait where later deletes need it)."""
    section = SECTION_OF.get(t.kind, "")

    what = f"{t.kind} {t.name} (ours, no longer in the settings)"
    if t.kind == "security group":
        return [
            ApiCall(
                "ec2",
                "delete_security_group",
                {"GroupId": t.id},
                f"delete the {what}",
                section=section,
                retry_on=("DependencyViolation",),
                done_on=("InvalidGroup.NotFound",),
            )
        ]
    if t.kind == "load balancer":
        return [
            ApiCall(
                "elbv2",
                "delete_load_balancer",
                {"LoadBalancerArn": t.id},
                f"delete the {what} and its listeners",
                section=section,
                done_on=("LoadBalancerNotFound",),
            ),
            Wait(
                "elbv2",
                "describe_load_balancers",
                {"LoadBalancerArns": [t.id]},
                f"load balancer {t.name} to be deleted",
                until=lambda r: not r.get("LoadBalancers"),
                section=section,
                interval=10,
                timeout=600,
                done_on=("LoadBalancerNotFound",),
            ),
        ]
    if t.kind == "target group":
        return [
            ApiCall(
                "elbv2",
                "delete_target_group",
                {"TargetGroupArn": t.id},
                f"delete the {what}",
                section=section,
                retry_on=("ResourceInUse",),
                done_on=("TargetGroupNotFound",),
            )
        ]
    if t.kind == "cluster":
        return [
            ApiCall(
                "ecs",
                "delete_cluster",
                {"cluster": t.id},
                f"delete the {what}",
                section=section,
                retry_on=("ClusterContainsTasksException", "ClusterContainsServicesException"),
                done_on=("ClusterNotFoundException",),
            )
        ]
    if t.kind == "log group":
        return [
            ApiCall(
                "logs",
                "delete_log_group",
                {"logGroupName": t.name},
                f"delete the {what}",
                section=section,
                done_on=("ResourceNotFoundException",),
            )
        ]
    if t.kind == "database":
        snapshot = final_snapshot.name(t.name, datetime.now(UTC).date())
        return [
            replace(a, why=f"{a.why} (ours, no longer in the settings)")
            if isinstance(a, ApiCall)
            else a
            for a in database.delete_instance(t.name, snapshot, section, t.detail, t.state)
        ]
    if t.kind == "secret":
        return [
            ApiCall(
                "secretsmanager",
                "delete_secret",
                {"SecretId": t.id, "ForceDeleteWithoutRecovery": True},
                f"delete the {what}",
                section=section,
                done_on=("ResourceNotFoundException",),
            )
        ]
    if t.kind == "task definition":
        return revisions.teardown(
            t.detail.get("revisions", []),
            t.detail.get("deregistered", []),
            section,
            " (ours, found by its tag)",
        )
    if t.kind == "image repository":
        return [
            ApiCall(
                "ecr",
                "delete_repository",
                {"repositoryName": t.name, "force": True},
                f"delete the {what} and its images",
                section=section,
                done_on=("RepositoryNotFoundException",),
            )
        ]
    if t.kind == "role":
        return [
            *(
                ApiCall(
                    "iam",
                    "delete_role_policy",
                    {"RoleName": t.name, "PolicyName": policy},
                    f"remove the policy {policy} from {t.name}",
                    section=section,
                    done_on=("NoSuchEntity",),
                )
                for policy in t.detail.get("inline", [])
            ),
            *(
                ApiCall(
                    "iam",
                    "detach_role_policy",
                    {"RoleName": t.name, "PolicyArn": arn},
                    f"detach {arn.rsplit('/', 1)[-1]} from {t.name}",
                    section=section,
                    done_on=("NoSuchEntity",),
                )
                for arn in t.detail.get("attached", [])
            ),
            ApiCall(
                "iam",
                "delete_role",
                {"RoleName": t.name},
                f"delete the {what}",
                section=section,
                done_on=("NoSuchEntity",),
            ),
        ]
    if t.kind == "service":
        cluster = t.detail.get("cluster", "")
        return [
            ApiCall(
                "ecs",
                "delete_service",
                {"cluster": cluster, "service": t.name, "force": True},
                f"delete the {what} and stop its tasks",
                section=section,
                done_on=("ServiceNotFoundException",),
            ),
            Wait(
                "ecs",
                "describe_services",
                {"cluster": cluster, "services": [t.name]},
                f"service {t.name} to be deleted",
                until=lambda r: all(x["status"] == "INACTIVE" for x in r["services"]),
                section=section,
                interval=10,
                timeout=900,
                done_on=("ClusterNotFoundException",),
            ),
        ]
    if t.kind == "certificate":
        return [
            ApiCall(
                "acm",
                "delete_certificate",
                {"CertificateArn": t.id},
                f"delete the {what}",
                section=section,
                retry_on=("ResourceInUseException",),
                done_on=("ResourceNotFoundException",),
            )
        ]
    return []
