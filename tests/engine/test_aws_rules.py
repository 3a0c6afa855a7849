"""AWS's documented rules: every call any plan makes is covered, and a refused one never leaves."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest

from runbook import destroy as tear_down
from runbook.aws_rules import CODE, Census, check
from runbook.errors import RunbookError
from runbook.executor import Executor
from runbook.plan import Action, ApiCall, Ref
from runbook.resources.registry import operations
from runbook.settings import Settings
from runbook.steps import STEPS
from tests.engine.test_adopt_and_destroy import make_by_hand

RUNBOOK = Path(__file__).resolve().parents[2] / "runbook"


def operations_in_source() -> set[tuple[str, str]]:
    """Every ApiCall(...) and Wait(...) the engine's code can build, and every one-call Delete(...)
    a resource kind declares, read from the code itself."""
    found = set()
    # The ApiCalls built from data: a Delete's call and an adoption's tagging call (each Delete
    # and each adopt(...) names its own, read here).
    generic = {RUNBOOK / "resources" / "kind.py", RUNBOOK / "steps" / "base.py"}
    for path in RUNBOOK.rglob("*.py"):
        built = ("Delete", "adopt") if path in generic else ("ApiCall", "Wait", "Delete", "adopt")
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") in built:
                service, operation = node.args[:2]
                assert isinstance(service, ast.Constant) and isinstance(operation, ast.Constant), (
                    f"{path}:{node.lineno}: name the operation literally, so its rules are known"
                )
                found.add((service.value, operation.value))
    return found


def test_every_operation_in_the_code_has_its_rules() -> None:
    in_code = operations_in_source()
    assert len(in_code) > 40
    assert in_code - set(operations()) == set(), "a call with no AWS rules would slip through"
    assert set(operations()) - in_code == set(), "rules for a call the runbook no longer makes"


def everything_on(settings: Settings) -> Settings:
    return settings.replace("domain", name="todo.example.com").replace(
        "auto_scaling", max_tasks=4, target_cpu=60
    )


@pytest.mark.parametrize(
    "settings_for",
    [
        lambda: Settings().replace("database", instance_class="db.t4g.micro"),
        lambda: everything_on(Settings(master_password="s3cret-Pass!")).replace(
            "database", instance_class="db.t4g.micro"
        ),
        lambda: everything_on(Settings.for_deployment("shop-api")).replace(
            "database", instance_class="db.t3.micro"
        ),
    ],
    ids=["default", "every-section-on", "another-name"],
)
def test_offline_plans_pass_the_rules(settings_for) -> None:
    census = Census()
    for step in STEPS:
        census.add(step.plan(settings_for(), None), {})
    assert census.calls > 20 and census.refused == 0


def plans_of_a_whole_life(make_runbook, aws, settings) -> list[tuple[Action, dict[str, Any]]]:
    """Adopt hand-made resources, deploy every section, change settings, redeploy, destroy:
    every action with the values known when it would be sent."""
    seen: list[tuple[Action, dict[str, Any]]] = []
    runbook = make_runbook(settings=settings)

    def confirm(step, actions) -> bool:
        seen.extend((a, runbook.known) for a in actions)
        return True

    runbook.deploy(confirm)
    changed = (
        settings.replace("task_definition", cpu="512", memory="1024")
        .replace("load_balancer", health_check_interval=20)
        .replace("cluster", log_retention_days=60)
        .replace("service", desired_count=2)
        .replace("auto_scaling", max_tasks=5)
    )
    runbook = make_runbook(settings=changed)
    runbook.deploy(confirm)
    runbook = make_runbook(settings=changed)
    teardown = tear_down.plan(runbook)
    seen.extend((a, runbook.known) for a in teardown)
    tear_down.run(runbook, teardown)
    return seen


def test_every_call_of_adoption_deploy_change_and_teardown_is_covered_and_passes(
    make_runbook, aws, settings
) -> None:
    make_by_hand(aws)
    aws.client("logs").create_log_group(logGroupName="/ecs/flask-todo")
    aws.client("route53").create_hosted_zone(Name="example.com", CallerReference="rules")
    seen = plans_of_a_whole_life(make_runbook, aws, everything_on(settings))
    ops = {(a.service, a.operation) for a, _ in seen}
    assert {("ec2", "create_tags"), ("elbv2", "add_tags"), ("logs", "tag_log_group")} <= ops
    assert {("elbv2", "modify_target_group"), ("ecs", "update_service")} <= ops
    assert {("iam", "delete_role"), ("rds", "delete_db_instance")} <= ops
    assert ops - set(operations()) == set()
    refused = [(a.operation, check(a, known)) for a, known in seen if check(a, known)]
    assert refused == []


def security_group_call(description: str) -> ApiCall:
    return ApiCall(
        "ec2",
        "create_security_group",
        {
            "GroupName": "flask-todo-ecs-sg",
            "Description": description,
            "VpcId": Ref("default-vpc.VpcId"),
        },
        "create it",
        "I",
    )


def test_the_apostrophe_description_never_reaches_the_emulator(aws) -> None:
    vpc = aws.client("ec2").describe_vpcs()["Vpcs"][0]["VpcId"]
    executor = Executor(aws, {"default-vpc.VpcId": vpc}, lambda _e: None)
    aws.calls.clear()
    with pytest.raises(RunbookError) as caught:
        executor.call(security_group_call("flask-todo: the app's port, from the load balancer"))
    problem = caught.value.problem
    assert problem.code == CODE
    assert "Description" in problem.message and "._-:/()#,@[]+=&;{}!$*" in problem.message
    assert "report it" in problem.advice
    assert aws.calls["ec2.CreateSecurityGroup"] == 0
    groups = aws.client("ec2").describe_security_groups(
        Filters=[{"Name": "group-name", "Values": ["flask-todo-ecs-sg"]}]
    )["SecurityGroups"]
    assert groups == []
    # The same call without the apostrophe goes through.
    executor.call(security_group_call("flask-todo: app port, from the load balancer"))
    assert aws.calls["ec2.CreateSecurityGroup"] == 1


def run_until_refused(runbook, section: str) -> RunbookError:
    for step in runbook.steps:
        if step.number == section:
            with pytest.raises(RunbookError) as caught:
                runbook.apply(step)
            return caught.value
        runbook.apply(step)
    raise AssertionError(f"no section {section}")


def test_the_guides_class_on_postgresql_16_never_reaches_the_emulator(make_runbook, aws) -> None:
    refused = run_until_refused(make_runbook(settings=Settings()), "IV")
    assert refused.problem.code == CODE
    assert "db.t2.micro" in refused.problem.message and "postgres 16" in refused.problem.message
    assert "database.instance_class" in refused.problem.advice
    assert aws.calls["rds.CreateDBInstance"] == 0
    assert aws.client("rds").describe_db_instances()["DBInstances"] == []


def test_a_fargate_size_forced_past_settings_validation_never_reaches_the_emulator(
    make_runbook, aws, settings
) -> None:
    forced = settings.replace("task_definition", cpu="256", memory="4096")
    refused = run_until_refused(make_runbook(settings=forced), "V")
    assert "Fargate with cpu 256 takes memory 512, 1024, 2048" in refused.problem.message
    assert "task_definition.memory" in refused.problem.advice
    assert aws.calls["ecs.RegisterTaskDefinition"] == 0
    listed = aws.client("ecs").list_task_definitions(familyPrefix="flask-todo")
    assert listed["taskDefinitionArns"] == []


def test_a_tag_value_too_long_never_reaches_the_emulator(make_runbook, aws, settings) -> None:
    long_name = settings.replace("deployment", name="d" * 257)
    refused = run_until_refused(make_runbook(settings=long_name), "I")
    assert "Tags[0].Value" in refused.problem.message
    assert "256" in refused.problem.message
    assert aws.calls["ec2.CreateSecurityGroup"] == 0


def test_values_known_only_at_apply_are_checked_when_known() -> None:
    call = ApiCall(
        "elbv2",
        "create_load_balancer",
        {"Name": "flask-todo-elb", "Subnets": Ref("default-vpc.SubnetIds"), "Type": "application"},
        "create it",
    )
    assert check(call, {}) == []  # a reference: shown as <default-vpc.SubnetIds> in a plan
    (one_zone,) = check(call, {"default-vpc.SubnetIds": ["subnet-1"]})
    assert "two or more" in one_zone.rule or "2 or more" in one_zone.rule


def test_a_secret_is_checked_but_never_shown() -> None:
    s = Settings(master_password='has "quotes" and / slash').replace(
        "database", instance_class="db.t4g.micro"
    )
    (create,) = [a for a in STEPS[3].plan(s, None) if a.operation == "create_db_instance"]
    found = check(create, {})
    assert found and all(r.value == "********" for r in found)
    assert "quotes" not in json.dumps([r.as_dict() for r in found])


def test_the_cli_stops_a_deploy_at_a_refused_call_with_exit_2(
    aws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An ECS family may have capitals, an ECR repository may not. Settings validation refuses
    such a family when the repository is named after it; forced past it (as settings an older
    runbook recorded could be), AWS's rules on the call still stop it, and the repository
    (section III's) never reaches the emulator."""
    from runbook import cli
    from runbook.cli import run as cli_run
    from runbook.cli import target

    checked = cli_run.validate
    monkeypatch.setattr(
        cli_run, "validate", lambda s: [e for e in checked(s) if e.field != "family"]
    )
    config = tmp_path / "capitals.toml"
    config.write_text(
        '[database]\ninstance_class = "db.t4g.micro"\n[task_definition]\nfamily = "FlaskTodo"\n'
    )
    monkeypatch.setattr(target, "aws_for", lambda *_a: aws)
    state = str(tmp_path / "state.json")
    assert cli.main(["deploy", "--yes", "--new", "--config", str(config), "--state", state]) == 2
    out = capsys.readouterr().out
    assert "RefusedByAwsRules" in out and "repositoryName = 'FlaskTodo'" in out
    assert "task_definition.family" in out
    assert aws.calls["ecr.CreateRepository"] == 0
    assert aws.calls["ecs.CreateCluster"] == 1  # the calls before it ran
    assert aws.calls["rds.CreateDBInstance"] == 0  # and nothing after
