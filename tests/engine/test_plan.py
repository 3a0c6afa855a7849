"""Plans as pure data: what each section would call, checked against botocore's models."""

from __future__ import annotations

import json

import pytest

from runbook.model_check import check
from runbook.plan import ApiCall, Ref, Wait, describe, render
from runbook.settings import Settings
from runbook.steps import STEPS


def offline(settings: Settings, number: str) -> list:
    step = next(s for s in STEPS if s.number == number)
    return step.plan(settings, None)


def calls(settings: Settings, number: str, operation: str) -> list[ApiCall]:
    return [a for a in offline(settings, number) if a.operation == operation]


@pytest.mark.parametrize("step", STEPS, ids=lambda s: s.number)
def test_every_planned_call_fits_botocores_model(step) -> None:
    everything_on = (
        Settings(master_password="s3cret-Pass!")
        .replace("domain", name="todo.example.com")
        .replace("auto_scaling", max_tasks=4)
    )
    actions = step.plan(everything_on, None)
    assert actions
    for action in actions:
        assert check(action) is None, (action.operation, check(action))


def test_a_broken_call_is_caught_by_the_model_check() -> None:
    bad = ApiCall("ec2", "create_security_group", {"GroupName": 5}, "why")
    assert "GroupName" in (check(bad) or "")
    assert "no operation" in (check(ApiCall("ec2", "make_coffee", {}, "why")) or "")


def test_security_groups_are_chained() -> None:
    rules = {
        a.params["GroupId"].key: a.params["IpPermissions"][0]
        for a in calls(Settings(), "I", "authorize_security_group_ingress")
    }
    assert rules["flask-todo-elb-sg.GroupId"]["IpRanges"][0]["CidrIp"] == "0.0.0.0/0"
    assert rules["flask-todo-elb-sg.GroupId"]["FromPort"] == 80
    ecs = rules["flask-todo-ecs-sg.GroupId"]
    assert (ecs["FromPort"], ecs["UserIdGroupPairs"][0]["GroupId"]) == (
        5000,
        Ref("flask-todo-elb-sg.GroupId"),
    )
    db = rules["flask-todo-db-sg.GroupId"]
    assert (db["FromPort"], db["UserIdGroupPairs"][0]["GroupId"]) == (
        5432,
        Ref("flask-todo-ecs-sg.GroupId"),
    )
    assert "IpRanges" not in ecs and "IpRanges" not in db


def test_load_balancer_section() -> None:
    s = Settings()
    (tg,) = calls(s, "II", "create_target_group")
    assert tg.params["TargetType"] == "ip"
    assert (tg.params["Port"], tg.params["HealthCheckPath"]) == (5000, "/healthz")
    assert (tg.params["HealthCheckIntervalSeconds"], tg.params["HealthyThresholdCount"]) == (15, 2)
    (attrs,) = calls(s, "II", "modify_target_group_attributes")
    assert attrs.params["Attributes"] == [
        {"Key": "deregistration_delay.timeout_seconds", "Value": "30"}
    ]
    (lb,) = calls(s, "II", "create_load_balancer")
    assert lb.params["Scheme"] == "internet-facing"
    assert lb.params["Subnets"] == Ref("default-vpc.SubnetIds")
    (listener,) = calls(s, "II", "create_listener")
    assert (listener.params["Port"], listener.params["Protocol"]) == (80, "HTTP")
    (lb_attrs,) = calls(s, "II", "modify_load_balancer_attributes")
    assert lb_attrs.params["Attributes"] == [
        {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"}
    ]


def test_cluster_section_makes_what_a_fresh_account_lacks() -> None:
    ops = [a.operation for a in offline(Settings(), "III")]
    assert ops == [
        "create_service_linked_role",
        "create_cluster",
        "create_log_group",
        "put_retention_policy",
        "create_repository",  # before the database wait: the image is built meanwhile
        "put_lifecycle_policy",  # keeps the images a rollback needs, no more
    ]
    (cluster,) = calls(Settings(), "III", "create_cluster")
    assert "FARGATE" in cluster.params["capacityProviders"]
    (repository,) = calls(Settings(), "III", "create_repository")
    assert repository.params["imageTagMutability"] == "IMMUTABLE"  # a version is never rewritten


def test_with_an_image_of_ones_own_no_repository_is_made() -> None:
    own = Settings().replace("task_definition", image="public.ecr.aws/acme/todo:v3")
    assert "create_repository" not in [a.operation for a in offline(own, "III")]
    (register,) = calls(own, "V", "register_task_definition")
    assert register.params["containerDefinitions"][0]["image"] == "public.ecr.aws/acme/todo:v3"
    assert not [a for a in offline(own, "VI") if a.operation == "describe_images"]


def test_database_is_private_encrypted_and_password_never_handled() -> None:
    (create,) = calls(Settings(), "IV", "create_db_instance")
    p = create.params
    assert p["PubliclyAccessible"] is False and p["StorageEncrypted"] is True
    assert p["ManageMasterUserPassword"] is True and "MasterUserPassword" not in p
    assert p["VpcSecurityGroupIds"] == [Ref("flask-todo-db-sg.GroupId")]
    assert isinstance(offline(Settings(), "IV")[-1], Wait)


def test_a_password_of_ones_own_is_masked_everywhere() -> None:
    s = Settings(master_password="s3cret-Pass!")
    rows = json.dumps([describe(a, {}) for a in offline(s, "IV")])
    assert "s3cret-Pass!" not in rows
    assert "********" in rows
    assert [a.operation for a in offline(s, "IV")][:2] == ["create_secret", "create_db_instance"]


def test_task_definition_follows_the_guide_with_secrets_injected() -> None:
    (register,) = calls(Settings(), "V", "register_task_definition")
    p = register.params
    assert (p["cpu"], p["memory"], p["networkMode"]) == ("256", "512", "awsvpc")
    assert p["requiresCompatibilities"] == ["FARGATE"]
    (c,) = p["containerDefinitions"]
    assert (c["name"], c["memory"], c["memoryReservation"]) == ("todo-api", 500, 300)
    assert c["entryPoint"] == ["bin/flask-run.sh"]
    assert c["portMappings"][0]["containerPort"] == 5000
    env = {e["name"]: e["value"] for e in c["environment"]}
    assert {"DB_HOST", "DB_NAME", "DB_USER_NAME", "FLASK_APP", "FLASK_ENV", "PYTHONPATH"} <= set(
        env
    )
    assert env["FLASK_ENV"] == "production" and env["PYTHONPATH"] == "/app/src"
    assert env["DB_SSLMODE"] == "verify-full"
    assert env["DB_SSLROOTCERT"] == "/app/certs/rds-global-bundle.pem"
    assert render(env["DB_SECRET_ARN"], {}) == "<flask-todo-db.MasterUserSecret.SecretArn>"
    assert "DB_PWD" not in env
    assert render(c["secrets"], {}) == [
        {"name": "DB_PWD", "valueFrom": "<flask-todo-db.MasterUserSecret.SecretArn>:password::"}
    ]
    assert c["logConfiguration"]["logDriver"] == "awslogs"
    # This version of the app from section III's repository, never `latest`.
    assert render(c["image"], {}) == "<flask-todo-repository.image>"
    assert p["runtimePlatform"] == {"cpuArchitecture": "X86_64", "operatingSystemFamily": "LINUX"}
    assert render(p["executionRoleArn"], {}) == "<flask-todo-execution-role.Arn>"
    assert render(p["taskRoleArn"], {}) == "<flask-todo-task-role.Arn>"
    role_ops = [(a.operation, a.params.get("RoleName")) for a in offline(Settings(), "V")][:5]
    assert role_ops == [
        ("create_role", "flask-todo-execution-role"),
        ("put_role_policy", "flask-todo-execution-role"),
        ("put_role_policy", "flask-todo-execution-role"),
        ("create_role", "flask-todo-task-role"),
        ("put_role_policy", "flask-todo-task-role"),
    ]


def test_an_account_wide_execution_role_is_used_as_it_is() -> None:
    """The guide's ecsTaskExecutionRole: no call touches it, and ECS injects no secret."""
    s = Settings().replace("task_definition", execution_role="ecsTaskExecutionRole")
    actions = offline(s, "V")
    assert all(a.params.get("RoleName") != "ecsTaskExecutionRole" for a in actions)
    (register,) = [a for a in actions if a.operation == "register_task_definition"]
    (c,) = register.params["containerDefinitions"]
    assert "secrets" not in c
    assert "DB_SECRET_ARN" in {e["name"] for e in c["environment"]}
    assert "ecsTaskExecutionRole is the account's" in register.why


def test_service_turns_on_what_the_guide_leaves_off() -> None:
    (create,) = calls(Settings(), "VI", "create_service")
    p = create.params
    assert p["networkConfiguration"]["awsvpcConfiguration"]["assignPublicIp"] == "ENABLED"
    assert p["healthCheckGracePeriodSeconds"] == 60
    assert p["deploymentConfiguration"]["deploymentCircuitBreaker"] == {
        "enable": True,
        "rollback": True,
    }
    assert p["loadBalancers"][0]["containerName"] == "todo-api"
    assert p["launchType"] == "FARGATE"


def test_every_created_resource_is_tagged() -> None:
    s = Settings(master_password="s3cret-Pass!")
    for step in STEPS:
        for action in step.plan(s, None):
            if isinstance(action, ApiCall) and action.operation.startswith(
                ("create_", "register_")
            ):
                if action.operation in ("create_service_linked_role",):
                    continue  # shared by the account; never ours to delete
                text = json.dumps(render(action.params, {}))
                assert "fargate-runbook:deployment" in text, action.operation


def test_references_render_readably_and_resolve_once_known() -> None:
    (lb,) = calls(Settings(), "II", "create_load_balancer")
    assert render(lb.params["SecurityGroups"], {}) == ["<flask-todo-elb-sg.GroupId>"]
    assert render(lb.params["SecurityGroups"], {"flask-todo-elb-sg.GroupId": "sg-1"}) == ["sg-1"]
