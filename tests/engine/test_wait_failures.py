"""A wait that ends in a failed state is named after what failed, and its advice is about that
resource: a database is not "the service did not become healthy" (exact answers: Stubber)."""

from __future__ import annotations

from typing import Any

import pytest

from runbook.errors import RunbookError
from runbook.executor import Executor
from runbook.settings import Settings
from runbook.steps.database import database_available
from runbook.steps.load_balancer import lb_arn, load_balancer_active

ARN = "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/flask-todo-elb/1"


def executor(offline_aws: Any, known: dict[str, Any] | None = None) -> Executor:
    return Executor(offline_aws, dict(known or {}), lambda _: None, sleep=lambda _: None)


def test_a_failed_database_gets_database_advice(offline_aws, stub) -> None:
    settings = Settings()
    stub("rds").add_response(
        "describe_db_instances",
        {"DBInstances": [{"DBInstanceIdentifier": "flask-todo-db", "DBInstanceStatus": "failed"}]},
        {"DBInstanceIdentifier": "flask-todo-db"},
    )
    with pytest.raises(RunbookError) as failed:
        executor(offline_aws).wait(database_available(settings, "IV"))
    problem = failed.value.problem
    assert problem.code == "DBInstanceFailed"
    assert problem.message == "database flask-todo-db to be available: the database is failed"
    assert problem.advice.startswith("RDS could not bring the database up")
    assert "service" not in problem.advice


def test_a_failed_load_balancer_gets_load_balancer_advice(offline_aws, stub) -> None:
    settings = Settings()
    stub("elbv2").add_response(
        "describe_load_balancers",
        {
            "LoadBalancers": [
                {
                    "LoadBalancerArn": ARN,
                    "State": {"Code": "failed", "Reason": "subnets are in one Availability Zone"},
                }
            ]
        },
        {"LoadBalancerArns": [ARN]},
    )
    wait = load_balancer_active(settings, "II")
    with pytest.raises(RunbookError) as failed:
        executor(offline_aws, {lb_arn(settings).key: ARN}).wait(wait)
    problem = failed.value.problem
    assert problem.code == "LoadBalancerFailed"
    assert "one Availability Zone" in problem.message
    assert problem.advice.startswith("The load balancer could not be provisioned")
