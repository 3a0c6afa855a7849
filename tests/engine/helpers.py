"""Look at the pretend account the way a person would check the console."""

from __future__ import annotations

from collections import Counter
from typing import Any

from runbook.aws import Aws
from runbook.settings import DEPLOYMENT_TAG, Settings


def inventory(aws: Aws, s: Settings) -> Counter[str]:
    """How many of each resource the deployment's names match."""
    ec2, elb, ecs, rds = (aws.client(x) for x in ("ec2", "elbv2", "ecs", "rds"))
    sg_names = [s.security_groups.elb_sg, s.security_groups.ecs_sg, s.security_groups.db_sg]
    groups = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": sg_names}])[
        "SecurityGroups"
    ]
    lbs = [
        x
        for x in elb.describe_load_balancers()["LoadBalancers"]
        if x["LoadBalancerName"] == s.load_balancer.name
    ]
    tgs = [
        x
        for x in elb.describe_target_groups()["TargetGroups"]
        if x["TargetGroupName"] == s.load_balancer.target_group
    ]
    listeners = sum(
        len(elb.describe_listeners(LoadBalancerArn=x["LoadBalancerArn"])["Listeners"]) for x in lbs
    )
    clusters = [
        c
        for c in ecs.describe_clusters(clusters=[s.cluster.name])["clusters"]
        if c["status"] == "ACTIVE"
    ]
    services = [
        x
        for x in (
            ecs.describe_services(cluster=s.cluster.name, services=[s.service.name])["services"]
            if clusters
            else []
        )
        if x["status"] == "ACTIVE"
    ]
    revisions = ecs.list_task_definitions(familyPrefix=s.task_definition.family, status="ACTIVE")[
        "taskDefinitionArns"
    ]
    dbs = [
        d
        for d in rds.describe_db_instances()["DBInstances"]
        if d["DBInstanceIdentifier"] == s.database.identifier
    ]
    rules = sum(len(g["IpPermissions"]) for g in groups)
    return Counter(
        {
            "security group": len(groups),
            "ingress rule": rules,
            "load balancer": len(lbs),
            "target group": len(tgs),
            "listener": listeners,
            "cluster": len(clusters),
            "service": len(services),
            "task definition": len(revisions),
            "database": len(dbs),
        }
    )


COMPLETE = Counter(
    {
        "security group": 3,
        "ingress rule": 3,
        "load balancer": 1,
        "target group": 1,
        "listener": 1,
        "cluster": 1,
        "service": 1,
        "task definition": 1,
        "database": 1,
    }
)


def has_tag(tags: Any, deployment: str) -> bool:
    items = (
        tags.items()
        if isinstance(tags, dict)
        else ((t.get("Key", t.get("key")), t.get("Value", t.get("value"))) for t in tags or [])
    )
    return (DEPLOYMENT_TAG, deployment) in list(items)


def one_task_stopped(ecs: Any, reason: str, **container: Any) -> None:
    """A Stubber's answers for the service's one task (arn:task/abc), stopped for `reason`,
    its container `todo-api` with `container`'s fields (an exit code, say)."""
    ecs.add_response("list_tasks", {"taskArns": ["arn:task/abc"]})
    stopped = {"name": "todo-api", **container}
    task = {"taskArn": "arn:task/abc", "stoppedReason": reason, "containers": [stopped]}
    ecs.add_response("describe_tasks", {"tasks": [task]})
