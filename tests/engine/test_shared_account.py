"""A shared account: roles others made stay as they are; two deployments never touch each other."""

from __future__ import annotations

import json
from typing import Any

import pytest

from runbook import destroy as tear_down
from runbook.events import CallMade
from runbook.settings import Settings
from runbook.state import StateFile
from runbook.steps.roles import EXECUTION_POLICY
from tests.engine.helpers import has_tag, inventory

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)
OTHER_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
}


def hand_made_roles(aws: Any, *, tag_as: str | None = None) -> None:
    """What another team made by hand: the guide's role, and two roles of other services."""
    iam = aws.client("iam")
    extra = {"Tags": [{"Key": "fargate-runbook:deployment", "Value": tag_as}]} if tag_as else {}
    iam.create_role(RoleName="ecsTaskExecutionRole", AssumeRolePolicyDocument=TRUST, **extra)
    iam.attach_role_policy(RoleName="ecsTaskExecutionRole", PolicyArn=f"arn:aws{EXECUTION_POLICY}")
    iam.put_role_policy(
        RoleName="ecsTaskExecutionRole",
        PolicyName="billing-reads-its-bucket",
        PolicyDocument=json.dumps(OTHER_POLICY),
    )
    if tag_as:
        # What an older runbook left on it: a fixed-name policy naming one deployment's secret.
        iam.put_role_policy(
            RoleName="ecsTaskExecutionRole",
            PolicyName="fargate-runbook-read-db-secret",
            PolicyDocument=json.dumps(OTHER_POLICY),
        )
    for name in ("billing-task-role", "reports-task-role"):
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)
        iam.put_role_policy(
            RoleName=name, PolicyName="own-bucket", PolicyDocument=json.dumps(OTHER_POLICY)
        )


def roles_as_they_are(aws: Any) -> dict[str, Any]:
    """Every role of the account with its policies and tags (ours excluded by name)."""
    iam = aws.client("iam")
    seen = {}
    for role in iam.list_roles()["Roles"]:
        name = role["RoleName"]
        if name.startswith(("flask-todo-", "other-")) or role["Path"].startswith("/aws-service"):
            continue
        attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
        inline = {
            p: iam.get_role_policy(RoleName=name, PolicyName=p)["PolicyDocument"]
            for p in iam.list_role_policies(RoleName=name)["PolicyNames"]
        }
        tags = iam.list_role_tags(RoleName=name)["Tags"]
        seen[name] = (sorted(p["PolicyArn"] for p in attached), inline, tags)
    return seen


@pytest.mark.parametrize("execution_role", ["", "ecsTaskExecutionRole"])
def test_roles_others_made_are_kept_unchanged(
    make_runbook, aws, settings, execution_role: str
) -> None:
    hand_made_roles(aws)
    before = roles_as_they_are(aws)
    assert set(before) == {"ecsTaskExecutionRole", "billing-task-role", "reports-task-role"}
    if execution_role:
        settings = settings.replace("task_definition", execution_role=execution_role)
    runbook = make_runbook(settings=settings)
    runbook.deploy()
    assert roles_as_they_are(aws) == before
    td = aws.client("ecs").describe_task_definition(taskDefinition="flask-todo")["taskDefinition"]
    (container,) = td["containerDefinitions"]
    env = {e["name"]: e["value"] for e in container["environment"]}
    secret_arn = runbook.known["flask-todo-db.MasterUserSecret.SecretArn"]
    assert env["DB_SECRET_ARN"] == secret_arn
    if execution_role:
        # That role may not read our secret: no injection, the app reads it with its task role.
        assert td["executionRoleArn"].endswith("/ecsTaskExecutionRole")
        assert "secrets" not in container or not container["secrets"]
    else:
        assert td["executionRoleArn"].endswith("/flask-todo-execution-role")
        assert container["secrets"][0]["valueFrom"] == secret_arn + ":password::"
    make_runbook(settings=settings).deploy()  # a second run changes nothing of theirs either
    assert roles_as_they_are(aws) == before
    destroy = make_runbook(settings=settings)
    tear_down.run(destroy, tear_down.plan(destroy))
    assert roles_as_they_are(aws) == before
    names = {r["RoleName"] for r in aws.client("iam").list_roles()["Roles"]}
    assert not {"flask-todo-execution-role", "flask-todo-task-role"} & names


def test_the_guides_role_tagged_by_an_older_runbook_is_never_deleted(
    make_runbook, aws, settings
) -> None:
    hand_made_roles(aws, tag_as="flask-todo")
    before = roles_as_they_are(aws)
    settings = settings.replace("task_definition", execution_role="ecsTaskExecutionRole")
    runbook = make_runbook(settings=settings)
    runbook.deploy()
    plan = tear_down.plan(make_runbook(settings=settings))
    assert all(a.params.get("RoleName") != "ecsTaskExecutionRole" for a in plan)
    tear_down.run(make_runbook(settings=settings), plan)
    assert roles_as_they_are(aws) == before


def test_a_named_account_role_that_is_missing_is_never_created(make_runbook, settings) -> None:
    from runbook.errors import RunbookError

    settings = settings.replace("task_definition", execution_role="ecsTaskExecutionRole")
    runbook = make_runbook(settings=settings)
    for number in ("I", "II", "III", "IV"):
        runbook.apply(runbook.step(number))
    with pytest.raises(RunbookError) as caught:
        runbook.apply(runbook.step("V"))
    assert caught.value.problem.code == "AccountRoleMissing"
    assert "task_definition.execution_role" in caught.value.problem.advice


def test_two_deployments_in_one_account_never_touch_each_other(
    make_runbook, aws, tmp_path, events
) -> None:
    first = Settings.for_deployment("flask-todo").replace("database", instance_class="db.t4g.micro")
    second = Settings.for_deployment("other").replace("database", instance_class="db.t4g.micro")
    one = make_runbook(settings=first, state=StateFile(tmp_path / "one.json"))
    two = make_runbook(settings=second, state=StateFile(tmp_path / "two.json"))
    one.deploy()
    two.deploy()
    assert sum(inventory(aws, second).values()) == sum(inventory(aws, first).values())

    undo = make_runbook(settings=first, state=StateFile(tmp_path / "one.json"))
    tear_down.run(undo, tear_down.plan(undo))
    assert sum(inventory(aws, first).values()) == 0

    events.clear()
    again = make_runbook(settings=second, state=StateFile(tmp_path / "two.json"))
    again.deploy()
    changing = [e for e in events if isinstance(e, CallMade) and e.mutating]
    assert changing == []

    iam, secrets = aws.client("iam"), aws.client("secretsmanager")
    secret_arn = again.known["other-db.MasterUserSecret.SecretArn"]
    assert secrets.describe_secret(SecretId=secret_arn)["ARN"] == secret_arn
    policy = iam.get_role_policy(RoleName="other-task-role", PolicyName="other-read-db-secret")
    statement = policy["PolicyDocument"]["Statement"][0]
    assert (statement["Action"], statement["Resource"]) == (
        "secretsmanager:GetSecretValue",
        secret_arn,
    )
    assert has_tag(iam.list_role_tags(RoleName="other-task-role")["Tags"], "other")
    td = aws.client("ecs").describe_task_definition(taskDefinition="other")["taskDefinition"]
    assert td["taskRoleArn"].endswith("/other-task-role")
