"""Application Auto Scaling scalable targets: section VIII's range for the service's count,
with its target tracking policy (deregistering the target removes the policy with it)."""

from __future__ import annotations

from typing import Any

from runbook.plan import Action, ApiCall
from runbook.recovery.answers import NOTHING, Answer
from runbook.resources.kind import Kind
from runbook.resources.template import Template, logical_id
from runbook.rules.combinations import CAPACITY
from runbook.rules.kinds import between, by_hand, from_schema
from runbook.rules.quotas import TASKS_PER_SERVICE
from runbook.rules.spec import OWN_TEXT, Field, Operation
from runbook.rules.spec import settings_fix as fix

NAME = "scaling target"
# AWS answers ObjectNotFoundException; the emulator, a ValidationException.
NOT_FOUND = ("ObjectNotFoundException",)
QUOTAS = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-quotas.html"
TARGET_TRACKING = (
    "https://docs.aws.amazon.com/autoscaling/application/APIReference/"
    "API_TargetTrackingScalingPolicyConfiguration.html"
)


def delete(where: dict[str, Any], why: str, section: str) -> list[Action]:
    return [
        ApiCall(
            "application-autoscaling",
            "deregister_scalable_target",
            where,
            why,
            section,
            done_on=NOT_FOUND,
        )
    ]


def as_cfn(t: Template, call: ApiCall) -> None:
    service_logical = next(
        name for name, r in t.resources.items() if r["Type"] == "AWS::ECS::Service"
    )
    t.add(
        "ScalableTarget",
        "AWS::ApplicationAutoScaling::ScalableTarget",
        dict(call.params),
        depends_on=[service_logical],
    )


def policy_as_cfn(t: Template, call: ApiCall) -> None:
    p = call.params
    t.add(
        logical_id(p["PolicyName"]),
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        {
            "PolicyName": p["PolicyName"],
            "PolicyType": p["PolicyType"],
            "ScalingTargetId": {"Ref": "ScalableTarget"},
            "TargetTrackingScalingPolicyConfiguration": p[
                "TargetTrackingScalingPolicyConfiguration"
            ],
        },
    )


def rules() -> dict[tuple[str, str], Operation]:
    scaling = "AWS::ApplicationAutoScaling::ScalingPolicy"
    where = (
        Field("ServiceNamespace", from_schema(scaling, "ServiceNamespace"), OWN_TEXT),
        Field("ScalableDimension", from_schema(scaling, "ScalableDimension"), OWN_TEXT),
        Field(
            "ResourceId", from_schema(scaling, "ResourceId"), fix("cluster.name", "service.name")
        ),
    )
    return {
        ("application-autoscaling", "register_scalable_target"): Operation(
            (
                *where,
                # ECS services scale from 0 (RegisterScalableTarget MinCapacity) up to the
                # service's tasks: ECS's tasks per service quota.
                Field(
                    "MinCapacity",
                    (between(0, TASKS_PER_SERVICE, QUOTAS, " tasks"),),
                    fix("service.desired_count"),
                ),
                Field(
                    "MaxCapacity",
                    (between(0, TASKS_PER_SERVICE, QUOTAS, " tasks"),),
                    fix("auto_scaling.max_tasks"),
                ),
            ),
            (CAPACITY,),
        ),
        ("application-autoscaling", "put_scaling_policy"): Operation(
            (
                *where,
                Field("PolicyName", from_schema(scaling, "PolicyName"), OWN_TEXT),
                Field("PolicyType", from_schema(scaling, "PolicyType"), OWN_TEXT),
                # "if the metric is CPU utilization, then the target value is a percent value"
                Field(
                    "TargetTrackingScalingPolicyConfiguration.TargetValue",
                    (
                        by_hand(
                            "a CPU utilization target: a percentage above 0, at most 100",
                            TARGET_TRACKING,
                            lambda v: not isinstance(v, int | float) or 0 < v <= 100,
                        ),
                    ),
                    fix("auto_scaling.target_cpu"),
                ),
            )
        ),
        ("application-autoscaling", "deregister_scalable_target"): Operation(where),
    }


KIND = Kind(
    NAME,
    section="VIII",
    not_found=NOT_FOUND,
    gone=(Answer("ValidationException", "no scalable target found"),),
    recoveries={
        # "Registers or updates a scalable target": the same range sent twice is the same range.
        ("application-autoscaling", "register_scalable_target"): NOTHING,
    },
    translations={
        ("application-autoscaling", "register_scalable_target"): as_cfn,
        ("application-autoscaling", "put_scaling_policy"): policy_as_cfn,
    },
    rules=rules,
    # First: scaling stops before the service it scales goes.
    deleted_by={("application-autoscaling", "deregister_scalable_target"): 0},
)
