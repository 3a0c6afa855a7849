"""A full deploy against the emulator: what it makes, and that a second deploy makes nothing."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from runbook.events import CallMade, StepFinished, Waiting
from tests.engine.helpers import COMPLETE, has_tag, inventory


def test_full_deploy_makes_the_guides_resources(make_runbook, aws, settings, events) -> None:
    summary = make_runbook().deploy()
    assert inventory(aws, settings) == COMPLETE
    assert summary.dns_name.startswith("flask-todo-elb")
    assert summary.probe and not summary.probe.ok and summary.notes  # the emulator says so
    finished = [(e.section, e.status) for e in events if isinstance(e, StepFinished)]
    assert finished == [(n, "done") for n in ("I", "II", "III", "IV", "V", "VI")] + [
        ("VII", "skipped"),  # beyond the guide: off by default
        ("VIII", "skipped"),
    ]
    waited = {e.what.split(" ")[0] for e in events if isinstance(e, Waiting)}
    assert {"database", "service", "load"} <= waited

    ecs = aws.client("ecs")
    (svc,) = ecs.describe_services(
        cluster="flask-todo-cluster", services=["flask-todo-service"], include=["TAGS"]
    )["services"]
    net = svc["networkConfiguration"]["awsvpcConfiguration"]
    assert net["assignPublicIp"] == "ENABLED" and len(net["subnets"]) >= 2
    # moto drops the grace period and circuit breaker from its answer: check what was sent.
    (sent,) = [
        e.params for e in events if isinstance(e, CallMade) and e.operation == "create_service"
    ]
    assert sent["healthCheckGracePeriodSeconds"] == 60
    breaker = sent["deploymentConfiguration"]["deploymentCircuitBreaker"]
    assert breaker == {"enable": True, "rollback": True}
    assert svc["loadBalancers"][0]["containerPort"] == 5000
    assert has_tag(svc["tags"], "flask-todo")

    (db,) = aws.client("rds").describe_db_instances()["DBInstances"]
    assert db["PubliclyAccessible"] is False and db["StorageEncrypted"] is True
    assert db["DBInstanceClass"] == "db.t4g.micro"
    assert has_tag(db["TagList"], "flask-todo")

    td = ecs.describe_task_definition(taskDefinition="flask-todo")["taskDefinition"]
    (container,) = td["containerDefinitions"]
    assert (
        container["secrets"][0]["valueFrom"] == db["MasterUserSecret"]["SecretArn"] + ":password::"
    )
    env = {e["name"]: e["value"] for e in container["environment"]}
    assert env["DB_HOST"] == db["Endpoint"]["Address"]
    assert env["DB_SECRET_ARN"] == db["MasterUserSecret"]["SecretArn"]
    iam = aws.client("iam")
    role = iam.get_role(RoleName="flask-todo-execution-role")["Role"]
    assert td["executionRoleArn"] == role["Arn"] and has_tag(role["Tags"], "flask-todo")
    # Its own policy, scoped to this deployment, not the account-wide managed one.
    attached = iam.list_attached_role_policies(RoleName="flask-todo-execution-role")
    assert attached["AttachedPolicies"] == []
    access = iam.get_role_policy(
        RoleName="flask-todo-execution-role", PolicyName="flask-todo-pull-image-write-logs"
    )["PolicyDocument"]
    resources = {json.dumps(st["Resource"]) for st in access["Statement"]}
    assert '"*"' in resources  # ecr:GetAuthorizationToken only
    assert any(":repository/flask-todo" in r for r in resources)
    assert any(":log-group:/ecs/flask-todo" in r for r in resources)
    task_role = iam.get_role(RoleName="flask-todo-task-role")["Role"]
    assert td["taskRoleArn"] == task_role["Arn"] and has_tag(task_role["Tags"], "flask-todo")
    policy = iam.get_role_policy(
        RoleName="flask-todo-task-role", PolicyName="flask-todo-read-db-secret"
    )["PolicyDocument"]
    assert policy["Statement"][0]["Resource"] == db["MasterUserSecret"]["SecretArn"]
    assert not iam.list_attached_role_policies(RoleName="flask-todo-task-role")["AttachedPolicies"]

    (lb,) = aws.client("elbv2").describe_load_balancers(Names=["flask-todo-elb"])["LoadBalancers"]
    lb_attrs = aws.client("elbv2").describe_load_balancer_attributes(
        LoadBalancerArn=lb["LoadBalancerArn"]
    )["Attributes"]
    assert {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"} in lb_attrs

    tg = aws.client("elbv2").describe_target_groups(Names=["flask-todo-elb-target-group"])[
        "TargetGroups"
    ][0]
    assert (tg["TargetType"], tg["HealthCheckPath"], tg["HealthCheckIntervalSeconds"]) == (
        "ip",
        "/healthz",
        15,
    )


def test_second_deploy_only_reads(make_runbook, aws, events) -> None:
    make_runbook().deploy()
    events.clear()
    aws.calls.clear()
    make_runbook().deploy()
    assert [e.operation for e in events if isinstance(e, CallMade) and e.mutating] == []
    written = [
        op
        for op in aws.calls
        if op.split(".")[1].startswith(
            ("Create", "Put", "Register", "Update", "Modify", "Authorize", "Attach", "Add", "Tag")
        )
    ]
    assert written == []
    # About one read per resource; and the account (the roles' trust names it), the
    # execution role's own policy, the repository's lifecycle policy, and whether today's
    # final snapshot name is free.
    assert sum(aws.calls.values()) <= 34


def test_state_file_is_private_and_holds_no_secret(
    make_runbook, state_path: Path, monkeypatch, settings
) -> None:
    from dataclasses import replace

    password = "Sup3r-secret-pw!"
    make_runbook(settings=replace(settings, master_password=password)).deploy()
    assert stat.S_IMODE(os.stat(state_path).st_mode) == 0o600
    text = state_path.read_text()
    assert password not in text
    assert '"VI"' in text and '"done"' in text


def test_a_changed_setting_is_rolled_out(make_runbook, aws, settings) -> None:
    make_runbook().deploy()
    bigger = settings.replace("task_definition", cpu="512", memory="1024")
    make_runbook(settings=bigger).deploy()
    svc = aws.client("ecs").describe_services(
        cluster="flask-todo-cluster", services=["flask-todo-service"]
    )["services"][0]
    assert svc["taskDefinition"].endswith(":2")
    td = aws.client("ecs").describe_task_definition(taskDefinition="flask-todo")["taskDefinition"]
    assert (td["cpu"], td["memory"]) == ("512", "1024")
