"""Route 53 records: section VII's alias to the load balancer and the certificate's CNAME.

A record has no tag; the step removes only the alias that points at our load balancer.
"""

from __future__ import annotations

from typing import Any

from runbook.plan import Action, ApiCall, Ref
from runbook.resources.kind import Kind
from runbook.resources.template import Template, logical_id
from runbook.rules.kinds import between, length
from runbook.rules.spec import OWN_TEXT, Field, Operation
from runbook.rules.spec import settings_fix as fix

NAME = "DNS record"
# Route 53 refuses to DELETE a record that is not there (or differs) with this code.
NOT_FOUND = ("InvalidChangeBatch",)
API = "https://docs.aws.amazon.com/Route53/latest/APIReference/API_ResourceRecordSet.html"


def change(zone: Any, action: str, record: dict[str, Any]) -> dict[str, Any]:
    """Route 53's parameters for one change to one record."""
    return {
        "HostedZoneId": zone,
        "ChangeBatch": {"Changes": [{"Action": action, "ResourceRecordSet": record}]},
    }


def delete(zone: Any, record: dict[str, Any], why: str, section: str) -> list[Action]:
    return [
        ApiCall(
            "route53",
            "change_resource_record_sets",
            change(zone, "DELETE", record),
            why,
            section,
            done_on=NOT_FOUND,
        )
    ]


def as_cfn(t: Template, call: ApiCall) -> None:
    (one,) = call.params["ChangeBatch"]["Changes"]
    rrset = one["ResourceRecordSet"]
    if isinstance(rrset["Name"], Ref):  # the certificate's validation record: see Certificate
        return
    t.add(
        logical_id(rrset["Name"], "alias"),
        "AWS::Route53::RecordSet",
        t.value({"HostedZoneId": call.params["HostedZoneId"], **rrset}),
    )


def rules() -> dict[tuple[str, str], Operation]:
    record = "ChangeBatch.Changes[].ResourceRecordSet"
    return {
        ("route53", "change_resource_record_sets"): Operation(
            (
                Field(f"{record}.TTL", (between(0, 2147483647, API, " s"),), OWN_TEXT),
                Field(f"{record}.Name", (length(1, 1024, API),), fix("domain.name")),
            )
        ),
    }


KIND = Kind(
    NAME,
    section="VII",
    not_found=NOT_FOUND,
    translations={("route53", "change_resource_record_sets"): as_cfn},
    rules=rules,
    # First: the name stops pointing at what is about to go.
    delete_order={"change_resource_record_sets": 0},
)
