"""Everything that carries this deployment's tag, whatever its name: found by tag, not by name.

Discovery looks resources up by the names the settings give now, so a resource made under an
earlier name is out of its sight. The inventory asks by the tag instead: one paged Resource
Groups Tagging API call for most kinds, then one look at each kind to drop what is already
deleted (that API also lists resources deleted a short while ago). Where that API does not
answer, the services' own listings do: IAM roles ("The GetResources operation does not
currently support IAM users and roles", Resource Groups Tagging API Reference, supported
services), and security groups, which EC2 filters by tag itself in one call. ECR repositories
are in the tagging API on AWS; an emulator's may leave them out, so against a custom endpoint
they are listed from ECR as well.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from runbook.aws import Aws
from runbook.errors import problem_from
from runbook.settings import DEPLOYMENT_TAG
from runbook.steps import revisions
from runbook.steps.base import missing_on, tagged
from runbook.steps.roles import WELL_KNOWN
from runbook.words import count

# Services whose resources we make, as the tagging API's ResourceTypeFilters name them.
TAGGING_SERVICES = ["elasticloadbalancing", "ecs", "rds", "secretsmanager", "logs", "acm", "ecr"]
SERVICE_LINKED_PATH = "/aws-service-role/"


@dataclass(frozen=True)
class Tagged:
    """One resource carrying our tag, as the steps would describe it."""

    kind: str  # in the steps' words: "security group", "load balancer", ...
    name: str
    id: str  # what a step's Resource.id holds for it (a group id, an ARN, a family)
    state: str = "exists"
    # What deleting it needs: a service's cluster, a role's policies, a group's sources.
    detail: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass
class Inventory:
    resources: list[Tagged] = field(default_factory=list)
    # Kinds that could not be looked at, and why (e.g. AccessDenied on IAM).
    unchecked: list[str] = field(default_factory=list)


def find(aws: Aws, deployment: str) -> Inventory:
    """Every resource of ours that exists now, each kind looked at once."""
    found = Inventory()
    arns: dict[str, list[str]] = defaultdict(list)

    def attempt(what: str, look: Callable[[], Iterator[Tagged] | None]) -> None:
        """Look at one kind; what fails is noted, and the other kinds are still looked at."""
        try:
            found.resources.extend(look() or [])
        except Exception as exc:  # one kind we cannot see must not hide the others
            problem = problem_from(exc)
            found.unchecked.append(f"{what}: {problem.code}: {problem.message}")

    def by_tagging_api() -> None:
        for arn in _tagged_arns(aws, deployment):
            arns[_arn_kind(arn)].append(arn)

    attempt("the tagging API", by_tagging_api)
    attempt("security groups", lambda: _security_groups(aws, deployment))
    attempt("load balancers", lambda: _load_balancers(aws, arns["loadbalancer"]))
    attempt("target groups", lambda: _target_groups(aws, arns["targetgroup"]))
    attempt("ECS clusters", lambda: _clusters(aws, arns["cluster"]))
    attempt("ECS services", lambda: _services(aws, arns["service"]))
    attempt("task definitions", lambda: _task_definitions(aws, arns["task-definition"]))
    attempt("databases", lambda: _databases(aws, arns["db"]))
    attempt("secrets", lambda: _secrets(aws, arns["secret"]))
    attempt("log groups", lambda: _log_groups(aws, arns["log-group"]))
    attempt("certificates", lambda: _certificates(aws, arns["certificate"]))
    attempt("ECR repositories", lambda: _repositories(aws, deployment, arns["repository"]))
    attempt("IAM roles", lambda: _roles(aws, deployment))
    return found


def _tagged_arns(aws: Aws, deployment: str) -> Iterator[str]:
    token = ""
    while True:
        page = aws.call(
            "resourcegroupstaggingapi",
            "get_resources",
            TagFilters=[{"Key": DEPLOYMENT_TAG, "Values": [deployment]}],
            ResourceTypeFilters=TAGGING_SERVICES,
            **({"PaginationToken": token} if token else {}),
        )
        for mapping in page.get("ResourceTagMappingList", []):
            yield mapping["ResourceARN"]
        token = page.get("PaginationToken", "")
        if not token:
            return


def _arn_kind(arn: str) -> str:
    """arn:aws:ecs:us-east-1:1:service/c/s -> service; ...:log-group:/ecs/x -> log-group."""
    resource = arn.split(":", 5)[5] if arn.count(":") >= 5 else arn
    return resource.split("/", 1)[0].split(":", 1)[0]


def _security_groups(aws: Aws, deployment: str) -> Iterator[Tagged]:
    groups = aws.call(
        "ec2",
        "describe_security_groups",
        Filters=[{"Name": f"tag:{DEPLOYMENT_TAG}", "Values": [deployment]}],
    )["SecurityGroups"]
    for g in groups:
        sources = {
            pair["GroupId"]
            for perm in g.get("IpPermissions", [])
            for pair in perm.get("UserIdGroupPairs", [])
            if pair.get("GroupId") and pair["GroupId"] != g["GroupId"]
        }
        yield Tagged("security group", g["GroupName"], g["GroupId"], detail={"sources": sources})


def _in_twenties(arns: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(arns), 20):
        yield arns[start : start + 20]


def _each_or_all(
    aws: Aws, arns: list[str], read: Callable[[list[str]], list[dict[str, Any]]], gone: str
) -> list[dict[str, Any]]:
    """ELB answers NotFound for a whole batch if one ARN is gone: then ask one by one."""
    found: list[dict[str, Any]] = []
    for batch in _in_twenties(sorted(set(arns))):
        answer = missing_on((gone,), lambda batch=batch: read(batch))
        if answer is not None:
            found += answer
            continue
        for arn in batch:
            found += missing_on((gone,), lambda arn=arn: read([arn])) or []
    return found


def _load_balancers(aws: Aws, arns: list[str]) -> Iterator[Tagged]:
    def read(batch: list[str]) -> list[dict[str, Any]]:
        return aws.call("elbv2", "describe_load_balancers", LoadBalancerArns=batch)["LoadBalancers"]

    for lb in _each_or_all(aws, arns, read, "LoadBalancerNotFound"):
        yield Tagged(
            "load balancer", lb["LoadBalancerName"], lb["LoadBalancerArn"], lb["State"]["Code"]
        )


def _target_groups(aws: Aws, arns: list[str]) -> Iterator[Tagged]:
    def read(batch: list[str]) -> list[dict[str, Any]]:
        return aws.call("elbv2", "describe_target_groups", TargetGroupArns=batch)["TargetGroups"]

    for tg in _each_or_all(aws, arns, read, "TargetGroupNotFound"):
        yield Tagged("target group", tg["TargetGroupName"], tg["TargetGroupArn"])


def _clusters(aws: Aws, arns: list[str]) -> Iterator[Tagged]:
    for batch in _in_twenties(sorted(set(arns))):
        for c in aws.call("ecs", "describe_clusters", clusters=batch)["clusters"]:
            if c["status"] != "INACTIVE":
                yield Tagged("cluster", c["clusterName"], c["clusterArn"], c["status"])


def _services(aws: Aws, arns: list[str]) -> Iterator[Tagged]:
    by_cluster: dict[str, list[str]] = defaultdict(list)
    for arn in arns:
        parts = arn.split(":", 5)[5].split("/")
        if len(parts) == 3:  # service/<cluster>/<name>: the long ARN format, default since 2021
            by_cluster[parts[1]].append(arn)
    for cluster, members in by_cluster.items():
        for batch in _in_twenties(sorted(set(members))):
            got = missing_on(
                ("ClusterNotFoundException",),
                lambda batch=batch, cluster=cluster: aws.call(
                    "ecs", "describe_services", cluster=cluster, services=batch
                ),
            ) or {"services": []}
            for svc in got["services"]:
                if svc["status"] != "INACTIVE":
                    state = f"{svc['status']}, {svc['runningCount']}/{svc['desiredCount']} running"
                    yield Tagged(
                        "service",
                        svc["serviceName"],
                        svc["serviceArn"],
                        state,
                        detail={"cluster": cluster},
                    )


def _task_definitions(aws: Aws, arns: list[str]) -> Iterator[Tagged]:
    """One entry per family, holding its tagged revisions: active, and deregistered (INACTIVE,
    which stay in the account, tagged, until deleted). Deleted ones are in neither list."""
    families: dict[str, set[str]] = defaultdict(set)
    for arn in arns:
        families[revisions.family_of(arn)].add(arn)
    for family, tagged_revisions in sorted(families.items()):
        active = [a for a in revisions.listed(aws, family, "ACTIVE") if a in tagged_revisions]
        inactive = [a for a in revisions.listed(aws, family, "INACTIVE") if a in tagged_revisions]
        if active or inactive:
            state = ", ".join(
                part
                for part in (
                    count(len(active), "revision") if active else "",
                    f"{count(len(inactive), 'revision')} deregistered, not deleted"
                    if inactive
                    else "",
                )
                if part
            )
            yield Tagged(
                "task definition",
                family,
                family,
                state,
                detail={"revisions": active, "deregistered": inactive},
            )


def _databases(aws: Aws, arns: list[str]) -> Iterator[Tagged]:
    if not arns:
        return
    # "db-instance-id: Accepts DB instance identifiers and DB instance ARNs" (RDS API reference)
    dbs = aws.call(
        "rds",
        "describe_db_instances",
        Filters=[{"Name": "db-instance-id", "Values": sorted(set(arns))}],
    )["DBInstances"]
    for db in dbs:
        yield Tagged(
            "database",
            db["DBInstanceIdentifier"],
            db["DBInstanceArn"],
            db["DBInstanceStatus"],
            detail={
                "instance_class": db.get("DBInstanceClass", ""),
                # Destroy turns it off first (after its confirmation), or RDS refuses.
                "DeletionProtection": db.get("DeletionProtection", False),
            },
        )


def _secrets(aws: Aws, arns: list[str]) -> Iterator[Tagged]:
    for arn in sorted(set(arns)):
        secret = missing_on(
            ("ResourceNotFoundException",),
            lambda arn=arn: aws.call("secretsmanager", "describe_secret", SecretId=arn),
        )
        if secret and not secret.get("DeletedDate"):
            yield Tagged("secret", secret["Name"], secret["ARN"])


def _log_groups(aws: Aws, arns: list[str]) -> Iterator[Tagged]:
    for arn in sorted(set(arns)):
        name = arn.split(":log-group:", 1)[-1].removesuffix(":*")
        groups = aws.call("logs", "describe_log_groups", logGroupNamePrefix=name)["logGroups"]
        for group in groups:
            if group["logGroupName"] == name:
                yield Tagged(
                    "log group",
                    name,
                    group["arn"],
                    detail={"retention": group.get("retentionInDays")},
                )


def _certificates(aws: Aws, arns: list[str]) -> Iterator[Tagged]:
    for arn in sorted(set(arns)):
        cert = missing_on(
            ("ResourceNotFoundException",),
            lambda arn=arn: aws.call("acm", "describe_certificate", CertificateArn=arn),
        )
        if cert:
            c = cert["Certificate"]
            yield Tagged("certificate", c["DomainName"], c["CertificateArn"], c["Status"])


def _repositories(aws: Aws, deployment: str, arns: list[str]) -> Iterator[Tagged]:
    names = {arn.split(":repository/", 1)[-1] for arn in arns}
    repos: list[dict[str, Any]] = []
    if names:
        repos = (
            missing_on(
                ("RepositoryNotFoundException",),
                lambda: aws.call("ecr", "describe_repositories", repositoryNames=sorted(names)),
            )
            or {"repositories": []}
        )["repositories"]
    elif aws.endpoint_url:
        # An emulator's tagging API may leave ECR out: ask ECR itself, repository by repository.
        for repo in aws.call("ecr", "describe_repositories")["repositories"]:
            tags = aws.call("ecr", "list_tags_for_resource", resourceArn=repo["repositoryArn"])
            if tagged(tags.get("tags"), deployment):
                repos.append(repo)
    for repo in repos:
        yield Tagged("image repository", repo["repositoryName"], repo["repositoryArn"])


def _roles(aws: Aws, deployment: str) -> Iterator[Tagged]:
    """IAM is not in the tagging API; one paged call lists every role with its tags."""
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
            if tagged(role.get("Tags"), deployment):
                yield Tagged(
                    "role",
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
