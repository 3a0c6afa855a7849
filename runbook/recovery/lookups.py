"""Find what a create made, from the create's own parameters, in the shape of its answer.

Each look-up answers as the create would have (`response`), so the call's `captures` (paths
into that answer) read the same values; `tags` are the resource's tags, for the check that it
is ours.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from runbook.aws import Aws
from runbook.recovery.faults import error_code


@dataclass(frozen=True)
class Found:
    what: str  # "security group flask-todo-elb-sg", for messages
    response: dict[str, Any]  # shaped like the create's answer
    tags: Any


Lookup = Callable[[Aws, Mapping[str, Any]], Found | None]


def _unless_missing(codes: tuple[str, ...], read: Callable[[], Any]) -> Any:
    try:
        return read()
    except ClientError as exc:
        if error_code(exc) in codes:
            return None
        raise


def _elb_tags(aws: Aws, arn: str) -> list[dict[str, str]]:
    described = aws.call("elbv2", "describe_tags", ResourceArns=[arn])["TagDescriptions"]
    return described[0].get("Tags", []) if described else []


def security_group(aws: Aws, p: Mapping[str, Any]) -> Found | None:
    groups = aws.call(
        "ec2",
        "describe_security_groups",
        Filters=[
            {"Name": "vpc-id", "Values": [p["VpcId"]]},
            {"Name": "group-name", "Values": [p["GroupName"]]},
        ],
    )["SecurityGroups"]
    if not groups:
        return None
    group = groups[0]
    answer = {"GroupId": group["GroupId"], "Tags": group.get("Tags", [])}
    return Found(f"security group {p['GroupName']}", answer, group.get("Tags"))


def target_group(aws: Aws, p: Mapping[str, Any]) -> Found | None:
    got = _unless_missing(
        ("TargetGroupNotFound",),
        lambda: aws.call("elbv2", "describe_target_groups", Names=[p["Name"]]),
    )
    if not got or not got["TargetGroups"]:
        return None
    tg = got["TargetGroups"][0]
    tags = _elb_tags(aws, tg["TargetGroupArn"])
    return Found(f"target group {p['Name']}", {"TargetGroups": [tg]}, tags)


def load_balancer(aws: Aws, p: Mapping[str, Any]) -> Found | None:
    got = _unless_missing(
        ("LoadBalancerNotFound",),
        lambda: aws.call("elbv2", "describe_load_balancers", Names=[p["Name"]]),
    )
    if not got or not got["LoadBalancers"]:
        return None
    lb = got["LoadBalancers"][0]
    tags = _elb_tags(aws, lb["LoadBalancerArn"])
    return Found(f"load balancer {p['Name']}", {"LoadBalancers": [lb]}, tags)


def listener(aws: Aws, p: Mapping[str, Any]) -> Found | None:
    listeners = aws.call("elbv2", "describe_listeners", LoadBalancerArn=p["LoadBalancerArn"])
    mine = [x for x in listeners["Listeners"] if x["Port"] == p["Port"]]
    if not mine:
        return None
    tags = _elb_tags(aws, mine[0]["ListenerArn"])
    return Found(f"{p['Protocol']}:{p['Port']} listener", {"Listeners": mine[:1]}, tags)


def log_group(aws: Aws, p: Mapping[str, Any]) -> Found | None:
    name = p["logGroupName"]
    groups = aws.call("logs", "describe_log_groups", logGroupNamePrefix=name)["logGroups"]
    if not any(g["logGroupName"] == name for g in groups):
        return None
    tags = aws.call("logs", "list_tags_log_group", logGroupName=name).get("tags", {})
    return Found(f"log group {name}", {}, tags)  # create_log_group answers nothing


def secret(aws: Aws, p: Mapping[str, Any]) -> Found | None:
    got = _unless_missing(
        ("ResourceNotFoundException",),
        lambda: aws.call("secretsmanager", "describe_secret", SecretId=p["Name"]),
    )
    if not got:
        return None
    answer = {"ARN": got["ARN"], "Name": got["Name"]}
    return Found(f"secret {p['Name']}", answer, got.get("Tags"))


def db_instance(aws: Aws, p: Mapping[str, Any]) -> Found | None:
    ident = p["DBInstanceIdentifier"]
    got = _unless_missing(
        ("DBInstanceNotFound", "DBInstanceNotFoundFault"),
        lambda: aws.call("rds", "describe_db_instances", DBInstanceIdentifier=ident),
    )
    if not got or not got["DBInstances"]:
        return None
    db = got["DBInstances"][0]
    return Found(f"database {ident}", {"DBInstance": db}, db.get("TagList"))


def role(aws: Aws, p: Mapping[str, Any]) -> Found | None:
    got = _unless_missing(
        ("NoSuchEntity",), lambda: aws.call("iam", "get_role", RoleName=p["RoleName"])
    )
    if not got:
        return None
    return Found(f"role {p['RoleName']}", {"Role": got["Role"]}, got["Role"].get("Tags"))


def repository(aws: Aws, p: Mapping[str, Any]) -> Found | None:
    name = p["repositoryName"]
    got = _unless_missing(
        ("RepositoryNotFoundException",),
        lambda: aws.call("ecr", "describe_repositories", repositoryNames=[name]),
    )
    if not got or not got["repositories"]:
        return None
    repo = got["repositories"][0]
    tags = aws.call("ecr", "list_tags_for_resource", resourceArn=repo["repositoryArn"])["tags"]
    return Found(f"image repository {name}", {"repository": repo}, tags)


def task_definition(aws: Aws, p: Mapping[str, Any]) -> Found | None:
    """The family's latest revision, if it is exactly what this call registers."""
    got = _unless_missing(
        ("ClientException",),
        lambda: aws.call(
            "ecs", "describe_task_definition", taskDefinition=p["family"], include=["TAGS"]
        ),
    )
    if not got or got["taskDefinition"].get("status") == "INACTIVE":
        return None
    sent = {k: v for k, v in p.items() if k != "tags"}
    if not contains(got["taskDefinition"], sent):
        return None  # the latest revision is another one: registering is still to do
    found = {"taskDefinition": got["taskDefinition"], "tags": got.get("tags", [])}
    return Found(f"task definition {p['family']}", found, got.get("tags"))


def service(aws: Aws, p: Mapping[str, Any]) -> Found | None:
    got = aws.call(
        "ecs",
        "describe_services",
        cluster=p["cluster"],
        services=[p["serviceName"]],
        include=["TAGS"],
    )
    active = [s for s in got["services"] if s["status"] == "ACTIVE"]
    if not active:
        return None  # none, or one still draining from a delete: not ours to take
    return Found(f"service {p['serviceName']}", {"service": active[0]}, active[0].get("tags"))


def contains(described: Any, sent: Any) -> bool:
    """Does AWS's description hold every value that was sent? (AWS adds defaults around them.)"""
    if isinstance(sent, Mapping):
        return isinstance(described, Mapping) and all(
            k in described and contains(described[k], v) for k, v in sent.items()
        )
    if isinstance(sent, list | tuple):
        return (
            isinstance(described, list)
            and len(described) == len(sent)
            and all(any(contains(d, s) for d in described) for s in sent)
        )
    return str(described) == str(sent)
