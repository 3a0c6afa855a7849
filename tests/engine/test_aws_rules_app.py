"""[app] settings held to what ECS's container definition takes, both ways: plain variables as
Docker's NAME=VALUE carries them, secrets as ECS's valueFrom key and a shell's name, the
runbook's own variables never given twice, and the task definition's 64 KiB."""

from __future__ import annotations

from typing import Any

import pytest

from runbook.aws_rules import check
from runbook.plan import ApiCall
from runbook.rules.app_env import TASK_DEFINITION_MOST, environment_size
from runbook.settings import Settings
from runbook.steps.task_definition import TaskDefinitionStep
from runbook.validation import validate

OWN_APP = Settings().replace("database", instance_class="db.t4g.micro")


def own_app(**changes: Any) -> Settings:
    return OWN_APP.replace("app", folder="/srv/shop", **changes)


def errors(s: Settings) -> dict[str, str]:
    return {f"{e.section}.{e.field}": e.rule for e in validate(s)}


def register_refusals(s: Settings) -> dict[str, str]:
    calls = [
        a for a in TaskDefinitionStep().plan(s, None) if a.operation == "register_task_definition"
    ]
    assert calls
    return {r.param: r.rule for a in calls for r in check(a, {})}


@pytest.mark.parametrize(
    "name", ["LOG_LEVEL", "spring.profiles.active", "1ST", "x-api-key", "ÜBER", "a b"]
)
def test_plain_variable_names_docker_carries_are_taken_by_settings_and_the_call(name: str) -> None:
    s = own_app(environment={name: "v"})
    assert errors(s) == {}
    assert register_refusals(s) == {}


@pytest.mark.parametrize("name", ["A=B", "", "tab\there"])
def test_plain_variable_names_docker_cannot_carry_are_refused_both_ways(name: str) -> None:
    s = own_app(environment={name: "v"})
    assert "NAME=VALUE" in errors(s)["app.environment"]
    assert any("environment" in p for p in register_refusals(s))


@pytest.mark.parametrize(
    ("name", "takes"),
    [("API_KEY", True), ("_k9", True), ("api.key", False), ("9KEY", False), ("A:B", False)],
)
def test_secret_names_are_shell_names_for_runbook_secret_and_valuefrom(
    name: str, takes: bool
) -> None:
    s = own_app(secrets=[name])
    assert ("app.secrets" not in errors(s)) is takes
    if not takes:
        assert "RUNBOOK_SECRET_<NAME>" in errors(s)["app.secrets"]
        assert any("secrets" in p for p in register_refusals(s))


@pytest.mark.parametrize("name", ["DB_HOST", "PORT", "DB_PWD", "RUNBOOK_DATABASE_PARTS"])
@pytest.mark.parametrize("where", ["environment", "secrets"])
def test_the_runbooks_own_variables_are_not_given_twice(name: str, where: str) -> None:
    value: Any = {name: "x"} if where == "environment" else [name]
    says = errors(own_app(**{where: value}))[f"app.{where}"]
    assert f"{name}: the runbook sets it in the container itself" in says


def test_a_variable_named_like_the_database_url_is_refused_beside_it() -> None:
    s = own_app(database_env="DATABASE_URL", environment={"DATABASE_URL": "postgres://x"})
    assert "DATABASE_URL" in errors(s)["app.environment"]
    assert errors(own_app(database_env="DATABASE_URL", environment={"DB_URL": "x"})) == {}


def test_the_task_definition_takes_64_kib_and_the_call_refuses_more() -> None:
    # Values of any characters ECS stores as they are (JSON strings): only size limits them.
    fits = own_app(environment={"A": "x" * 50_000, "QUOTE": 'a "quoted" \\ value'})
    assert errors(fits) == {} and register_refusals(fits) == {}
    over = own_app(environment={"A": "x" * 40_000, "B": "y" * 25_000})
    assert errors(over) == {}  # the environment alone fits; the whole definition does not
    assert "64 KiB" in register_refusals(over)["containerDefinitions"]


def test_an_environment_larger_than_a_whole_task_definition_is_refused_in_settings() -> None:
    big = {"A": "x" * (TASK_DEFINITION_MOST - 20)}
    assert environment_size(big) > TASK_DEFINITION_MOST
    assert "64 KiB" in errors(own_app(environment=big))["app.environment"]


def test_the_size_rule_counts_characters_not_an_sdks_escapes() -> None:
    # 30,000 "é": 60,000 bytes in UTF-8 and 180,000 as \u escapes, 30,000 characters to ECS.
    s = own_app(environment={"A": "é" * 30_000})
    assert register_refusals(s) == {}


def test_a_register_call_forced_past_settings_never_passes() -> None:
    call = ApiCall(
        "ecs",
        "register_task_definition",
        {
            "family": "shop",
            "containerDefinitions": [
                {"name": "web", "image": "nginx", "environment": [{"name": "A=B", "value": "1"}]}
            ],
        },
        "test",
    )
    assert [r.param for r in check(call, {})] == ["containerDefinitions[0].environment[0].name"]


ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:shop/app-secrets-AbC123"


@pytest.mark.parametrize(
    ("value_from", "takes"),
    [
        (ARN, True),
        (f"{ARN}:API_KEY::", True),
        (
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-1a2b-Xy9Z0q:password::",
            True,
        ),
        ("arn:aws-cn:ssm:cn-north-1:123456789012:parameter/shop/api-key", True),
        ("shop/api-key", True),
        (f"{ARN}:API_KEY", False),  # a key without its stage and version fields
        ("arn:aws:s3:::bucket/key", False),
        ("api key", False),
    ],
)
def test_a_secrets_value_from_is_a_secret_or_parameter_as_ecs_reads_it(
    value_from: str, takes: bool
) -> None:
    container = {
        "name": "web",
        "image": "nginx",
        "secrets": [{"name": "K", "valueFrom": value_from}],
    }
    call = ApiCall(
        "ecs",
        "register_task_definition",
        {"family": "shop", "containerDefinitions": [container]},
        "t",
    )
    assert (check(call, {}) == []) is takes


def test_the_plans_secret_references_pass_once_known() -> None:
    s = own_app(secrets=["API_KEY"])
    calls = [
        a for a in TaskDefinitionStep().plan(s, None) if a.operation == "register_task_definition"
    ]
    secrets = [c.get("secrets", []) for a in calls for c in a.params["containerDefinitions"]]
    assert secrets and all(secrets)
    # The database's secret and the app's, as Secrets Manager names their ARNs.
    filled = {key: ARN for entries in secrets for key in _refs(entries)}
    assert len(filled) == 2
    assert [str(r) for a in calls for r in check(a, filled) if "secrets" in r.param] == []


def _refs(value: Any) -> list[str]:
    from runbook.plan import Ref

    if isinstance(value, Ref):
        return [value.key]
    if isinstance(value, dict):
        return [k for v in value.values() for k in _refs(v)]
    if isinstance(value, list):
        return [k for v in value for k in _refs(v)]
    return []


@pytest.mark.parametrize(
    ("value", "takes"), [("shop", True), ("aws:shop", False), ("AWS:x", False)]
)
def test_ecs_keeps_the_aws_prefix_for_tag_values_too(value: str, takes: bool) -> None:
    call = ApiCall(
        "ecs",
        "create_cluster",
        {"clusterName": "c", "tags": [{"key": "runbook:deployment", "value": value}]},
        "t",
    )
    assert ("tags[0].value" not in {r.param for r in check(call, {})}) is takes


def test_the_app_secrets_secret_takes_secrets_managers_name_rules(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from runbook.steps import app_secrets

    monkeypatch.setenv("RUNBOOK_SECRET_API_KEY", "s3cret")
    longest = Settings.for_deployment("a" * 19 + "b").replace("app", secrets=["API_KEY"])
    (create,) = app_secrets.plan(longest, None, "V")
    assert create.params["Name"] == "a" * 19 + "b/app-secrets"
    assert check(create, {}) == []
