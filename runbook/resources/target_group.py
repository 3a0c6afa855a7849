"""Target groups (ELB v2): where the load balancer sends traffic, the service's tasks by IP."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from runbook.aws import Aws
from runbook.plan import ApiCall
from runbook.recovery.answers import Found
from runbook.resources.kind import Create, Delete, Kind, Tagged, TagSearch, adopts
from runbook.resources.load_balancer import elb_found, elb_listed
from runbook.resources.template import Template, logical_id, untagged
from runbook.rules.combinations import TIMEOUT, tag_count
from runbook.rules.common import ELB_NAME, HEALTH_CHECK_PATH, tag_fields
from runbook.rules.kinds import by_hand, from_schema, pattern
from runbook.rules.spec import ELB_API, OWN_TEXT, Field, Operation
from runbook.rules.spec import settings_fix as fix

NAME = "target group"
NOT_FOUND = ("TargetGroupNotFound",)


def find(aws: Aws, p: Mapping[str, Any]) -> Found | None:
    return elb_found(aws, NAME, "TargetGroup", NOT_FOUND, p["Name"])


def tagged(aws: Aws, _deployment: str, arns: list[str]) -> Iterator[Tagged]:
    for tg in elb_listed(aws, "TargetGroup", NOT_FOUND, arns):
        yield Tagged(NAME, tg["TargetGroupName"], tg["TargetGroupArn"])


def as_cfn(t: Template, call: ApiCall) -> None:
    name = call.params["Name"]
    kind = "AWS::ElasticLoadBalancingV2::TargetGroup"
    t.made(call, kind, untagged(call.params), logical=logical_id(name), name=name)


def attributes_as_cfn(t: Template, call: ApiCall) -> None:
    props = t.properties(t.owner(call.params["TargetGroupArn"]))
    props.setdefault("TargetGroupAttributes", []).extend(call.params["Attributes"])


def _target_group(create: bool) -> Operation:
    tg = "AWS::ElasticLoadBalancingV2::TargetGroup"
    lb = fix("load_balancer.health_check_interval", "healthy_threshold", "health_check_path")
    fields = (
        Field("HealthCheckProtocol", from_schema(tg, "HealthCheckProtocol"), OWN_TEXT),
        Field(
            "HealthCheckPath",
            (
                *from_schema(tg, "HealthCheckPath"),
                pattern(
                    HEALTH_CHECK_PATH,
                    "must start with / and be a URI path (and query), no spaces",
                    "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/"
                    "target-group-health-checks.html",
                ),
            ),
            lb,
        ),
        Field("HealthCheckIntervalSeconds", from_schema(tg, "HealthCheckIntervalSeconds"), lb),
        Field("HealthCheckTimeoutSeconds", from_schema(tg, "HealthCheckTimeoutSeconds"), lb),
        Field("HealthyThresholdCount", from_schema(tg, "HealthyThresholdCount"), lb),
        Field("UnhealthyThresholdCount", from_schema(tg, "UnhealthyThresholdCount"), OWN_TEXT),
    )
    if create:
        fields += (
            Field("Name", ELB_NAME, fix("load_balancer.target_group")),
            Field("Protocol", from_schema(tg, "Protocol"), OWN_TEXT),
            Field("Port", from_schema(tg, "Port"), fix("security_groups.app_port")),
            Field("TargetType", from_schema(tg, "TargetType"), OWN_TEXT),
            *tag_fields(tg),
        )
    return Operation(fields, (TIMEOUT, *((tag_count("Tags"),) if create else ())))


def rules() -> dict[tuple[str, str], Operation]:
    attribute = f"{ELB_API}/API_TargetGroupAttribute.html"
    return {
        ("elbv2", "create_target_group"): _target_group(create=True),
        ("elbv2", "modify_target_group"): _target_group(create=False),
        ("elbv2", "modify_target_group_attributes"): Operation(
            (
                Field(
                    "Attributes[].Value",
                    (
                        pattern(r"\d{1,4}", "deregistration delay: 0 to 3600 seconds", attribute),
                        by_hand(
                            "deregistration delay: 0 to 3600 seconds",
                            attribute,
                            lambda v: not str(v).isdigit() or int(v) <= 3600,
                        ),
                    ),
                    fix("load_balancer.deregistration_delay"),
                ),
            )
        ),
    }


KIND = Kind(
    NAME,
    section="II",
    not_found=NOT_FOUND,
    # AWS answers a repeated create with the same settings with the existing one; the
    # emulator may not: look before sending again.
    create=Create(
        "elbv2",
        "create_target_group",
        as_cfn,
        adopts("DuplicateTargetGroupName", find, look_first=True),
    ),
    translations={("elbv2", "modify_target_group_attributes"): attributes_as_cfn},
    rules=rules,
    inventory=TagSearch(
        "target groups", tagged, arn_type="targetgroup", tagging_service="elasticloadbalancing"
    ),
    delete=Delete(
        "elbv2",
        "delete_target_group",
        "TargetGroupArn",
        rank=7,
        # Until its load balancer (and listeners) are gone.
        retry_on=("ResourceInUse",),
    ),
)
