"""The documents of the deployment's roles: who may assume them, and what each may do.

Trust: ECS's service principal, held to this account (aws:SourceAccount) and to ECS in this
region and account (aws:SourceArn), the confused-deputy conditions ECS documents for task
roles; ECS does not support naming one cluster there ("use the wildcard to specify all
clusters", Amazon ECS task IAM role). The execution role's permissions are this deployment's
own, in place of the account-wide AmazonECSTaskExecutionRolePolicy (whose actions are these,
on every resource): pulling from its one repository, writing to its one log group, and
reading its one secret; ecr:GetAuthorizationToken names no resource, so it takes "*".

Every document is built from (partition, region, account): the plan fills in the account
once known ("{}"), the export gives CloudFormation's pseudo parameters.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from runbook.api_index import index
from runbook.settings import Settings

ECS_TASKS = "ecs-tasks.amazonaws.com"  # the same in every partition
# Where the account id goes in a planned document, until discovery knows it.
ACCOUNT = "{}"
ACCOUNT_KEY = "account.Id"
_ECR_IMAGE = re.compile(
    r"(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<name>[^:@]+)"
)


@functools.cache
def partition(region: str) -> str:
    """aws, aws-cn, aws-us-gov, ...: from botocore's own endpoint data (through the index)."""
    return index().partition(region)


def trust(part: str, region: str, account: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": ECS_TASKS},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account},
                    "ArnLike": {"aws:SourceArn": f"arn:{part}:ecs:{region}:{account}:*"},
                },
            }
        ],
    }


def repository_arn(s: Settings, part: str, region: str, account: str) -> str | None:
    """The repository the task pulls from: ours, an ECR image's, or none (another registry)."""
    image = s.task_definition.image
    if not image:
        return f"arn:{part}:ecr:{region}:{account}:repository/{s.task_definition.family}"
    found = _ECR_IMAGE.match(image)
    if found is None:
        return None
    return (
        f"arn:{partition(found['region'])}:ecr:{found['region']}:{found['account']}:"
        f"repository/{found['name']}"
    )


def execution_access(s: Settings, part: str, region: str, account: str) -> dict[str, Any]:
    """What ECS needs to start the task: its image, its log group and the app's own secrets,
    nothing else."""
    group = f"arn:{part}:logs:{region}:{account}:log-group:{s.cluster.log_group}"
    statements: list[dict[str, Any]] = []
    repository = repository_arn(s, part, region, account)
    if repository:
        statements += [
            # "GetAuthorizationToken ... the resource must be *" (ECR User Guide, IAM).
            {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": [
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:BatchGetImage",
                ],
                "Resource": repository,
            },
        ]
    if s.app.secrets:
        from runbook.steps.app_secrets import policy_resource

        # The app's own secrets ([app] secrets), which ECS injects at task start.
        statements.append(
            {
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": policy_resource(s, part, region, account),
            }
        )
    statements.append(
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            # The group, and its streams (log-group:<name>:log-stream:<stream>).
            "Resource": [group, f"{group}:*"],
        }
    )
    return {"Version": "2012-10-17", "Statement": statements}
