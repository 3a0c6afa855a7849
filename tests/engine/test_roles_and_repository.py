"""The deployment's roles as AWS recommends (trust held to this account, the execution role
scoped to this deployment), an older deployment's roles brought to that on resume, and the
image repository keeping the versions a rollback needs."""

from __future__ import annotations

import json
from typing import Any

from runbook import destroy as tear_down
from runbook.settings import DEPLOYMENT_TAG
from runbook.steps.roles import EXECUTION_POLICY
from runbook.validation import validate

OLD_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ecs-tasks.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def account_of(aws: Any) -> str:
    return aws.client("sts").get_caller_identity()["Account"]


def run(runbook: Any, *numbers: str) -> None:
    for number in numbers:
        runbook.apply(runbook.step(number))


def test_both_roles_trust_ecs_only_on_this_accounts_behalf(make_runbook, aws) -> None:
    run(make_runbook(), "I", "II", "III", "IV", "V")
    account, iam = account_of(aws), aws.client("iam")
    for name in ("flask-todo-execution-role", "flask-todo-task-role"):
        (statement,) = iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
        assert statement["Condition"] == {
            "StringEquals": {"aws:SourceAccount": account},
            "ArnLike": {"aws:SourceArn": f"arn:aws:ecs:us-east-1:{account}:*"},
        }
    # The execution role: no account-wide policy, only this deployment's resources.
    assert not iam.list_attached_role_policies(RoleName="flask-todo-execution-role")[
        "AttachedPolicies"
    ]
    access = iam.get_role_policy(
        RoleName="flask-todo-execution-role", PolicyName="flask-todo-pull-image-write-logs"
    )["PolicyDocument"]
    resources = {
        action: statement["Resource"]
        for statement in access["Statement"]
        for action in (
            [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        )
    }
    assert resources["ecr:GetAuthorizationToken"] == "*"
    assert resources["ecr:BatchGetImage"] == (
        f"arn:aws:ecr:us-east-1:{account}:repository/flask-todo"
    )
    group = f"arn:aws:logs:us-east-1:{account}:log-group:/ecs/flask-todo"
    assert resources["logs:PutLogEvents"] == [group, f"{group}:*"]
    assert all(r != "*" for a, r in resources.items() if a != "ecr:GetAuthorizationToken")


def test_an_older_deployments_roles_are_brought_up_to_date_on_resume(
    make_runbook, aws, events
) -> None:
    """An older runbook made the roles with no conditions and the managed policy attached:
    the next deploy sets the trust, puts the scoped policy, then detaches the managed one."""
    run(make_runbook(), "I", "II", "III", "IV")
    iam = aws.client("iam")
    for name in ("flask-todo-execution-role", "flask-todo-task-role"):
        iam.create_role(
            RoleName=name,
            AssumeRolePolicyDocument=json.dumps(OLD_TRUST),
            Tags=[{"Key": DEPLOYMENT_TAG, "Value": "flask-todo"}],
        )
    iam.attach_role_policy(
        RoleName="flask-todo-execution-role", PolicyArn=f"arn:aws{EXECUTION_POLICY}"
    )
    # The person's own addition to the task role stays: only the old managed policy goes.
    iam.attach_role_policy(
        RoleName="flask-todo-task-role", PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    )

    runbook = make_runbook()
    plan = [(a.operation, a.params.get("RoleName")) for a in runbook.plan(runbook.step("V"))]
    execution = [op for op, role in plan if role == "flask-todo-execution-role"]
    assert execution[:3] == ["update_assume_role_policy", "put_role_policy", "detach_role_policy"]
    assert ("detach_role_policy", "flask-todo-task-role") not in plan
    runbook.apply(runbook.step("V"))

    account = account_of(aws)
    for name in ("flask-todo-execution-role", "flask-todo-task-role"):
        trust = iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]
        assert trust["Statement"][0]["Condition"]["StringEquals"] == {"aws:SourceAccount": account}
    assert not iam.list_attached_role_policies(RoleName="flask-todo-execution-role")[
        "AttachedPolicies"
    ]
    (kept,) = iam.list_attached_role_policies(RoleName="flask-todo-task-role")["AttachedPolicies"]
    assert kept["PolicyName"] == "AmazonS3ReadOnlyAccess"
    # Up to date now: a second look changes no role.
    again = make_runbook()
    assert [a.operation for a in again.plan(again.step("V")) if a.params.get("RoleName")] == []
    # And destroy still removes both roles, the person's attachment included.
    tear_down.run(again, tear_down.plan(again))
    names = {r["RoleName"] for r in iam.list_roles()["Roles"]}
    assert not names & {"flask-todo-execution-role", "flask-todo-task-role"}


def test_the_repository_keeps_the_last_versions_and_follows_the_setting(
    make_runbook, aws, settings
) -> None:
    run(make_runbook(), "I", "II", "III")
    ecr = aws.client("ecr")

    def kept() -> int:
        text = ecr.get_lifecycle_policy(repositoryName="flask-todo")["lifecyclePolicyText"]
        (rule,) = json.loads(text)["rules"]
        assert rule["selection"]["tagStatus"] == "any"
        assert rule["action"] == {"type": "expire"}
        return int(rule["selection"]["countNumber"])

    assert kept() == 10
    five = make_runbook(settings=settings.replace("task_definition", images_kept=5))
    assert [a.operation for a in five.plan(five.step("III"))] == ["put_lifecycle_policy"]
    five.apply(five.step("III"))
    assert kept() == 5
    assert (
        make_runbook(settings=settings.replace("task_definition", images_kept=5)).plan(
            five.step("III")
        )
        == []
    )


def test_images_kept_is_checked_before_any_call(settings) -> None:
    # 2: a rollback needs the version before; ECR's images per repository quota: 100,000.
    for bad in (0, 1, 100_001):
        (error,) = validate(settings.replace("task_definition", images_kept=bad))
        assert (error.field, error.rule) == (
            "images_kept",
            "must be a number of images between 2 and 100000",
        )
    for good in (2, 1001, 100_000):
        assert validate(settings.replace("task_definition", images_kept=good)) == []
