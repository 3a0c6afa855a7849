"""A rollout followed through describe_services answers, as ECS gives them: stable on the new
revision; failed and rolled back by the circuit breaker (said, with ECS's reason); a failure
that went by between two looks; and only this rollout's events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from runbook.steps.rollout import RolloutWatch

T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
TD = "arn:aws:ecs:us-east-1:123456789012:task-definition/flask-todo:{}"


def deployment(revision: int, status: str, rollout: str, running: int, **more: Any) -> dict:
    return {
        "id": f"ecs-svc/{revision}",
        "status": status,
        "taskDefinition": TD.format(revision),
        "rolloutState": rollout,
        "desiredCount": 1,
        "runningCount": running,
        "pendingCount": 0,
        "failedTasks": 0,
        "createdAt": T0 + timedelta(minutes=revision),
        **more,
    }


def answer(revision: int, running: int, *deployments: dict, events: tuple = ()) -> dict:
    return {
        "services": [
            {
                "serviceName": "flask-todo-service",
                "taskDefinition": TD.format(revision),
                "desiredCount": 1,
                "runningCount": running,
                "deployments": list(deployments),
                "events": [
                    {"id": str(n), "message": message, "createdAt": when}
                    for n, (message, when) in enumerate(events)
                ],
            }
        ]
    }


def test_a_rollout_is_reported_until_the_new_revision_is_stable() -> None:
    watch = RolloutWatch("VI")
    rolling = answer(
        2,
        2,
        deployment(2, "PRIMARY", "IN_PROGRESS", 1),
        deployment(1, "ACTIVE", "COMPLETED", 1),
        events=(
            (
                "(service flask-todo-service) has started 1 tasks: (task new).",
                T0 + timedelta(minutes=3),
            ),
            ("(service flask-todo-service) has reached a steady state.", T0),  # the last one
        ),
    )
    assert watch.until(rolling) is False
    report = watch.report(rolling)
    assert [(d.status, d.task_definition, d.running) for d in report.deployments] == [
        ("PRIMARY", "flask-todo:2", 1),
        ("ACTIVE", "flask-todo:1", 1),
    ]
    assert [e.message for e in report.events] == [
        "(service flask-todo-service) has started 1 tasks: (task new)."
    ]
    done = answer(2, 1, deployment(2, "PRIMARY", "COMPLETED", 1))
    assert watch.until(done) is True


def test_a_failed_rollout_is_watched_until_rolled_back_then_explained() -> None:
    watch = RolloutWatch("VI")
    assert (
        watch.until(
            answer(
                2,
                1,
                deployment(2, "PRIMARY", "IN_PROGRESS", 0),
                deployment(1, "ACTIVE", "COMPLETED", 1),
            )
        )
        is False
    )
    failing = answer(
        1,
        1,
        deployment(1, "PRIMARY", "IN_PROGRESS", 1),
        deployment(
            2,
            "ACTIVE",
            "FAILED",
            0,
            rolloutStateReason="ECS deployment circuit breaker: tasks failed to start.",
            failedTasks=3,
        ),
        events=(("(service flask-todo-service) rolling back to deployment ecs-svc/1.", T0),),
    )
    assert watch.until(failing) is False  # rolling back: keep showing it
    assert watch.report(failing).deployments[1].failed == 3
    # Rolled back: the old revision's deployment is done (the failed one may stay listed).
    rolled_back = answer(
        1, 1, deployment(1, "PRIMARY", "COMPLETED", 1), deployment(2, "ACTIVE", "FAILED", 0)
    )
    verdict = watch.until(rolled_back)
    assert isinstance(verdict, str)
    assert verdict.startswith("ECS deployment circuit breaker: tasks failed to start.")
    assert "rolled the service back to flask-todo:1, which is running again" in verdict
    assert "flask-todo:2 never became healthy" in verdict


def test_a_failure_without_rollback_ends_the_wait_at_once() -> None:
    watch = RolloutWatch("VI")
    failed = answer(
        2, 0, deployment(2, "PRIMARY", "FAILED", 0, rolloutStateReason="circuit breaker")
    )
    assert watch.until(failed) == "circuit breaker"


def test_a_rollback_that_went_by_between_two_looks_is_not_taken_for_success() -> None:
    watch = RolloutWatch("VI")
    assert watch.until(answer(2, 0, deployment(2, "PRIMARY", "IN_PROGRESS", 0))) is False
    verdict = watch.until(answer(1, 1, deployment(1, "PRIMARY", "COMPLETED", 1)))
    assert verdict == (
        "the service is running flask-todo:1, not flask-todo:2: ECS rolled the new revision back"
    )


def test_an_earlier_rollouts_failed_deployment_does_not_count() -> None:
    """A failed deployment from before this rollout began may still be listed a while."""
    watch = RolloutWatch("VI")
    old_failure = deployment(0, "ACTIVE", "FAILED", 0, rolloutStateReason="old")
    assert (
        watch.until(answer(2, 0, deployment(2, "PRIMARY", "IN_PROGRESS", 0), old_failure)) is False
    )
    assert watch.until(answer(2, 1, deployment(2, "PRIMARY", "COMPLETED", 1))) is True
