"""The same kinds of rule on the calls themselves: a value forced past settings never leaves."""

from __future__ import annotations

from typing import Any

import pytest

from runbook.aws_rules import check
from runbook.plan import ApiCall
from runbook.settings import Settings
from runbook.steps import STEPS
from tests.engine.test_name_rules import EDGES


def _refused(service: str, operation: str, params: dict[str, Any]) -> dict[str, str]:
    return {r.param: r.rule for r in check(ApiCall(service, operation, params, "test"), {})}


def _group(name: str) -> dict[str, str]:
    params = {"GroupName": name, "Description": "web", "VpcId": "vpc-1"}
    return _refused("ec2", "create_security_group", params)


def test_create_security_group_refuses_default_in_any_case_and_takes_near_names() -> None:
    assert "GroupName" in _group("default")
    assert "GroupName" in _group("DEFAULT")
    assert _group("default-web") == {}


@pytest.mark.parametrize(("name", "refused"), [("aws/x", True), ("/aws/x", False), ("awsx", False)])
def test_create_log_group_and_the_reserved_prefix(name: str, refused: bool) -> None:
    assert (
        "logGroupName" in _refused("logs", "create_log_group", {"logGroupName": name})
    ) is refused


@pytest.mark.parametrize(("label", "refused"), [(52, False), (53, True)])
def test_request_certificate_first_domain_at_most_64(label: int, refused: bool) -> None:
    params = {"DomainName": "a" * label + ".example.com", "ValidationMethod": "DNS"}
    assert ("DomainName" in _refused("acm", "request_certificate", params)) is refused


def _db(**changes: str) -> dict[str, str]:
    params = {
        "DBInstanceIdentifier": "todo-db",
        "Engine": "postgres",
        "EngineVersion": "16",
        "MasterUsername": "flask_todo",
        "DBInstanceClass": "db.t4g.micro",
        **changes,
    }
    return _refused("rds", "create_db_instance", params)


@pytest.mark.parametrize(
    ("version", "refused"),
    [("16", False), ("16.9", False), ("16.99", True), ("16.4", True), ("10", True)],
)
def test_create_db_instance_engine_minors_rds_has(version: str, refused: bool) -> None:
    assert ("EngineVersion" in _db(EngineVersion=version)) is refused


@pytest.mark.parametrize(
    ("user", "refused"),
    [
        ("postgres", False),
        ("a" * 16, False),
        ("rdsadmin", True),
        ("select", True),
        ("a" * 17, True),
    ],
)
def test_create_db_instance_master_user_names(user: str, refused: bool) -> None:
    assert ("MasterUsername" in _db(MasterUsername=user)) is refused


@pytest.mark.parametrize(("image", "refused"), [("todo:latest", False), ("Todo:latest", True)])
def test_register_task_definition_image_case(image: str, refused: bool) -> None:
    params = {"family": "todo", "containerDefinitions": [{"name": "web", "image": image}]}
    found = _refused("ecs", "register_task_definition", params)
    assert ("containerDefinitions[0].image" in found) is refused


def _task(cpu: str, memory: str, hard: int = 400, soft: int = 300) -> dict[str, str]:
    params = {
        "family": "todo",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": cpu,
        "memory": memory,
        "containerDefinitions": [
            {"name": "web", "image": "nginx", "memory": hard, "memoryReservation": soft}
        ],
    }
    return _refused("ecs", "register_task_definition", params)


@pytest.mark.parametrize(
    ("cpu", "memory", "refused"),
    [
        ("256", "512", None),
        (".25 vCPU", "0.5 GB", None),
        ("32768", "249856", None),
        ("0.25 vCPU", "512", "cpu"),
        ("256", "1536", "memory"),
    ],
)
def test_register_task_definition_fargate_sizes(cpu: str, memory: str, refused: str) -> None:
    assert set(_task(cpu, memory)) == ({refused} if refused else set())


@pytest.mark.parametrize(("hard", "soft", "refused"), [(400, 399, False), (400, 400, True)])
def test_register_task_definition_soft_limit_below_the_hard_one(
    hard: int, soft: int, refused: bool
) -> None:
    found = _task("256", "512", hard, soft)
    assert ("containerDefinitions[0].memoryReservation" in found) is refused


def test_target_groups_may_start_internal_load_balancers_may_not() -> None:
    group = {"Name": "internal-tg", "Protocol": "HTTP", "Port": 80, "VpcId": "vpc-1"}
    assert _refused("elbv2", "create_target_group", group) == {}
    assert "Name" in _refused("elbv2", "create_load_balancer", {"Name": "internal-lb"})


@pytest.mark.parametrize(("timeout", "refused"), [(4, False), (5, True)])
def test_health_check_timeout_below_the_interval(timeout: int, refused: bool) -> None:
    group = {
        "Name": "tg",
        "HealthCheckIntervalSeconds": 5,
        "HealthCheckTimeoutSeconds": timeout,
        "HealthCheckPath": "/healthz",
    }
    found = _refused("elbv2", "create_target_group", group)
    assert ("HealthCheckTimeoutSeconds" in found) is refused


@pytest.mark.parametrize(("name", "refused"), [("todo-role", False), ("tödo-role", True)])
def test_iam_patterns_are_ascii_as_aws_reads_them(name: str, refused: bool) -> None:
    params = {"RoleName": name, "AssumeRolePolicyDocument": "{}"}
    assert ("RoleName" in _refused("iam", "create_role", params)) is refused


def test_tags_still_take_letters_of_any_script() -> None:
    params = {"clusterName": "todo", "tags": [{"key": "équipe", "value": "café"}]}
    assert _refused("ecs", "create_cluster", params) == {}


@pytest.mark.parametrize(("name", "refused"), [("SG-web", True), ("web-sg", False)])
def test_create_security_group_sg_prefix_in_any_case(name: str, refused: bool) -> None:
    assert ("GroupName" in _group(name)) is refused


@pytest.mark.parametrize(("count", "refused"), [(1, False), (0, True)])
def test_lifecycle_policy_counts(count: int, refused: bool) -> None:
    text = (
        '{"rules":[{"rulePriority":1,"description":"keep the last versions","selection":'
        f'{{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":{count}}},'
        '"action":{"type":"expire"}}]}'
    )
    found = _refused(
        "ecr", "put_lifecycle_policy", {"repositoryName": "todo", "lifecyclePolicyText": text}
    )
    assert ("lifecyclePolicyText" in found) is refused


@pytest.mark.parametrize(("target", "refused"), [(100.0, False), (0.0, True), (101.0, True)])
def test_cpu_target_is_a_percentage(target: float, refused: bool) -> None:
    params = {
        "ServiceNamespace": "ecs",
        "ResourceId": "service/c/s",
        "ScalableDimension": "ecs:service:DesiredCount",
        "PolicyName": "cpu",
        "PolicyType": "TargetTrackingScalingPolicy",
        "TargetTrackingScalingPolicyConfiguration": {"TargetValue": target},
    }
    found = _refused("application-autoscaling", "put_scaling_policy", params)
    assert ("TargetTrackingScalingPolicyConfiguration.TargetValue" in found) is refused


# -- both layers agree: what settings take, the plan's calls take; what they refuse, too ------

# Not AWS's limits but the runbook's own (a rollback needs the version before), or a quota
# the calls cannot know is raised: the settings' rule alone.
SETTINGS_ONLY = {("task_definition", "images_kept")}


def _plan_refusals(s: Settings) -> list[str]:
    return [str(r) for step in STEPS for a in step.plan(s, None) for r in check(a, {})]


@pytest.mark.parametrize(
    ("section", "field", "takes", "refuses"),
    [e for e in EDGES if (e[0], e[1]) not in SETTINGS_ONLY],
)
def test_the_plans_calls_agree_with_the_settings_at_each_edge(
    section: str, field: str, takes: object, refuses: object
) -> None:
    base = (
        Settings()
        .replace("task_definition", image="nginx")
        .replace("database", instance_class="db.t4g.micro")
        .replace("domain", name="todo.example.com")
        .replace("auto_scaling", max_tasks=5000)
    )
    assert _plan_refusals(base.replace(section, **{field: takes})) == []
    assert _plan_refusals(base.replace(section, **{field: refuses})) != []
