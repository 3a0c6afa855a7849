"""One-off tasks on AWS, call by call: `runbook run` starts a task from the service's own
task definition and network, follows it to STOPPED, reads its log stream and keeps its exit
code; the error paths say what happened and start nothing; the release command's calls in a
plan pass AWS's rules."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from runbook import aws_rules, one_off
from runbook.errors import RunbookError
from runbook.settings import Settings
from runbook.steps.service import ServiceStep

TD = "arn:aws:ecs:us-east-1:123456789012:task-definition/flask-todo:7"
TASK = "arn:aws:ecs:us-east-1:123456789012:task/flask-todo-cluster/0123456789abcdef"
NETWORK = {
    "awsvpcConfiguration": {
        "subnets": ["subnet-1", "subnet-2"],
        "securityGroups": ["sg-ecs"],
        "assignPublicIp": "ENABLED",
    }
}
CONTAINER = {
    "name": "todo-api",
    "image": "x",
    "logConfiguration": {
        "logDriver": "awslogs",
        "options": {
            "awslogs-group": "/ecs/flask-todo",
            "awslogs-region": "us-east-1",
            "awslogs-stream-prefix": "todo-api",
        },
    },
}
STREAM = {
    "logGroupName": "/ecs/flask-todo",
    "logStreamName": "todo-api/todo-api/0123456789abcdef",
    "startFromHead": True,
}


def task(status: str, **container: Any) -> dict[str, Any]:
    return {
        "taskArn": TASK,
        "lastStatus": status,
        "containers": [{"name": "todo-api", **container}],
    }


def log_page(logs: Stubber, after: int, messages: list[str], then: int) -> None:
    """One GetLogEvents answer: the stream's events after token f/<after> (0: from its
    head), and f/<then> to read on from."""
    logs.add_response(
        "get_log_events",
        {"events": [{"message": m} for m in messages], "nextForwardToken": f"f/{then}"},
        {**STREAM, "nextToken": f"f/{after}"} if after else STREAM,
    )


def test_a_run_sends_the_services_network_and_follows_the_task_to_its_exit_code(
    stub, offline_aws
) -> None:
    s = Settings()
    ecs, logs = stub("ecs"), stub("logs")
    params = one_off.request(s, TD, NETWORK, ["python", "-m", "app.migrate"], one_off.STARTED_BY)
    ecs.add_response("run_task", {"tasks": [{"taskArn": TASK}]}, {**params, "clientToken": ANY})
    described = {"cluster": "flask-todo-cluster", "tasks": [TASK]}
    ecs.add_response("describe_tasks", {"tasks": [task("PROVISIONING")]}, described)
    log_page(logs, 0, [], 1)
    ecs.add_response("describe_tasks", {"tasks": [task("RUNNING")]}, described)
    log_page(logs, 1, ["applied 2 migrations"], 2)
    log_page(logs, 2, [], 2)
    ecs.add_response(
        "describe_tasks",
        {
            "tasks": [
                task("STOPPED", exitCode=0)
                | {"stoppedReason": "Essential container in task exited"}
            ]
        },
        described,
    )
    log_page(logs, 2, ["done"], 3)
    log_page(logs, 3, [], 3)  # the settle: nothing more arrives
    log_page(logs, 3, [], 3)
    ticks = itertools.count()
    arn = one_off.start(offline_aws, params)
    seen = list(
        one_off.follow(
            offline_aws,
            s,
            arn,
            {"containerDefinitions": [CONTAINER]},
            sleep=lambda _: None,
            clock=lambda: float(next(ticks)),
            settle=2.0,
        )
    )
    assert seen[:-1] == ["applied 2 migrations", "done"]
    end = seen[-1]
    assert isinstance(end, one_off.Finished) and (end.exit_code, end.ran) == (0, True)
    # What AWS needs of the call, as ECS's API reference has it.
    assert params["networkConfiguration"] is NETWORK  # the service's, as it is
    assert params["overrides"] == {
        "containerOverrides": [{"name": "todo-api", "command": ["python", "-m", "app.migrate"]}]
    }
    assert {"key": "fargate-runbook:deployment", "value": "flask-todo"} in params["tags"]


def test_a_task_that_never_ran_says_why(stub, offline_aws) -> None:
    s = Settings()
    stub("ecs").add_response(
        "describe_tasks",
        {
            "tasks": [
                task("STOPPED", reason="CannotPullContainerError")
                | {"stoppedReason": "Task failed to start"}
            ]
        },
    )
    end = list(
        one_off.follow(offline_aws, s, TASK, {"containerDefinitions": []}, sleep=lambda _: None)
    )[-1]
    assert isinstance(end, one_off.Finished) and not end.ran
    assert end.reason == "Task failed to start; CannotPullContainerError"


def test_no_service_one_not_ours_and_no_capacity_start_nothing_and_say_what_to_do(
    stub, offline_aws
) -> None:
    s = Settings()
    ecs = stub("ecs")
    ecs.add_client_error("describe_services", "ClusterNotFoundException", "Cluster not found.")
    with pytest.raises(RunbookError) as missing:
        one_off.the_service(offline_aws, s)
    assert missing.value.problem.code == "ServiceNotFound"
    assert "runbook deploy" in missing.value.problem.advice
    ecs.add_response(
        "describe_services",
        {"services": [{"serviceName": "flask-todo-service", "status": "ACTIVE", "tags": []}]},
        {
            "cluster": "flask-todo-cluster",
            "services": ["flask-todo-service"],
            "include": ["TAGS"],
        },
    )
    with pytest.raises(RunbookError) as not_ours:
        one_off.the_service(offline_aws, s)  # made by hand, never adopted: left alone
    assert not_ours.value.problem.code == "NotOurs"
    params = one_off.request(s, TD, NETWORK, ["true"], one_off.STARTED_BY)
    ecs.add_response(
        "run_task",
        {"tasks": [], "failures": [{"reason": "RESOURCE:CPU", "detail": "no capacity"}]},
    )
    with pytest.raises(RunbookError) as refused:
        one_off.start(offline_aws, params)
    assert refused.value.problem.code == "RunTaskFailed"
    assert "RESOURCE:CPU no capacity" in refused.value.problem.message


def test_a_command_too_long_for_runtask_is_refused_before_any_call(offline_aws) -> None:
    s = Settings()
    params = one_off.request(s, TD, NETWORK, ["echo", "x" * 9000], one_off.STARTED_BY)
    with pytest.raises(RunbookError) as refused:
        one_off.start(offline_aws, params)  # no stub: a call would fail differently
    assert refused.value.problem.code == "RefusedByAwsRules"
    assert offline_aws.calls == {}


def test_the_release_command_runs_before_the_service_changes_and_passes_awss_rules() -> None:
    s = Settings().replace("app", release_command=["python", "-m", "todo_app.migrate"])
    actions = ServiceStep().plan(s, None)
    operations = [a.operation for a in actions]
    assert operations.index("run_task") < operations.index("create_service")
    run = actions[operations.index("run_task")]
    known = {
        "flask-todo.taskDefinitionArn": TD,
        "default-vpc.SubnetIds": ["subnet-1", "subnet-2"],
        "flask-todo-ecs-sg.GroupId": "sg-0123456789abcdef0",
    }
    assert aws_rules.check(run, known) == []
    too_long = {**run.params, "startedBy": "x" * 129}
    broken = [
        r.param for r in aws_rules.check(type(run)(**{**run.__dict__, "params": too_long}), known)
    ]
    assert broken == ["startedBy"]  # the rules do look at it
    params = run.params
    assert params["overrides"]["containerOverrides"][0]["command"] == [
        "python",
        "-m",
        "todo_app.migrate",
    ]
    wait = actions[operations.index("run_task") + 1]
    stopped = {"tasks": [task("STOPPED", exitCode=2)]}
    assert "exited with code 2" in wait.until(stopped)
    assert wait.until({"tasks": [task("STOPPED", exitCode=0)]}) is True
    assert wait.until({"tasks": [task("RUNNING")]}) is False
    # Without one, or with the service already on this revision: no one-off task.
    assert "run_task" not in [a.operation for a in ServiceStep().plan(Settings(), None)]
