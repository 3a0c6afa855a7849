"""One warm-up for the benches: moto builds an account's backends on first use (about a
second for EC2's default VPC, two for IAM's managed policies), which AWS never takes; a bench
pays it before it starts its clock, on each side it compares."""

from __future__ import annotations

from runbook.aws import Aws

CALLS = (
    ("ec2", "describe_vpcs"),
    ("iam", "list_roles"),
    ("ecs", "list_clusters"),
    ("rds", "describe_db_instances"),
    ("elbv2", "describe_load_balancers"),
    ("logs", "describe_log_groups"),
    ("ecr", "describe_repositories"),
    ("secretsmanager", "list_secrets"),
    ("sts", "get_caller_identity"),
)


def warm_up(aws: Aws) -> None:
    """One cheap read per service the deployment uses, in aws's account."""
    for service, operation in CALLS:
        aws.call(service, operation)
