"""Day two as plans: scale, redeploy and rollback on the emulator, and their exact calls."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from runbook import day_two, day_two_run
from runbook.aws import Aws
from runbook.aws_rules import check
from runbook.day_two import SECTION
from runbook.engine import Runbook
from runbook.errors import RunbookError
from runbook.events import CallMade, Notice, StepFailed, StepFinished
from runbook.recorded import starting_settings
from runbook.settings import Settings
from runbook.state import StateFile
from tests.engine.helpers import one_task_stopped

CLUSTER, SERVICE = "flask-todo-cluster", "flask-todo-service"
OURS = [{"key": "fargate-runbook:deployment", "value": "flask-todo"}]


def changing(events: list) -> list[str]:
    return [e.operation for e in events if isinstance(e, CallMade) and e.mutating]


def service(aws: Aws) -> dict[str, Any]:
    return aws.call("ecs", "describe_services", cluster=CLUSTER, services=[SERVICE])["services"][0]


def revisions(aws: Aws) -> list[str]:
    arns = aws.call("ecs", "list_task_definitions", familyPrefix="flask-todo", status="ACTIVE")
    return sorted(a.rsplit("/", 1)[-1] for a in arns["taskDefinitionArns"])


def recorded(state_path: Path) -> Settings:
    return starting_settings(StateFile(state_path), None, None).settings


# -- on the emulator ---------------------------------------------------------------------------


def test_a_redeploy_starts_new_tasks_of_the_same_revision(make_runbook, aws, events) -> None:
    runbook = make_runbook()
    runbook.deploy()
    before = service(aws)["deployments"][0]["id"]
    events.clear()
    plan = day_two.plan(runbook.aws, runbook.settings, "redeploy")
    assert [(a.service, a.operation) for a in plan.actions] == [
        ("ecs", "update_service"),
        ("ecs", "describe_services"),
    ]
    update = plan.actions[0]
    assert update.params == {"cluster": CLUSTER, "service": SERVICE, "forceNewDeployment": True}
    assert all(check(a, runbook.known) == [] for a in plan.actions)
    assert day_two_run.run(runbook, plan)
    assert changing(events) == ["update_service"]
    after = service(aws)
    assert after["taskDefinition"].endswith("flask-todo:1")
    assert after["deployments"][0]["id"] != before
    assert runbook.state.day_two["redeploy"]["revision"].endswith("flask-todo:1")
    assert [e.status for e in events if isinstance(e, StepFinished)] == ["done"]
    assert {e.section for e in events} == {SECTION}

    # One revision only: nothing to roll back to, said plainly, nothing called.
    events.clear()
    with pytest.raises(RunbookError) as refused:
        day_two.plan(runbook.aws, runbook.settings, "rollback")
    problem = refused.value.problem
    assert problem.code == "NoPreviousRevision"
    assert (
        "runs flask-todo:1" in problem.message and "no ACTIVE revision before it" in problem.message
    )
    assert changing(events) == []


def test_a_changed_count_is_made_recorded_and_kept(
    make_runbook, aws, settings, state_path, events
) -> None:
    make_runbook().deploy()
    runbook = make_runbook(settings=recorded(state_path))
    for wrong in (5001, -1):  # ECS's tasks per service: 0 to 5000
        with pytest.raises(RunbookError) as refused:
            day_two.plan(runbook.aws, runbook.settings, "scale", wrong)
        assert refused.value.problem.code == "InvalidSettings"
        assert "between 0 and 5000" in refused.value.problem.message
    events.clear()
    plan = day_two.plan(runbook.aws, runbook.settings, "scale", 3)
    assert plan.question == "Change flask-todo-service from 1 to 3 tasks?"
    assert plan.actions[0].params == {"cluster": CLUSTER, "service": SERVICE, "desiredCount": 3}
    assert plan.actions[1].what.startswith("service flask-todo-service to be stable (3 task")
    assert all(check(a, runbook.known) == [] for a in plan.actions)  # AWS's rules hold
    day_two_run.run(runbook, plan)
    assert changing(events) == ["update_service"]
    assert service(aws)["desiredCount"] == 3
    assert StateFile(state_path).settings["service"]["desired_count"] == 3
    assert StateFile(state_path).day_two["scale"]["from"] == 1

    # The next deploy starts from the recorded count: nothing to change in section VI.
    again = make_runbook(settings=recorded(state_path))
    assert [a.operation for a in again.plan(again.step("VI"))] == []
    # The same count again: no call, said so.
    events.clear()
    same = day_two.plan(again.aws, again.settings, "scale", 3)
    assert same.actions == ()
    assert day_two_run.run(again, same, confirm=lambda _p: pytest.fail("nothing to confirm"))
    assert changing(events) == []
    assert any(isinstance(e, Notice) and "Nothing to change" in e.message for e in events)


def test_with_auto_scaling_the_count_is_its_minimum(make_runbook, aws, settings, events) -> None:
    scaled = settings.replace("auto_scaling", max_tasks=4)
    runbook = make_runbook(settings=scaled)
    runbook.deploy()
    with pytest.raises(RunbookError) as refused:
        day_two.plan(runbook.aws, runbook.settings, "scale", 5)
    assert "at most Auto Scaling's maximum (4" in refused.value.problem.advice
    events.clear()
    plan = day_two.plan(runbook.aws, runbook.settings, "scale", 2)
    assert [a.operation for a in plan.actions] == [
        "register_scalable_target",
        "describe_services",
    ]
    assert plan.actions[0].params["MinCapacity"] == 2
    assert plan.actions[0].params["MaxCapacity"] == 4
    assert all(check(a, runbook.known) == [] for a in plan.actions)
    assert "Auto Scaling owns the count (1 now, 1 to 4)" in plan.notes[0]
    day_two_run.run(runbook, plan)
    assert changing(events) == ["register_scalable_target"]  # never update_service's count
    (target,) = aws.call(
        "application-autoscaling", "describe_scalable_targets", ServiceNamespace="ecs"
    )["ScalableTargets"]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (2, 4)
    assert runbook.state.settings["service"]["desired_count"] == 2
    # Section VIII agrees: its minimum is the recorded count.
    assert make_runbook(settings=runbook.settings).plan(runbook.step("VIII")) == []


def test_a_rollback_goes_back_one_revision_and_the_next_deploy_says_it_rolls_forward(
    make_runbook, aws, settings, events
) -> None:
    make_runbook().deploy()
    bigger = settings.replace("task_definition", cpu="512", memory="1024")
    runbook = make_runbook(settings=bigger)
    runbook.deploy()
    assert service(aws)["taskDefinition"].endswith(":2")
    events.clear()
    plan = day_two.plan(runbook.aws, runbook.settings, "rollback")
    assert plan.question == "Roll flask-todo-service back to flask-todo:1?"
    (update, _wait) = plan.actions
    assert update.params["taskDefinition"].endswith("task-definition/flask-todo:1")
    assert "from flask-todo:2 to flask-todo:1" in update.why
    assert all(check(a, runbook.known) == [] for a in plan.actions)
    assert any("Nothing is deregistered or deleted" in n for n in plan.notes)
    assert any("next `runbook deploy` rolls" in n for n in plan.notes)
    day_two_run.run(runbook, plan)
    assert changing(events) == ["update_service"]
    assert service(aws)["taskDefinition"].endswith("flask-todo:1")
    assert revisions(aws) == ["flask-todo:1", "flask-todo:2"]  # nothing deregistered
    kept = runbook.state.day_two["rollback"]
    assert kept["from"].endswith(":2") and kept["to"].endswith(":1") and kept["at"] > 0

    # The next deploy rolls forward to what the settings describe, and says so first.
    events.clear()
    forward = make_runbook(settings=bigger)
    assert forward.plan(forward.step("V")) == []  # :2 is what the settings describe
    step = forward.step("VI")
    (update,) = [a for a in forward.plan(step) if a.operation == "update_service"]
    assert update.params["taskDefinition"].key == "flask-todo.taskDefinitionArn"
    (fact,) = [f for f in forward.differences(step) if f.label == "task definition"]
    assert (fact.current, fact.wanted) == ("flask-todo:1", "flask-todo:2")
    assert "undoing the `runbook rollback` of " in fact.explain()
    forward.apply(forward.step("V"))
    forward.apply(step)
    warnings = [e.message for e in events if isinstance(e, Notice) and e.level == "warning"]
    assert any("undoing the `runbook rollback`" in w for w in warnings)
    assert service(aws)["taskDefinition"].endswith("flask-todo:2")


# -- exact calls (Stubber) ---------------------------------------------------------------------


@pytest.fixture
def offline_runbook(offline_aws: Aws, tmp_path: Path, events) -> Runbook:
    return Runbook(
        Settings(),
        offline_aws,
        StateFile(tmp_path / "state.json"),
        emit=events.append,
        sleep=lambda _s: None,
    )


def td(name: str) -> str:
    return f"arn:aws:ecs:us-east-1:123456789012:task-definition/{name}"


def described(taskdef: str, *, tags: Any = OURS, deployments: Any = None) -> dict[str, Any]:
    return {
        "services": [
            {
                "serviceArn": f"arn:aws:ecs:us-east-1:123456789012:service/{CLUSTER}/{SERVICE}",
                "serviceName": SERVICE,
                "status": "ACTIVE",
                "taskDefinition": td(taskdef),
                "desiredCount": 1,
                "runningCount": 1,
                "tags": tags,
                "deployments": deployments
                or [
                    {
                        "status": "PRIMARY",
                        "taskDefinition": td(taskdef),
                        "rolloutState": "COMPLETED",
                    }
                ],
            }
        ]
    }


WHERE = {"cluster": CLUSTER, "services": [SERVICE]}


def test_the_rollback_reads_every_page_and_only_its_own_family(stub, offline_runbook) -> None:
    """Running :5; ACTIVE :1, :2, :4 (3 deregistered) and :7 (newer); flask-todo-v2 shares
    the prefix. The rollback goes to :4, and makes exactly one change."""
    ecs = stub("ecs")
    ecs.add_response("describe_services", described("flask-todo:5"), {**WHERE, "include": ["TAGS"]})
    listing = {"familyPrefix": "flask-todo", "status": "ACTIVE"}
    ecs.add_response(
        "list_task_definitions",
        {
            "taskDefinitionArns": [td("flask-todo:1"), td("flask-todo-v2:9"), td("flask-todo:2")],
            "nextToken": "page-2",
        },
        listing,
    )
    ecs.add_response(
        "list_task_definitions",
        {"taskDefinitionArns": [td("flask-todo:4"), td("flask-todo:5"), td("flask-todo:7")]},
        {**listing, "nextToken": "page-2"},
    )
    ecs.add_response(
        "describe_task_definition",
        {
            "taskDefinition": {
                "taskDefinitionArn": td("flask-todo:4"),
                "containerDefinitions": [{"name": "todo-api", "image": "repo/flask-todo:v4"}],
            }
        },
        {"taskDefinition": td("flask-todo:4")},
    )
    plan = day_two.plan(offline_runbook.aws, offline_runbook.settings, "rollback")
    assert (
        "back from flask-todo:5 to flask-todo:4 (image repo/flask-todo:v4)" in plan.actions[0].why
    )
    assert any("another rollback goes on to flask-todo:2" in note for note in plan.notes)
    assert any("rolls forward to flask-todo:7 again" in note for note in plan.notes)
    ecs.add_response(
        "update_service",
        {},
        {"cluster": CLUSTER, "service": SERVICE, "taskDefinition": td("flask-todo:4")},
    )
    ecs.add_response("describe_services", described("flask-todo:4"), WHERE)
    assert day_two_run.run(offline_runbook, plan)
    assert offline_runbook.state.day_two["rollback"]["to"] == td("flask-todo:4")


@pytest.mark.parametrize(
    ("answer", "code", "says"),
    [
        ({"services": []}, "ServiceNotFound", "There is no service flask-todo-service"),
        (described("flask-todo:2", tags=[]), "NotOurs", "does not carry this deployment's tag"),
    ],
    ids=["missing", "not-ours"],
)
def test_a_service_missing_or_not_ours_is_left_alone(
    stub, offline_runbook, answer, code, says
) -> None:
    stub("ecs").add_response("describe_services", answer)
    with pytest.raises(RunbookError) as refused:
        day_two.plan(offline_runbook.aws, offline_runbook.settings, "redeploy")
    assert refused.value.problem.code == code
    assert says in refused.value.problem.message
    assert "Nothing was called" in refused.value.problem.message


def test_auto_scaling_on_but_not_set_up_is_refused(stub, offline_aws, tmp_path) -> None:
    settings = Settings().replace("auto_scaling", max_tasks=4)
    runbook = Runbook(settings, offline_aws, StateFile(tmp_path / "s.json"))
    stub("ecs").add_response("describe_services", described("flask-todo:1"))
    stub("application-autoscaling").add_response(
        "describe_scalable_targets", {"ScalableTargets": []}
    )
    with pytest.raises(RunbookError) as refused:
        day_two.plan(runbook.aws, runbook.settings, "scale", 2)
    assert refused.value.problem.code == "AutoScalingNotSetUp"
    assert "Run section VIII" in refused.value.problem.advice


def test_a_redeploy_the_circuit_breaker_reverses_is_explained(
    stub, offline_runbook, events
) -> None:
    ecs = stub("ecs")
    ecs.add_response("describe_services", described("flask-todo:3"))
    plan = day_two.plan(offline_runbook.aws, offline_runbook.settings, "redeploy")
    ecs.add_response("update_service", {})
    failed = described(
        "flask-todo:3",
        deployments=[
            {
                "status": "PRIMARY",
                "taskDefinition": td("flask-todo:3"),
                "rolloutState": "IN_PROGRESS",
                "rolloutStateReason": "ECS deployment circuit breaker: rolling back to "
                "deploymentId ecs-svc/1.",
            },
            {
                "status": "ACTIVE",
                "taskDefinition": td("flask-todo:3"),
                "rolloutState": "FAILED",
                "rolloutStateReason": "ECS deployment circuit breaker: tasks failed to start.",
            },
        ],
    )
    ecs.add_response("describe_services", failed)
    one_task_stopped(ecs, "ResourceInitializationError: unable to pull secrets")
    with pytest.raises(RunbookError) as caught:
        day_two_run.run(offline_runbook, plan)
    assert caught.value.problem.code == "ServiceNotStable"
    assert "circuit breaker: tasks failed to start" in caught.value.problem.message
    assert caught.value.details == (
        "task abc stopped: ResourceInitializationError: unable to pull secrets",
    )
    (failure,) = [e for e in events if isinstance(e, StepFailed)]
    assert failure.section == SECTION and failure.details == caught.value.details
