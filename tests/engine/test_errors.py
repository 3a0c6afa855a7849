"""Error paths with botocore's Stubber: AWS's code and message, advice, retries, no sleeping."""

from __future__ import annotations

from pathlib import Path

import pytest
from botocore.stub import Stubber

from runbook import destroy as tear_down
from runbook.aws import Aws
from runbook.engine import Runbook
from runbook.errors import RunbookError
from runbook.events import StepFailed
from runbook.settings import Settings
from runbook.state import StateFile
from tests.engine.helpers import one_task_stopped

VPC = {"Vpcs": [{"VpcId": "vpc-1"}]}
SUBNETS = {
    "Subnets": [
        {"SubnetId": "subnet-a", "AvailabilityZone": "us-east-1a"},
        {"SubnetId": "subnet-b", "AvailabilityZone": "us-east-1b"},
    ]
}


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def runbook(offline_aws: Aws, tmp_path: Path, sleeps: list[float], events) -> Runbook:
    return Runbook(
        Settings(),
        offline_aws,
        StateFile(tmp_path / "state.json"),
        emit=events.append,
        sleep=sleeps.append,
    )


def discovery_finds_nothing(ec2: Stubber) -> None:
    ec2.add_response("describe_vpcs", VPC)
    ec2.add_response("describe_subnets", SUBNETS)
    ec2.add_response("describe_security_groups", {"SecurityGroups": []})


def test_access_denied_stops_with_awss_words_and_advice(stub, runbook, events) -> None:
    ec2 = stub("ec2")
    discovery_finds_nothing(ec2)
    ec2.add_client_error(
        "create_security_group",
        "UnauthorizedOperation",
        "You are not authorized to perform this operation.",
    )
    with pytest.raises(RunbookError) as caught:
        runbook.apply(runbook.step("I"))
    problem = caught.value.problem
    assert problem.code == "UnauthorizedOperation"
    assert "not authorized" in problem.message
    assert "permission" in problem.advice
    (failed,) = [e for e in events if isinstance(e, StepFailed)]
    assert failed.code == "UnauthorizedOperation"
    assert runbook.state.get("I").status == "failed"
    assert "UnauthorizedOperation" in runbook.state.get("I").error


def test_a_group_not_yet_visible_is_retried_with_backoff(stub, runbook, sleeps) -> None:
    ec2 = stub("ec2")
    discovery_finds_nothing(ec2)
    for n in range(3):
        ec2.add_response("create_security_group", {"GroupId": f"sg-{n}"})
        if n == 0:  # eventual consistency: the new group is not visible yet, twice
            ec2.add_client_error("authorize_security_group_ingress", "InvalidGroup.NotFound")
            ec2.add_client_error("authorize_security_group_ingress", "InvalidGroup.NotFound")
        ec2.add_response("authorize_security_group_ingress", {"Return": True})
    runbook.apply(runbook.step("I"))
    assert sleeps == [2, 4]
    assert runbook.state.get("I").status == "done"


def test_a_rule_that_already_exists_counts_as_done(stub, runbook) -> None:
    ec2 = stub("ec2")
    discovery_finds_nothing(ec2)
    for n in range(3):
        ec2.add_response("create_security_group", {"GroupId": f"sg-{n}"})
        ec2.add_client_error("authorize_security_group_ingress", "InvalidPermission.Duplicate")
    runbook.apply(runbook.step("I"))
    assert runbook.state.get("I").status == "done"


def test_dependency_violation_on_teardown_is_retried_then_reported(stub, runbook, sleeps) -> None:
    from runbook.plan import ApiCall

    ec2 = stub("ec2")
    delete = ApiCall(
        "ec2",
        "delete_security_group",
        {"GroupId": "sg-1"},
        "delete",
        "I",
        retry_on=("DependencyViolation",),
    )
    ec2.add_client_error(
        "delete_security_group", "DependencyViolation", "resource sg-1 has a dependent object"
    )
    ec2.add_response("delete_security_group", {})
    (removed,) = tear_down.run(runbook, [delete])
    assert sleeps == [2]
    assert removed.outcome == "removed"

    for _ in range(8):  # never freed: give up after the backoff runs out
        ec2.add_client_error(
            "delete_security_group", "DependencyViolation", "resource sg-1 has a dependent object"
        )
    (failed,) = tear_down.run(runbook, [delete])
    assert failed.outcome == "failed"
    assert failed.reason == "DependencyViolation: resource sg-1 has a dependent object"
    assert "Wait a minute" in failed.advice


def test_a_failed_rollout_reports_service_events_and_stopped_tasks(
    stub, offline_aws: Aws, tmp_path: Path, sleeps: list[float], events
) -> None:
    runbook = Runbook(  # what sections III and V made, as this run knows them
        Settings(),
        offline_aws,
        StateFile(tmp_path / "state.json"),
        emit=events.append,
        sleep=sleeps.append,
        known={
            "flask-todo.taskDefinitionArn": "arn:td:1",
            "flask-todo-cluster.clusterArn": "arn:cluster",
        },
    )
    failed = {
        "services": [
            {
                "serviceArn": "arn:svc",
                "serviceName": "flask-todo-service",
                "status": "ACTIVE",
                "taskDefinition": "arn:td:1",
                "desiredCount": 1,
                "runningCount": 0,
                "tags": [{"key": "fargate-runbook:deployment", "value": "flask-todo"}],
                "deployments": [
                    {
                        "status": "PRIMARY",
                        "rolloutState": "FAILED",
                        "rolloutStateReason": "circuit breaker: tasks failed to start",
                    }
                ],
                "events": [{"message": "(service flask-todo-service) failed to launch a task"}],
            }
        ]
    }
    ecs = stub("ecs")
    ecs.add_response("describe_services", failed)
    # This version of the app is in ECR: nothing to wait for before rolling.
    stub("ecr").add_response(
        "describe_images",
        {"imageDetails": [{"imageTags": [runbook.version]}]},
        {"repositoryName": "flask-todo", "imageIds": [{"imageTag": runbook.version}]},
    )
    ecs.add_response("describe_services", failed)
    one_task_stopped(ecs, "Essential container in task exited", exitCode=3)
    with pytest.raises(RunbookError) as caught:
        runbook.apply(runbook.step("VI"))
    assert caught.value.problem.code == "ServiceNotStable"
    assert "circuit breaker" in caught.value.problem.message
    assert "failed to launch a task" in caught.value.problem.message
    assert caught.value.details == (
        "task abc stopped: Essential container in task exited; todo-api: 3",
    )


def test_running_a_section_too_early_says_which_to_run_first(make_runbook) -> None:
    runbook = make_runbook()
    with pytest.raises(RunbookError) as caught:
        runbook.apply(runbook.step("II"))  # needs section I's security group and VPC
    problem = caught.value.problem
    assert problem.code == "NeedsEarlierSection"
    assert "section I (Security groups)" in problem.message
    assert problem.advice.startswith("Run section I first")


def test_no_fix_is_offered_for_the_class_already_chosen(make_runbook, settings) -> None:
    (finding,) = [f for f in make_runbook().preflight() if f.topic == "instance class"]
    assert settings.database.instance_class == "db.t4g.micro"
    assert finding.fix is None


def test_preflight_matches_a_major_version_against_offers(stub, offline_aws, tmp_path) -> None:
    from runbook.preflight import check_instance_class

    rds = stub("rds")
    offers = {
        "OrderableDBInstanceOptions": [
            {"Engine": "postgres", "EngineVersion": "15.8", "DBInstanceClass": "db.t4g.micro"},
            {"Engine": "postgres", "EngineVersion": "16.4", "DBInstanceClass": "db.t4g.micro"},
        ]
    }
    rds.add_response("describe_orderable_db_instance_options", offers)
    rds.add_response("describe_orderable_db_instance_options", offers)
    s = Settings().replace("database", instance_class="db.t4g.micro", engine_version="16")
    assert check_instance_class(offline_aws, s).level == "ok"
    s = s.replace("database", engine_version="17")
    assert check_instance_class(offline_aws, s).level == "info"
