"""`runbook export`: the deploy's own plan as a CloudFormation template that cfn-lint passes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from cfnlint.api import ManualArgs, lint

from runbook import cli
from runbook.export import dump, offline_plan, template
from runbook.plan import ApiCall
from runbook.settings import Settings

PASSWORD = "Own-s3cret-pw!"


def default() -> Settings:
    """The guide's settings with preflight's fix: db.t2.micro cannot run PostgreSQL 16."""
    return Settings().replace("database", instance_class="db.t4g.micro")


def everything_on() -> Settings:
    return (
        Settings(master_password=PASSWORD)
        .replace("database", instance_class="db.t4g.micro")
        .replace("domain", name="todo.example.com")
        .replace("auto_scaling", max_tasks=4)
    )


def errors(document: dict[str, Any]) -> list[str]:
    """cfn-lint's errors (E rules) for a template, run in-process as its Python API."""
    found = lint(dump(document), config=ManualArgs(regions=["us-east-1"]))
    return [f"{m.rule.id} {m.message}" for m in found if m.rule.id.startswith("E")]


@pytest.fixture(scope="module")
def default_template() -> dict[str, Any]:
    return template(default())


@pytest.fixture(scope="module")
def full_template() -> dict[str, Any]:
    return template(everything_on())


def test_cfn_lint_finds_no_error_in_the_default_export(default_template) -> None:
    assert errors(default_template) == []


def test_cfn_lint_finds_no_error_with_every_section_on(full_template) -> None:
    assert errors(full_template) == []


def test_cfn_lint_does_flag_a_known_bad_export(default_template) -> None:
    """The linkage is real: the apostrophe AWS refuses is an error to cfn-lint too."""
    bad = json.loads(json.dumps(default_template))
    bad["Resources"]["FlaskTodoEcsSg"]["Properties"]["GroupDescription"] = "the app's port"
    found = errors(bad)
    assert any("E3031" in e and "the app's port" in e for e in found), found


def test_every_resource_the_deploy_creates_is_in_the_template(full_template) -> None:
    """Same names as the plan: one resource per creating call (the shared ECS role aside)."""
    names = {
        json.dumps(r["Properties"].get(key))
        for r in full_template["Resources"].values()
        for key in (
            "GroupName",
            "Name",
            "ClusterName",
            "LogGroupName",
            "DBInstanceIdentifier",
            "RoleName",
            "RepositoryName",
            "Family",
            "ServiceName",
            "DomainName",
        )
        if key in r["Properties"]
    }
    for call in offline_plan(everything_on()):
        if not isinstance(call, ApiCall) or not call.operation.startswith(("create_", "register_")):
            continue
        if call.operation in (
            "create_service_linked_role",
            "create_listener",
            "register_scalable_target",
        ):
            continue  # the account's own role; listeners and scaling targets have no name
        named = next(
            v
            for k, v in call.params.items()
            if k
            in (
                "GroupName",
                "Name",
                "clusterName",
                "logGroupName",
                "DBInstanceIdentifier",
                "RoleName",
                "repositoryName",
                "family",
                "serviceName",
                "DomainName",
            )
        )
        assert json.dumps(named) in names, call.operation
    kinds = {r["Type"] for r in full_template["Resources"].values()}
    assert {
        "AWS::EC2::SecurityGroupIngress",
        "AWS::ElasticLoadBalancingV2::Listener",
        "AWS::CertificateManager::Certificate",
        "AWS::Route53::RecordSet",
        "AWS::ApplicationAutoScaling::ScalingPolicy",
    } <= kinds


def test_the_template_says_what_the_deploy_does(default_template) -> None:
    resources = default_template["Resources"]
    params = default_template["Parameters"]
    assert params["VpcId"]["Type"] == "AWS::EC2::VPC::Id"
    assert params["Subnets"]["Type"] == "List<AWS::EC2::Subnet::Id>"
    lb = resources["FlaskTodoElb"]["Properties"]
    assert lb["Subnets"] == {"Ref": "Subnets"}
    assert {
        "Key": "routing.http.drop_invalid_header_fields.enabled",
        "Value": "true",
    } in lb["LoadBalancerAttributes"]
    tg = resources["FlaskTodoElbTargetGroup"]["Properties"]
    assert tg["TargetGroupAttributes"] == [
        {"Key": "deregistration_delay.timeout_seconds", "Value": "30"}
    ]
    assert resources["EcsFlaskTodoLogGroup"]["Properties"]["RetentionInDays"] == 30
    db = resources["FlaskTodoDb"]["Properties"]
    assert db["ManageMasterUserPassword"] is True and "MasterUserPassword" not in db
    container = resources["FlaskTodoTaskDefinition"]["Properties"]["ContainerDefinitions"][0]
    env = {e["Name"]: e["Value"] for e in container["Environment"]}
    assert env["DB_HOST"] == {"Fn::GetAtt": ["FlaskTodoDb", "Endpoint.Address"]}
    assert env["DB_SECRET_ARN"] == {"Fn::GetAtt": ["FlaskTodoDb", "MasterUserSecret.SecretArn"]}
    execution = resources["FlaskTodoExecutionRole"]["Properties"]
    assert "ManagedPolicyArns" not in execution  # its own policy, scoped to this deployment
    assert {p["PolicyName"] for p in execution["Policies"]} == {
        "flask-todo-inject-db-secret",
        "flask-todo-pull-image-write-logs",
    }
    (policy,) = resources["FlaskTodoTaskRole"]["Properties"]["Policies"]
    assert policy["PolicyDocument"]["Statement"][0]["Resource"] == {
        "Fn::GetAtt": ["FlaskTodoDb", "MasterUserSecret.SecretArn"]
    }
    assert resources["FlaskTodoService"]["DependsOn"] == ["FlaskTodoElbHttp80Listener"]


def test_a_password_of_ones_own_is_a_noecho_parameter_never_in_the_text(full_template) -> None:
    text = dump(full_template) + dump(full_template, "json")
    assert PASSWORD not in text
    assert full_template["Parameters"]["DBPassword"]["NoEcho"] is True
    db = full_template["Resources"]["FlaskTodoDb"]["Properties"]
    assert "resolve:secretsmanager" in db["MasterUserPassword"]["Fn::Sub"]
    notes = " ".join(full_template["Metadata"]["fargate-runbook"]["notes"])
    assert "DBPassword" in notes and "holds none" in notes


def test_with_https_the_service_waits_for_the_listener_that_forwards(full_template) -> None:
    resources = full_template["Resources"]
    http = resources["FlaskTodoElbHttp80Listener"]["Properties"]["DefaultActions"][0]
    assert http["Type"] == "redirect"
    assert "FlaskTodoElbHttps443Listener" in resources["FlaskTodoService"]["DependsOn"]


def test_the_export_command_writes_yaml_or_json(tmp_path: Path, capsys) -> None:
    config = tmp_path / "fixed.toml"
    config.write_text('[database]\ninstance_class = "db.t4g.micro"\n')
    out = tmp_path / "stack.yaml"
    assert cli.main(["export", "--config", str(config), "--output", str(out)]) == cli.OK
    assert yaml.safe_load(out.read_text())["Resources"]["FlaskTodoDb"]
    assert "aws cloudformation deploy" in capsys.readouterr().out
    assert cli.main(["export", "--config", str(config), "--format", "json"]) == cli.OK
    assert json.loads(capsys.readouterr().out)["Parameters"]["VpcId"]


def test_export_refuses_what_aws_would_refuse(tmp_path: Path, capsys) -> None:
    """The guide's db.t2.micro on PostgreSQL 16: no template, the reason and the fix, exit 2."""
    out = tmp_path / "stack.yaml"
    assert cli.main(["export", "--output", str(out)]) == cli.BAD_INPUT
    assert not out.exists()
    said = capsys.readouterr().err
    assert "db.t2.micro" in said and "db.t4g.micro" in said and "no template" in said


def test_the_export_works_in_any_account_region_and_partition(default_template) -> None:
    """No region, partition or account written in: the same template for every region."""
    text = dump(default_template)
    assert "us-east-1" not in text and "arn:aws:" not in text
    elsewhere = template(default().replace("deployment", region="eu-west-1"))
    assert elsewhere == default_template
    role = default_template["Resources"]["FlaskTodoTaskRole"]["Properties"]
    (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
        "ArnLike": {
            "aws:SourceArn": {
                "Fn::Sub": "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:*"
            }
        },
    }
    container = default_template["Resources"]["FlaskTodoTaskDefinition"]["Properties"][
        "ContainerDefinitions"
    ][0]
    assert container["LogConfiguration"]["Options"]["awslogs-region"] == {"Ref": "AWS::Region"}


def test_the_execution_role_may_only_pull_its_image_and_write_its_logs(default_template) -> None:
    execution = default_template["Resources"]["FlaskTodoExecutionRole"]["Properties"]
    (access,) = [p for p in execution["Policies"] if p["PolicyName"].endswith("write-logs")]
    by_action = {
        json.dumps(st["Action"]): st["Resource"] for st in access["PolicyDocument"]["Statement"]
    }
    assert by_action['"ecr:GetAuthorizationToken"'] == "*"  # the one that needs it
    pull = by_action[
        json.dumps(
            ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"]
        )
    ]
    where = "arn:${AWS::Partition}:SERVICE:${AWS::Region}:${AWS::AccountId}:"
    assert pull == {"Fn::Sub": where.replace("SERVICE", "ecr") + "repository/flask-todo"}
    logs = by_action[json.dumps(["logs:CreateLogStream", "logs:PutLogEvents"])]
    assert {"Fn::Sub": where.replace("SERVICE", "logs") + "log-group:/ecs/flask-todo:*"} in logs


def test_the_database_is_kept_as_a_snapshot_when_the_stack_goes(default_template) -> None:
    db = default_template["Resources"]["FlaskTodoDb"]
    assert db["DeletionPolicy"] == "Snapshot" and db["UpdateReplacePolicy"] == "Snapshot"
    assert db["Properties"]["DeletionProtection"] is False
    protected = template(default().replace("database", deletion_protection=True))
    assert protected["Resources"]["FlaskTodoDb"]["Properties"]["DeletionProtection"] is True
    assert errors(protected) == []


def test_the_repository_keeps_the_versions_a_rollback_needs(default_template) -> None:
    repo = default_template["Resources"]["FlaskTodoRepository"]["Properties"]
    (rule,) = json.loads(repo["LifecyclePolicy"]["LifecyclePolicyText"])["rules"]
    assert rule["selection"] == {
        "tagStatus": "any",
        "countType": "imageCountMoreThan",
        "countNumber": 10,
    }
    assert rule["action"] == {"type": "expire"}
    five = template(default().replace("task_definition", images_kept=5))
    text = five["Resources"]["FlaskTodoRepository"]["Properties"]["LifecyclePolicy"]
    assert json.loads(text["LifecyclePolicyText"])["rules"][0]["selection"]["countNumber"] == 5
