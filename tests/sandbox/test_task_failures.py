"""A service whose tasks cannot start: each failure stopped with ECS's reason, its address given
back, and launches spaced by a backoff (ECS's service throttle), on a clock the test moves."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from runbook.aws import Aws
from runbook.sandbox import Emulator, moto_state
from runbook.sandbox.dataplane import DataPlane, World

CLUSTER, SERVICE = "flask-todo-cluster", "flask-todo-service"
IMAGE = "public.ecr.aws/docker/library/nginx:latest"  # not in the sandbox's ECR: cannot pull


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ecs(emulator: Emulator, aws: Aws, account: str) -> Iterator[tuple[World, Clock]]:
    clock, folder = Clock(), Path(tempfile.mkdtemp(prefix="runbook-sandbox-test-"))
    plane = DataPlane(emulator.url, parts={"tasks"}, folder=folder / "data", clock=clock)
    plane.watch(account)
    world = World(plane, account, "us-east-1")
    yield world, clock
    world.close()
    plane.stop()
    moto_state.unwatch(account)
    shutil.rmtree(folder, ignore_errors=True)


def a_service_that_cannot_pull(aws: Aws, breaker: bool = False) -> None:
    vpc = aws.call("ec2", "describe_vpcs")["Vpcs"][0]["VpcId"]
    subnets = aws.call("ec2", "describe_subnets", Filters=[{"Name": "vpc-id", "Values": [vpc]}])
    group = aws.call("ec2", "create_security_group", GroupName="ecs", Description="ecs", VpcId=vpc)
    aws.call("ecs", "create_cluster", clusterName=CLUSTER)
    aws.call(
        "ecs",
        "register_task_definition",
        family="flask-todo",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[
            {"name": "todo-api", "image": IMAGE, "memory": 500, "essential": True}
        ],
    )
    aws.call(
        "ecs",
        "create_service",
        cluster=CLUSTER,
        serviceName=SERVICE,
        taskDefinition="flask-todo",
        desiredCount=1,
        launchType="FARGATE",
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": [subnets["Subnets"][0]["SubnetId"]],
                "securityGroups": [group["GroupId"]],
                "assignPublicIp": "ENABLED",
            }
        },
        # Without the circuit breaker nothing else stops the launches, only the throttle spaces
        # them.
        deploymentConfiguration={
            "maximumPercent": 200,
            "minimumHealthyPercent": 100,
            "deploymentCircuitBreaker": {"enable": breaker, "rollback": breaker},
        },
    )


def events(aws: Aws) -> list[str]:
    found = aws.call("ecs", "describe_services", cluster=CLUSTER, services=[SERVICE])
    return [e["message"] for e in found["services"][0]["events"]]


def started(aws: Aws) -> int:
    return sum("has started 1 tasks" in m for m in events(aws))


def test_failing_tasks_are_launched_no_sooner_than_the_backoff(
    ecs: tuple[World, Clock], aws: Aws
) -> None:
    world, clock = ecs
    assert world.services is not None
    a_service_that_cannot_pull(aws)
    world.services.reconcile()
    assert started(aws) == 1
    stopped = aws.call(
        "ecs", "list_tasks", cluster=CLUSTER, serviceName=SERVICE, desiredStatus="STOPPED"
    )["taskArns"]
    (task,) = aws.call("ecs", "describe_tasks", cluster=CLUSTER, tasks=stopped)["tasks"]
    assert task["stoppedReason"].startswith("CannotPullContainerError")
    assert not world.services.tasks  # gone, its address given back
    first = world.block.take()
    world.block.give_back(first)
    assert first.endswith(".2")  # the address the failed task had is free again

    # Between launches: 1 s, then 2 s, then 4 s; looking more often launches nothing.
    for delay, expected in ((1, 2), (2, 3), (4, 4)):
        clock.now += delay - 0.01
        world.services.reconcile()
        world.services.reconcile()
        assert started(aws) == expected - 1
        assert world.services.next_due() == pytest.approx(clock.now + 0.01)
        clock.now += 0.01
        world.services.reconcile()
        assert started(aws) == expected
    unable = [m for m in events(aws) if "unable to consistently start tasks" in m]
    assert len(unable) == 1  # said once for the episode, not per failure


def test_the_throttle_is_per_deployment(ecs: tuple[World, Clock], aws: Aws) -> None:
    """A new revision (or a rollback) starts at once: the failed one's backoff is not its."""
    world, _ = ecs
    assert world.services is not None
    a_service_that_cannot_pull(aws)
    world.services.reconcile()
    assert started(aws) == 1
    aws.call("ecs", "update_service", cluster=CLUSTER, service=SERVICE, forceNewDeployment=True)
    world.services.reconcile()
    assert started(aws) == 2


def test_the_circuit_breaker_fails_the_deployment_after_three_failed_tasks(
    ecs: tuple[World, Clock], aws: Aws
) -> None:
    """Desired 1: the threshold is 3 (never fewer). With nothing completed to roll back to,
    the failed deployment stays, and nothing more is launched, however long one waits."""
    world, clock = ecs
    assert world.services is not None
    a_service_that_cannot_pull(aws, breaker=True)
    for delay in (0, 1, 2):  # the throttle's waits between the three launches
        clock.now += delay
        world.services.reconcile()
    assert started(aws) == 3
    clock.now += 4
    world.services.reconcile()
    found = aws.call("ecs", "describe_services", cluster=CLUSTER, services=[SERVICE])
    (deployment,) = found["services"][0]["deployments"]
    assert deployment["rolloutState"] == "FAILED"
    assert deployment["rolloutStateReason"] == (
        "ECS deployment circuit breaker: tasks failed to start."
    )
    assert any("deployment failed: tasks failed to start." in m for m in events(aws))
    clock.now += 120
    world.services.reconcile()
    assert started(aws) == 3
    found = aws.call("ecs", "describe_services", cluster=CLUSTER, services=[SERVICE])
    (deployment,) = found["services"][0]["deployments"]
    assert (deployment["rolloutState"], deployment["failedTasks"]) == ("FAILED", 3)
