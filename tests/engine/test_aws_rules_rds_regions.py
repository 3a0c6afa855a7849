"""RDS instance classes per region, both ways: cfn-lint ships RDS's orderable classes by region
(dbinstanceclass_enum); its data has db.t4g.micro for PostgreSQL in us-east-1 and not in
ca-west-1, so the same settings are taken in one region and refused in the other."""

from __future__ import annotations

import json
from typing import Any

import pytest

from runbook.aws import Aws
from runbook.aws_rules import CODE, check
from runbook.errors import RunbookError
from runbook.executor import Executor
from runbook.plan import ApiCall
from runbook.rules import cfn
from runbook.settings import Settings
from runbook.validation import validate


def db_call(klass: str, version: str = "16") -> ApiCall:
    params = {
        "DBInstanceIdentifier": "todo-db",
        "Engine": "postgres",
        "EngineVersion": version,
        "MasterUsername": "flask_todo",
        "DBInstanceClass": klass,
        "AllocatedStorage": 20,
    }
    return ApiCall("rds", "create_db_instance", params, "test")


def refused(klass: str, region: str | None) -> dict[str, str]:
    return {r.param: r.rule for r in check(db_call(klass), {}, region=region)}


def errors(region: str, klass: str) -> dict[str, str]:
    s = Settings().replace("deployment", region=region).replace("database", instance_class=klass)
    return {f"{e.section}.{e.field}": e.rule for e in validate(s)}


def test_the_data_shows_a_class_offered_in_one_region_and_not_another() -> None:
    assert "db.t4g.micro" in (cfn.instance_classes_in("postgres", "us-east-1") or ())
    assert "db.t4g.micro" not in (cfn.instance_classes_in("postgres", "ca-west-1") or ())


@pytest.mark.parametrize(
    ("region", "klass", "takes"),
    [
        ("us-east-1", "db.t4g.micro", True),
        ("ca-west-1", "db.t3.micro", True),
        ("ca-west-1", "db.t4g.micro", False),
        ("af-south-1", "db.t4g.micro", True),
    ],
)
def test_the_call_is_held_to_the_regions_classes(region: str, klass: str, takes: bool) -> None:
    found = refused(klass, region)
    assert ("DBInstanceClass" not in found) is takes
    if not takes:
        assert f"in {region}" in found["DBInstanceClass"]
        assert "db.t3.micro" in found["DBInstanceClass"]  # the class it does offer there


def test_without_a_region_the_call_is_held_to_the_versions_classes_alone() -> None:
    assert refused("db.t4g.micro", None) == {}
    assert "DBInstanceClass" in refused("db.t2.micro", None)  # not for PostgreSQL 16


def test_a_region_the_data_does_not_know_refuses_nothing_more() -> None:
    assert cfn.instance_classes_in("postgres", "xx-nowhere-1") is None
    assert refused("db.t4g.micro", "xx-nowhere-1") == {}


def test_settings_refuse_a_class_the_region_never_offers_and_name_one_it_does() -> None:
    says = errors("ca-west-1", "db.t4g.micro")["database.instance_class"]
    assert "ca-west-1" in says and "db.t3.micro" in says
    assert errors("ca-west-1", "db.t3.micro") == {}
    assert errors("us-east-1", "db.t4g.micro") == {}
    # The guide's db.t2.micro, offered in af-south-1 for no version at all: preflight offers
    # its replacement (as everywhere), and the call refuses it whatever the region.
    assert errors("af-south-1", "db.t2.micro") == {}
    assert "DBInstanceClass" in refused("db.t2.micro", "af-south-1")


def _from_cfn_lint(engine: str, region: str) -> set[str]:
    root = cfn._root() / "extensions" / f"{cfn.REGION_CLASSES}.json"
    table = json.loads(root.read_text())[region]["allOf"]
    found: set[str] = set()
    for entry in table:
        if entry["if"]["properties"].get("Engine", {}).get("const") == engine:
            found |= set(entry["then"]["properties"]["DBInstanceClass"]["enum"])
    return found


@pytest.mark.parametrize("region", ["us-east-1", "ca-west-1", "ap-east-2", "cn-north-1"])
def test_the_regions_classes_are_cfn_lints_own(region: str) -> None:
    assert cfn.instance_classes_in("postgres", region) == frozenset(
        _from_cfn_lint("postgres", region)
    )


def test_the_executor_checks_against_the_region_it_sends_to() -> None:
    aws = Aws("ca-west-1", credentials={"aws_access_key_id": "x", "aws_secret_access_key": "y"})
    sent: list[Any] = []
    executor = Executor(aws, {}, sent.append)
    with pytest.raises(RunbookError) as caught:
        executor.call(db_call("db.t4g.micro"))
    assert caught.value.problem.code == CODE
    assert "ca-west-1" in caught.value.problem.message


@pytest.mark.parametrize(
    ("region", "offered"), [("us-east-1", "db.t4g.micro"), ("ca-west-1", "db.t3.micro")]
)
def test_preflight_offers_for_the_guides_class_one_the_region_has(
    region: str, offered: str
) -> None:
    from runbook.preflight import check_instance_class

    s = Settings().replace("deployment", region=region)
    finding = check_instance_class(None, s)
    assert finding.fix is not None and finding.fix.changes == {"instance_class": offered}
    fixed = finding.fix.apply(s)
    assert errors(region, fixed.database.instance_class) == {}
    assert "DBInstanceClass" not in refused(fixed.database.instance_class, region)
