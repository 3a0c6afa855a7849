"""ECS clusters: section III's cluster with Fargate capacity."""

from __future__ import annotations

from collections.abc import Iterator

from runbook.aws import Aws
from runbook.plan import ApiCall
from runbook.recovery.answers import Answer, Recovery
from runbook.resources.batches import in_twenties
from runbook.resources.kind import Create, Delete, Kind, Tagged, TagSearch
from runbook.resources.template import Template, logical_id, untagged
from runbook.rules.combinations import tag_count
from runbook.rules.common import ECS_NAME, ecs_tag_fields
from runbook.rules.spec import Field, Operation
from runbook.rules.spec import settings_fix as fix

NAME = "cluster"
NOT_FOUND = ("ClusterNotFoundException",)


def tagged(aws: Aws, _deployment: str, arns: list[str]) -> Iterator[Tagged]:
    for batch in in_twenties(sorted(set(arns))):
        for c in aws.call("ecs", "describe_clusters", clusters=batch)["clusters"]:
            if c["status"] != "INACTIVE":
                yield Tagged(NAME, c["clusterName"], c["clusterArn"], c["status"])


def as_cfn(t: Template, call: ApiCall) -> None:
    name = call.params["clusterName"]
    properties = untagged(call.params, camel=True)
    logical = logical_id(name)
    t.made(call, "AWS::ECS::Cluster", properties, logical=logical, name=name, attribute="Arn")


def rules() -> dict[tuple[str, str], Operation]:
    return {
        ("ecs", "create_cluster"): Operation(
            (
                Field("clusterName", ECS_NAME, fix("cluster.name")),
                *ecs_tag_fields("AWS::ECS::Cluster"),
            ),
            (tag_count("tags"),),
        ),
        # Adopting a cluster made by hand.
        ("ecs", "tag_resource"): Operation(
            ecs_tag_fields("AWS::ECS::Cluster"), (tag_count("tags"),)
        ),
    }


KIND = Kind(
    NAME,
    section="III",
    not_found=NOT_FOUND,
    create=Create(
        "ecs",
        "create_cluster",
        as_cfn,
        Recovery(not_yet=(Answer("InvalidParameterException", "service linked role"),)),
    ),
    rules=rules,
    inventory=TagSearch("ECS clusters", tagged, arn_type="cluster", tagging_service="ecs"),
    delete=Delete(
        "ecs",
        "delete_cluster",
        "cluster",
        rank=4,
        # Tasks of a just-deleted service may still be stopping.
        retry_on=("ClusterContainsTasksException", "ClusterContainsServicesException"),
    ),
)
