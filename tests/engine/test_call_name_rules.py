"""The same kinds of rule on the calls themselves: a value forced past settings never leaves."""

from __future__ import annotations

from typing import Any

import pytest

from runbook.aws_rules import check
from runbook.plan import ApiCall


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


@pytest.mark.parametrize(("version", "refused"), [("16", False), ("16.4", False), ("16.99", True)])
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
