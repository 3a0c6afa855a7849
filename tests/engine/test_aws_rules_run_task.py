"""RunTask's rules, both ways: a one-off task's every parameter at the last value ECS takes and
the first it refuses (ECS API reference: RunTask, AwsVpcConfiguration; botocore's model)."""

from __future__ import annotations

from typing import Any

import pytest

from runbook.aws_rules import check
from runbook.plan import ApiCall
from runbook.rules.ecs_task import OVERRIDES_MOST, command_overrides, overrides_size
from runbook.settings import Settings
from runbook.steps.release import STARTED_BY, request
from runbook.steps.service import ServiceStep
from runbook.validation import validate

TD = "arn:aws:ecs:us-east-1:123456789012:task-definition/flask-todo:7"


def network(subnets: int = 2, groups: int = 1, public: str = "ENABLED") -> dict[str, Any]:
    return {
        "awsvpcConfiguration": {
            "subnets": [f"subnet-{n:017x}" for n in range(subnets)],
            "securityGroups": [f"sg-{n:017x}" for n in range(groups)],
            "assignPublicIp": public,
        }
    }


def run_task(**changes: Any) -> dict[str, Any]:
    params = request(Settings(), TD, network(), ["python", "-m", "migrate"], STARTED_BY)
    params.update(changes)
    return {k: v for k, v in params.items() if v is not None}


def refused(params: dict[str, Any], operation: str = "run_task") -> dict[str, str]:
    return {r.param: r.rule for r in check(ApiCall("ecs", operation, params, "test"), {})}


def test_the_runbooks_own_one_off_task_passes() -> None:
    assert refused(run_task()) == {}
    assert refused(run_task(clientToken="0b8a3a52-6d0f-4c49-9c1e-2f1c3c5e8d11")) == {}


SUBNETS = "networkConfiguration.awsvpcConfiguration.subnets"
GROUPS = "networkConfiguration.awsvpcConfiguration.securityGroups"


@pytest.mark.parametrize("operation", ["run_task", "create_service"])
@pytest.mark.parametrize(
    ("subnets", "groups", "broken"),
    [(16, 5, None), (17, 5, SUBNETS), (0, 1, SUBNETS), (1, 6, GROUPS), (1, 0, None)],
)
def test_a_tasks_network_takes_16_subnets_and_5_groups(
    operation: str, subnets: int, groups: int, broken: str | None
) -> None:
    params = run_task(networkConfiguration=network(subnets, groups))
    if operation == "create_service":
        params = {
            "cluster": "c",
            "serviceName": "s",
            "networkConfiguration": params["networkConfiguration"],
        }
    found = refused(params, operation)
    assert (broken in found) if broken else found == {}


@pytest.mark.parametrize(("value", "takes"), [("ENABLED", True), ("enabled", False)])
def test_assign_public_ip_is_botocores_enumeration(value: str, takes: bool) -> None:
    found = refused(run_task(networkConfiguration=network(public=value)))
    assert (found == {}) is takes
    assert takes or "assignPublicIp" in next(iter(found))


@pytest.mark.parametrize(("count", "takes"), [(1, True), (10, True), (11, False), (0, False)])
def test_count_is_one_to_ten_tasks_a_call(count: int, takes: bool) -> None:
    assert ("count" not in refused(run_task(count=count))) is takes


@pytest.mark.parametrize(
    ("started_by", "takes"),
    [
        ("a" * 128, True),
        ("fargate-runbook/release_2", True),
        ("a" * 129, False),
        ("fargate.runbook", False),
        ("run by me", False),
    ],
)
def test_started_by_is_128_letters_digits_hyphens_slashes_underscores(
    started_by: str, takes: bool
) -> None:
    assert ("startedBy" not in refused(run_task(startedBy=started_by))) is takes


@pytest.mark.parametrize(
    ("token", "takes"),
    [
        ("~" * 64, True),
        ("!#$%&'()*+,-./09:;<=>?@AZ[]^_`az{|}", True),
        ("a" * 65, False),
        ("with space", False),
        ("tëst", False),
        ("", False),
    ],
)
def test_client_token_is_64_characters_from_33_to_126(token: str, takes: bool) -> None:
    assert ("clientToken" not in refused(run_task(clientToken=token))) is takes


def command_of_size(size: int, filler: str = "x", container: str = "todo-api") -> list[str]:
    """A command whose overrides are exactly `size` characters as compact JSON."""
    base = overrides_size(command_overrides(container, ["x", ""]))
    return ["x", filler * (size - base)]


@pytest.mark.parametrize("filler", ["x", "é"])
def test_overrides_take_8192_characters_formatting_included(filler: str) -> None:
    at_most = command_overrides("todo-api", command_of_size(OVERRIDES_MOST, filler))
    assert overrides_size(at_most) == OVERRIDES_MOST
    assert refused(run_task(overrides=at_most)) == {}
    over = command_overrides("todo-api", command_of_size(OVERRIDES_MOST + 1, filler))
    assert "8192" in refused(run_task(overrides=over))["overrides"]


def test_the_release_command_setting_and_the_call_agree_at_8192() -> None:
    for size, takes in ((OVERRIDES_MOST, True), (OVERRIDES_MOST + 1, False)):
        s = Settings().replace("app", release_command=command_of_size(size))
        s = s.replace("database", instance_class="db.t4g.micro")
        errors = {f"{e.section}.{e.field}": e.rule for e in validate(s)}
        run = next(a for a in ServiceStep().plan(s, None) if a.operation == "run_task")
        assert ("app.release_command" not in errors) is takes
        assert ("overrides" not in refused(dict(run.params))) is takes
        if not takes:
            assert "at most 8192" in errors["app.release_command"]
            assert "script in the app's image" in errors["app.release_command"]


@pytest.mark.parametrize(
    ("value", "takes"), [("TASK_DEFINITION", True), ("NONE", True), ("SERVICE", False)]
)
def test_propagate_tags_from_a_service_is_refused_for_a_task(value: str, takes: bool) -> None:
    assert ("propagateTags" not in refused(run_task(propagateTags=value))) is takes


def test_a_launch_type_or_a_capacity_strategy_not_both() -> None:
    strategy = [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]
    assert "launchType" in refused(run_task(capacityProviderStrategy=strategy))
    assert refused(run_task(launchType=None, capacityProviderStrategy=strategy)) == {}


@pytest.mark.parametrize(
    ("launch_type", "takes"),
    [("FARGATE", True), ("MANAGED_INSTANCES", True), ("EXTERNAL", True), ("fargate", False)],
)
def test_launch_types_are_botocores_newer_list(launch_type: str, takes: bool) -> None:
    assert ("launchType" not in refused(run_task(launchType=launch_type))) is takes


@pytest.mark.parametrize(
    ("definition", "takes"),
    [
        ("flask-todo", True),
        ("flask-todo:7", True),
        (TD, True),
        ("arn:aws-us-gov:ecs:us-gov-west-1:123456789012:task-definition/flask_todo:*", True),
        ("flask.todo:7", False),
        ("flask-todo:latest", False),
    ],
)
def test_task_definition_is_a_family_a_revision_or_an_arn(definition: str, takes: bool) -> None:
    assert ("taskDefinition" not in refused(run_task(taskDefinition=definition))) is takes


@pytest.mark.parametrize(
    ("version", "takes"), [("LATEST", True), ("1.4.0", True), ("latest", False), ("1.4", False)]
)
def test_platform_version_is_latest_or_a_version_number(version: str, takes: bool) -> None:
    assert ("platformVersion" not in refused(run_task(platformVersion=version))) is takes


def test_a_tasks_tags_are_ecss_tags() -> None:
    fifty = [{"key": f"k{n}", "value": "v"} for n in range(50)]
    assert refused(run_task(tags=fifty)) == {}
    assert "tags" in refused(run_task(tags=[*fifty, {"key": "k50", "value": "v"}]))
    assert "tags[0].key" in refused(run_task(tags=[{"key": "aws:x", "value": "v"}]))


@pytest.mark.parametrize(("tasks", "takes"), [(1, True), (100, True), (101, False), (0, False)])
def test_describe_tasks_takes_up_to_100(tasks: int, takes: bool) -> None:
    params = {"cluster": "c", "tasks": [f"t{n}" for n in range(tasks)]}
    assert ("tasks" not in refused(params, "describe_tasks")) is takes
