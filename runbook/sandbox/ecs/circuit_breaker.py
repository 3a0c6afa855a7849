"""The deployment circuit breaker: a deployment whose tasks keep failing is failed, and with
rollback on, the last completed deployment becomes the primary again.

It trips after max(3, min(200, ceil(0.5 x desired))) failed tasks of the deployment.
(docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html)
"""

from __future__ import annotations

import math
from typing import Any

from runbook.sandbox import moto_state

Service = tuple[str, str]  # (cluster, service name)


def failure_threshold(desired: int) -> int:
    """The circuit breaker's threshold: 0.5 x desired, at least 3, at most 200."""
    return max(3, min(200, math.ceil(0.5 * desired)))


class CircuitBreaker:
    def __init__(self) -> None:
        self.failed: dict[str, int] = {}  # deployment id -> its failed tasks
        self.failed_at: dict[str, float] = {}  # deployment id -> when the breaker failed it
        self.completed: dict[Service, str] = {}  # service -> its last completed task definition

    def task_failed(self, deployment: str) -> None:
        self.failed[deployment] = self.failed.get(deployment, 0) + 1

    def trips(self, service: dict[str, Any], primary: dict[str, Any]) -> bool:
        """The service's breaker is on and its rollout has failed too many tasks."""
        config = (service.get("deploymentConfiguration") or {}).get("deploymentCircuitBreaker")
        return (
            bool((config or {}).get("enable"))
            and primary["rolloutState"] == "IN_PROGRESS"
            and self.failed.get(primary["id"], 0) >= failure_threshold(service["desiredCount"])
        )

    @staticmethod
    def rolls_back(service: dict[str, Any]) -> bool:
        config = (service.get("deploymentConfiguration") or {}).get("deploymentCircuitBreaker")
        return bool((config or {}).get("rollback", False))

    @staticmethod
    def fail(model: Any, name: str, primary: dict[str, Any]) -> None:
        """The deployment is FAILED, with ECS's reason and event."""
        primary["rolloutState"] = "FAILED"
        primary["rolloutStateReason"] = "ECS deployment circuit breaker: tasks failed to start."
        primary["updatedAt"] = moto_state.now()
        moto_state.add_service_event(
            model,
            f"(service {name}) (deployment {primary['id']}) deployment failed: "
            "tasks failed to start.",
        )

    def roll_back(
        self,
        model: Any,
        key: Service,
        primary: dict[str, Any],
        rollback: bool,
        now: float,
    ) -> None:
        """As ECS: the last completed deployment is the rollback, IN_PROGRESS again."""
        previous = next(
            (d for d in model.deployments if d is not primary and d["rolloutState"] == "COMPLETED"),
            None,
        )
        if rollback and previous is None and self.completed.get(key):
            previous = moto_state.start_deployment(model, self.completed[key])
        self.failed_at[primary["id"]] = now
        if rollback and previous is not None:
            primary["status"], previous["status"] = "ACTIVE", "PRIMARY"
            previous["rolloutState"] = "IN_PROGRESS"
            previous["rolloutStateReason"] = (
                f"ECS deployment circuit breaker: rolling back to deploymentId {previous['id']}."
            )
            previous["updatedAt"] = moto_state.now()
            model.deployments.remove(previous)
            model.deployments.insert(0, previous)
            model.task_definition = previous["taskDefinition"]
            moto_state.add_service_event(
                model, f"(service {key[1]}) rolling back to deployment {previous['id']}."
            )
