"""Listeners (ELB v2): HTTP:80 (section II) and HTTPS:443 with the redirect (section VII).

A listener goes with its load balancer; only the HTTPS one is deleted on its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runbook.aws import Aws
from runbook.plan import Action, ApiCall
from runbook.recovery.answers import Found
from runbook.resources.kind import Create, Kind, adopts
from runbook.resources.load_balancer import elb_tags
from runbook.resources.template import Template, untagged
from runbook.rules.combinations import tag_count
from runbook.rules.common import tag_fields
from runbook.rules.kinds import from_schema, pattern
from runbook.rules.spec import ELB_API, OWN_TEXT, Field, Operation
from runbook.rules.spec import settings_fix as fix

NAME = "listener"
NOT_FOUND = ("ListenerNotFound",)


def delete(arn: str, why: str, section: str) -> list[Action]:
    return [
        ApiCall("elbv2", "delete_listener", {"ListenerArn": arn}, why, section, done_on=NOT_FOUND)
    ]


def find(aws: Aws, p: Mapping[str, Any]) -> Found | None:
    listeners = aws.call("elbv2", "describe_listeners", LoadBalancerArn=p["LoadBalancerArn"])
    mine = [x for x in listeners["Listeners"] if x["Port"] == p["Port"]]
    if not mine:
        return None
    tags = elb_tags(aws, mine[0]["ListenerArn"])
    return Found(f"{p['Protocol']}:{p['Port']} listener", {"Listeners": mine[:1]}, tags)


def as_cfn(t: Template, call: ApiCall) -> None:
    p = call.params
    logical = f"{t.owner(p['LoadBalancerArn'])}{p['Protocol'].title()}{p['Port']}Listener"
    t.made(call, "AWS::ElasticLoadBalancingV2::Listener", untagged(p), logical=logical)


def change_as_cfn(t: Template, call: ApiCall) -> None:
    props = t.properties(t.owner(call.params["ListenerArn"]))
    props["DefaultActions"] = t.value(call.params["DefaultActions"])


def rules() -> dict[tuple[str, str], Operation]:
    listener = "AWS::ElasticLoadBalancingV2::Listener"
    return {
        ("elbv2", "create_listener"): Operation(
            (
                Field("Port", from_schema(listener, "Port"), fix("security_groups.listener_port")),
                Field("Protocol", from_schema(listener, "Protocol"), OWN_TEXT),
                *tag_fields(listener),
            ),
            (tag_count("Tags"),),
        ),
        ("elbv2", "modify_listener"): Operation(
            (
                Field(
                    "DefaultActions[].RedirectConfig.StatusCode",
                    (
                        pattern(
                            r"HTTP_30[12]",
                            "must be HTTP_301 or HTTP_302",
                            f"{ELB_API}/API_RedirectActionConfig.html",
                        ),
                    ),
                    OWN_TEXT,
                ),
            )
        ),
    }


KIND = Kind(
    NAME,
    section="II",
    not_found=NOT_FOUND,
    # The emulator makes a second listener on the same port: look before sending again.
    create=Create(
        "elbv2", "create_listener", as_cfn, adopts("DuplicateListener", find, look_first=True)
    ),
    translations={("elbv2", "modify_listener"): change_as_cfn},
    rules=rules,
    deleted_by={("elbv2", "delete_listener"): 5},
)
