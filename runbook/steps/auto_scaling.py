"""Section VIII (the guide's to-do): scale the service's task count on average CPU."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runbook.aws import Aws
from runbook.plan import Action, ApiCall
from runbook.resources import scalable_target as target_kind
from runbook.settings import Settings
from runbook.steps.base import Observed, Resource, Step
from runbook.steps.service import service_key

NAMESPACE = "ecs"
DIMENSION = "ecs:service:DesiredCount"
POLICY = "cpu-target-tracking"


def resource_id(s: Settings) -> str:
    return f"service/{s.cluster.name}/{s.service.name}"


def where(s: Settings) -> dict[str, str]:
    return {
        "ServiceNamespace": NAMESPACE,
        "ResourceId": resource_id(s),
        "ScalableDimension": DIMENSION,
    }


def scalable_target(aws: Aws, s: Settings) -> dict[str, Any] | None:
    """The service as Application Auto Scaling knows it (its range), or None."""
    targets = aws.call(
        "application-autoscaling",
        "describe_scalable_targets",
        ServiceNamespace=NAMESPACE,
        ResourceIds=[resource_id(s)],
        ScalableDimension=DIMENSION,
    )["ScalableTargets"]
    return targets[0] if targets else None


def _policy_config(s: Settings) -> dict[str, Any]:
    return {
        "TargetValue": float(s.auto_scaling.target_cpu),
        "PredefinedMetricSpecification": {
            "PredefinedMetricType": "ECSServiceAverageCPUUtilization"
        },
        # Add tasks within a minute of load; remove them slowly, so a burst does not flap.
        "ScaleOutCooldown": 60,
        "ScaleInCooldown": 300,
    }


class AutoScalingStep(Step):
    number = "VIII"
    key = "auto_scaling"
    title = "Auto scaling"
    explanation = (
        "Beyond the guide (its own to-do list): with a maximum task count set, Application "
        "Auto Scaling keeps the service's average CPU near the target by adding tasks "
        "within a minute and removing them after five quiet minutes, never below the "
        "service's desired count. At 0 the service keeps the guide's fixed count."
    )

    def enabled(self, s: Settings) -> bool:
        return s.auto_scaling.max_tasks > 0

    def discover(self, aws: Aws, s: Settings, known: Mapping[str, Any]) -> Observed:
        seen = Observed()
        target = scalable_target(aws, s)
        seen.found["target"] = target
        if target:
            policies = aws.call(
                "application-autoscaling",
                "describe_scaling_policies",
                PolicyNames=[POLICY],
                **where(s),
            )["ScalingPolicies"]
            seen.found["policy"] = policies[0] if policies else None
        seen.resources.append(
            Resource(
                target_kind.NAME,
                resource_id(s),
                resource_id(s) if target else "",
                f"{target['MinCapacity']} to {target['MaxCapacity']} tasks" if target else "off",
                # It scales our service and goes with it.
                bool(target),
            )
        )
        return seen

    def plan(self, s: Settings, seen: Observed | None) -> list[Action]:
        scaling = s.auto_scaling
        if not scaling.max_tasks:
            return []  # off: what someone set up by hand is left alone
        found = seen.found if seen else {}
        target, policy = found.get("target"), found.get("policy")
        actions: list[Action] = []
        low, high = s.service.desired_count, scaling.max_tasks
        if not target or (target["MinCapacity"], target["MaxCapacity"]) != (low, high):
            actions.append(
                ApiCall(
                    "application-autoscaling",
                    "register_scalable_target",
                    {**where(s), "MinCapacity": low, "MaxCapacity": high},
                    f"let the service scale between {low} and {high} tasks",
                    self.number,
                    # The service made a moment ago may not be visible to Auto Scaling yet.
                    retry_on=("ValidationException",),
                )
            )
        wanted = _policy_config(s)
        current = (policy or {}).get("TargetTrackingScalingPolicyConfiguration", {})
        if not policy or any(current.get(k) != v for k, v in wanted.items()):
            actions.append(
                ApiCall(
                    "application-autoscaling",
                    "put_scaling_policy",
                    {
                        **where(s),
                        "PolicyName": POLICY,
                        "PolicyType": "TargetTrackingScaling",
                        "TargetTrackingScalingPolicyConfiguration": wanted,
                    },
                    f"keep average CPU near {scaling.target_cpu}%",
                    self.number,
                )
            )
        return actions

    def teardown(self, s: Settings, seen: Observed) -> list[Action]:
        if not seen.found.get("target"):
            return []
        return target_kind.delete(
            where(s), "stop scaling the service (its policy goes with it)", self.number
        )

    def output_keys(self, s: Settings) -> list[str]:
        return []

    def needs(self, s: Settings) -> list[str]:
        return [service_key(s)]
