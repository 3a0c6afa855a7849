"""A deploy whose service is deleted under it stops waiting at once, and says so.

A `runbook destroy` from another terminal (or a delete by hand) while a deploy waits for the
service to be stable: ECS answers DescribeServices with status DRAINING or INACTIVE, or, once
it has forgotten the service, a MISSING failure. Nothing more will happen to it, so the wait
ends on that answer with the reason, instead of polling until its 30-minute timeout.
"""

from __future__ import annotations

import datetime

import pytest

from runbook.errors import RunbookError
from runbook.executor import Executor
from runbook.settings import Settings
from runbook.steps.service import service_stable

NAME = "flask-todo-service"
WHERE = {"cluster": "flask-todo-cluster", "services": [NAME]}
ARN = f"arn:aws:ecs:us-east-1:123456789012:service/flask-todo-cluster/{NAME}"
NOW = datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)


def answer(status: str, rollout: str = "IN_PROGRESS") -> dict:
    return {
        "services": [
            {
                "serviceArn": ARN,
                "serviceName": NAME,
                "status": status,
                "desiredCount": 1,
                "runningCount": 0,
                "taskDefinition": "arn:aws:ecs:us-east-1:123456789012:task-definition/flask-todo:1",
                "deployments": [
                    {
                        "id": "ecs-svc/1",
                        "status": "PRIMARY",
                        "taskDefinition": "arn:aws:ecs:us-east-1:123456789012:"
                        "task-definition/flask-todo:1",
                        "desiredCount": 1,
                        "runningCount": 0,
                        "rolloutState": rollout,
                        "createdAt": NOW,
                    }
                ],
                "events": [],
            }
        ],
        "failures": [],
    }


MISSING = {"services": [], "failures": [{"arn": ARN, "reason": "MISSING"}]}


@pytest.mark.parametrize(
    ("then", "how"),
    [
        (answer("DRAINING"), "ECS answers status DRAINING"),
        (answer("INACTIVE"), "ECS answers status INACTIVE"),
        (MISSING, "ECS answers MISSING"),
    ],
)
def test_the_wait_stops_on_the_first_answer_that_says_deleted(
    offline_aws, stub, then: dict, how: str
) -> None:
    ecs = stub("ecs")
    ecs.add_response("describe_services", answer("ACTIVE"), WHERE)
    ecs.add_response("describe_services", then, WHERE)
    slept: list[float] = []
    executor = Executor(offline_aws, {}, lambda _e: None, sleep=slept.append)
    with pytest.raises(RunbookError) as stopped:
        executor.wait(service_stable(Settings(), "VI"))
    problem = stopped.value.problem
    assert problem.code == "ServiceDeleted"
    assert problem.message.startswith(
        f"the service {NAME} was deleted while we waited for it ({how}): nothing more will "
        "happen to it"
    )
    assert "did not become healthy" not in problem.advice
    assert slept == [10]  # one poll's interval between the two answers, then no more


def test_a_deploy_waiting_when_a_destroy_deletes_the_service_says_so(
    make_runbook, aws, settings
) -> None:
    """Against the emulator: ECS's own answer for a service deleted with force."""
    runbook = make_runbook()
    runbook.deploy()
    aws.call("ecs", "delete_service", cluster=settings.cluster.name, service=NAME, force=True)

    def never(_seconds: float) -> None:
        pytest.fail("the wait polled again after the service was deleted")

    waiting = make_runbook(sleep=never)  # the next run, which must not poll again
    with pytest.raises(RunbookError) as stopped:
        waiting.executor().wait(service_stable(settings, "VI"))
    assert stopped.value.problem.code == "ServiceDeleted"
    assert f"the service {NAME} was deleted while we waited for it" in str(
        stopped.value.problem.message
    )
