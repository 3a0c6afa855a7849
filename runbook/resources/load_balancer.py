"""Application Load Balancers (ELB v2): section II's internet-facing ALB."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from runbook.aws import Aws
from runbook.plan import Action, ApiCall, Wait
from runbook.recovery.answers import Answer, Found
from runbook.resources.batches import each_or_all
from runbook.resources.kind import (
    Create,
    Kind,
    Tagged,
    TagSearch,
    adopts,
    leftover_label,
    missing_on,
)
from runbook.resources.template import Template, logical_id, untagged
from runbook.rules.combinations import TWO_SUBNETS, tag_count
from runbook.rules.common import ELB_NAME, tag_fields
from runbook.rules.kinds import from_schema, never, pattern
from runbook.rules.spec import ELB_API, OWN_TEXT, Field, Operation
from runbook.rules.spec import settings_fix as fix

NAME = "load balancer"
NOT_FOUND = ("LoadBalancerNotFound",)


def elb_tags(aws: Aws, arn: str) -> list[dict[str, str]]:
    """The tags of one load balancer, target group or listener."""
    described = aws.call("elbv2", "describe_tags", ResourceArns=[arn])["TagDescriptions"]
    return described[0].get("Tags", []) if described else []


def gone(name: str, arn: str, section: str) -> Wait:
    """Until it is deleted: its target groups are in use until then."""
    return Wait(
        "elbv2",
        "describe_load_balancers",
        {"LoadBalancerArns": [arn]},
        f"load balancer {name} to be deleted",
        until=lambda r: not r.get("LoadBalancers"),
        section=section,
        interval=10,
        timeout=600,
        done_on=NOT_FOUND,
    )


def delete(arn: str, name: str, label: str, section: str) -> list[Action]:
    return [
        ApiCall(
            "elbv2",
            "delete_load_balancer",
            {"LoadBalancerArn": arn},
            f"delete {label} and its listeners",
            section,
            done_on=NOT_FOUND,
        ),
        gone(name, arn, section),
    ]


# ELB's words for the two kinds it lists: "LoadBalancer", "TargetGroup".
_DESCRIBE = {"LoadBalancer": "describe_load_balancers", "TargetGroup": "describe_target_groups"}


def elb_found(
    aws: Aws, what: str, word: str, not_found: tuple[str, ...], name: str
) -> Found | None:
    """A load balancer or target group by name, answered as its create would be, with its tags.

    what: "load balancer"; word: "LoadBalancer", ELB's word for it in its calls' answers."""
    got = missing_on(not_found, lambda: aws.call("elbv2", _DESCRIBE[word], Names=[name]))
    listed = f"{word}s"
    if not got or not got[listed]:
        return None
    one = got[listed][0]
    return Found(f"{what} {name}", {listed: [one]}, elb_tags(aws, one[f"{word}Arn"]))


def elb_listed(
    aws: Aws, word: str, not_found: tuple[str, ...], arns: list[str]
) -> list[dict[str, Any]]:
    """The load balancers or target groups these ARNs name, those that still exist."""

    def read(batch: list[str]) -> list[dict[str, Any]]:
        return aws.call("elbv2", _DESCRIBE[word], **{f"{word}Arns": batch})[f"{word}s"]

    return each_or_all(arns, read, not_found)


def find(aws: Aws, p: Mapping[str, Any]) -> Found | None:
    return elb_found(aws, NAME, "LoadBalancer", NOT_FOUND, p["Name"])


def tagged(aws: Aws, _deployment: str, arns: list[str]) -> Iterator[Tagged]:
    for lb in elb_listed(aws, "LoadBalancer", NOT_FOUND, arns):
        yield Tagged(NAME, lb["LoadBalancerName"], lb["LoadBalancerArn"], lb["State"]["Code"])


def leftover(t: Tagged, section: str) -> list[Action]:
    return delete(t.id, t.name, leftover_label(t), section)


def as_cfn(t: Template, call: ApiCall) -> None:
    name = call.params["Name"]
    logical = logical_id(name)
    attributes = {
        "LoadBalancers.0.LoadBalancerArn": "",
        "LoadBalancers.0.DNSName": "DNSName",
        # CloudFormation spells it ...ID where the API says ...Id.
        "LoadBalancers.0.CanonicalHostedZoneId": "CanonicalHostedZoneID",
    }
    kind = "AWS::ElasticLoadBalancingV2::LoadBalancer"
    t.made(call, kind, untagged(call.params), logical=logical, name=name, attribute=attributes)
    t.outputs["LoadBalancerDNSName"] = {
        "Description": "The load balancer's DNS name: http://<it>/healthz answers once healthy",
        "Value": {"Fn::GetAtt": [logical, "DNSName"]},
    }


def attributes_as_cfn(t: Template, call: ApiCall) -> None:
    props = t.properties(t.owner(call.params["LoadBalancerArn"]))
    props.setdefault("LoadBalancerAttributes", []).extend(call.params["Attributes"])


def rules() -> dict[tuple[str, str], Operation]:
    lb = "AWS::ElasticLoadBalancingV2::LoadBalancer"
    attributes = f"{ELB_API}/API_LoadBalancerAttribute.html"
    return {
        ("elbv2", "create_load_balancer"): Operation(
            (
                Field(
                    "Name",
                    (
                        *ELB_NAME,
                        never(
                            lambda v: v.startswith("internal-"),
                            "must not start with internal-",
                            f"{ELB_API}/API_CreateLoadBalancer.html",
                        ),
                    ),
                    fix("load_balancer.name"),
                ),
                Field("Scheme", from_schema(lb, "Scheme"), OWN_TEXT),
                Field("Type", from_schema(lb, "Type"), OWN_TEXT),
                Field("IpAddressType", from_schema(lb, "IpAddressType"), OWN_TEXT),
                *tag_fields(lb),
            ),
            (TWO_SUBNETS, tag_count("Tags")),
        ),
        ("elbv2", "modify_load_balancer_attributes"): Operation(
            (
                Field(
                    "Attributes[].Key",
                    (
                        pattern(
                            r"[a-zA-Z0-9._]+",
                            "must be an attribute key such as routing.http.drop_invalid_"
                            "header_fields.enabled",
                            attributes,
                        ),
                    ),
                    OWN_TEXT,
                ),
                Field(
                    "Attributes[].Value",
                    (pattern(r"true|false", "must be true or false", attributes),),
                    OWN_TEXT,
                ),
            )
        ),
        # Adopting a load balancer or target group made by hand: ELB tags both alike.
        ("elbv2", "add_tags"): Operation(tag_fields(lb), (tag_count("Tags"),)),
        ("elbv2", "describe_load_balancers"): Operation(),
    }


KIND = Kind(
    NAME,
    section="II",
    not_found=NOT_FOUND,
    create=Create(
        "elbv2",
        "create_load_balancer",
        as_cfn,
        # AWS answers a repeated create with the same settings with the existing one; the
        # emulator makes a second load balancer: look before sending again.
        adopts(
            "DuplicateLoadBalancerName",
            find,
            look_first=True,
            # ELB's words for a security group made a moment ago that it cannot see yet.
            not_yet=(Answer("InvalidSecurityGroup", "does not exist"),),
        ),
    ),
    translations={("elbv2", "modify_load_balancer_attributes"): attributes_as_cfn},
    rules=rules,
    deleted_by={("elbv2", "delete_load_balancer"): 6},
    inventory=TagSearch(
        "load balancers", tagged, arn_type="loadbalancer", tagging_service="elasticloadbalancing"
    ),
    leftover=leftover,
)
