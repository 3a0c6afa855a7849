"""AWS's answers after a resend that the emulator never gives, as exact call sequences."""

from __future__ import annotations

import pytest

from runbook.events import CallMade
from runbook.executor import Executor
from runbook.plan import ApiCall, render
from runbook.resources.registry import recovery_for
from runbook.settings import Settings
from runbook.steps.service import ServiceStep

OURS = [{"key": "fargate-runbook:deployment", "value": "flask-todo"}]


def create_service() -> ApiCall:
    (call,) = [a for a in ServiceStep().plan(Settings(), None) if isinstance(a, ApiCall)]
    return call


KNOWN = {
    "flask-todo.taskDefinitionArn": "arn:aws:ecs:us-east-1:1:task-definition/flask-todo:1",
    "default-vpc.SubnetIds": ["subnet-a", "subnet-b"],
    "flask-todo-ecs-sg.GroupId": "sg-1",
    "flask-todo-elb-target-group.TargetGroupArn": "arn:aws:elasticloadbalancing:tg",
}


def service(status: str) -> dict:
    return {
        "serviceArn": "arn:aws:ecs:us-east-1:1:service/flask-todo-cluster/flask-todo-service",
        "serviceName": "flask-todo-service",
        "status": status,
        "tags": OURS,
    }


def test_the_service_token_is_the_same_for_the_same_plan_and_fits_ecs() -> None:
    call, recovery = create_service(), recovery_for("ecs", "create_service")
    shown = render(call.params, KNOWN)
    first = recovery.with_token(dict(shown), shown)["clientToken"]
    again = recovery.with_token(dict(shown), render(call.params, dict(KNOWN)))["clientToken"]
    assert first == again and len(first) == 36  # ECS: up to 36 ASCII characters
    newer = dict(
        KNOWN, **{"flask-todo.taskDefinitionArn": KNOWN["flask-todo.taskDefinitionArn"][:-1] + "2"}
    )
    other = render(call.params, newer)
    assert recovery.with_token(dict(other), other)["clientToken"] != first


def test_a_service_not_idempotent_after_a_resend_is_found_and_captured(stub, offline_aws) -> None:
    ecs = stub("ecs")
    ecs.add_client_error(
        "create_service", "InvalidParameterException", "Creation of service was not idempotent."
    )
    # The first look finds it still draining from an earlier delete: not ours yet, wait.
    ecs.add_response("describe_services", {"services": [service("DRAINING")]})
    ecs.add_client_error(
        "create_service", "InvalidParameterException", "Creation of service was not idempotent."
    )
    ecs.add_response("describe_services", {"services": [service("ACTIVE")]})
    known, sleeps, events = dict(KNOWN), [], []
    Executor(offline_aws, known, events.append, sleep=sleeps.append).call(create_service())
    assert known["flask-todo-service.serviceArn"].endswith("/flask-todo-service")
    assert sleeps == [2]
    assert [e.outcome for e in events if isinstance(e, CallMade)] == [
        "InvalidParameterException, sending again",
        "already done",
    ]


@pytest.mark.parametrize(
    ("service_name", "call", "code", "message"),
    [
        (
            "rds",
            ApiCall(
                "rds",
                "delete_db_instance",
                {"DBInstanceIdentifier": "flask-todo-db", "SkipFinalSnapshot": True},
                "delete",
                retry_on=("InvalidDBInstanceState",),
            ),
            "InvalidDBInstanceState",
            "Instance flask-todo-db is already being deleted.",
        ),
        (
            "iam",
            ApiCall(
                "iam",
                "create_service_linked_role",
                {"AWSServiceName": "ecs.amazonaws.com"},
                "create",
            ),
            "InvalidInput",
            "Service role name AWSServiceRoleForECS has been taken in this account, please "
            "try a different suffix.",
        ),
        (
            "ecs",
            ApiCall(
                "ecs",
                "delete_service",
                {"cluster": "flask-todo-cluster", "service": "flask-todo-service"},
                "delete",
            ),
            "ServiceNotActiveException",
            "Service was not ACTIVE.",
        ),
    ],
)
def test_a_resent_change_already_made_counts_as_done(
    stub, offline_aws, service_name: str, call: ApiCall, code: str, message: str
) -> None:
    stub(service_name).add_client_error(call.operation, code, message)
    events: list = []
    assert Executor(offline_aws, {}, events.append, sleep=lambda _s: None).call(call) == {}
    assert [e.outcome for e in events] == ["already done"]
