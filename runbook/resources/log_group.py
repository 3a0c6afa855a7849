"""CloudWatch Logs log groups: where the task's awslogs driver writes (section III)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from runbook.aws import Aws
from runbook.plan import ApiCall
from runbook.recovery.answers import Found
from runbook.resources.kind import Create, Delete, Kind, Tagged, TagSearch, adopts
from runbook.resources.template import Template, cfn_tags, logical_id
from runbook.rules.combinations import tag_count
from runbook.rules.common import tag_fields
from runbook.rules.kinds import from_schema, never
from runbook.rules.spec import FOUND, Field, Operation
from runbook.rules.spec import settings_fix as fix

NAME = "log group"
NOT_FOUND = ("ResourceNotFoundException",)


def find(aws: Aws, p: Mapping[str, Any]) -> Found | None:
    name = p["logGroupName"]
    groups = aws.call("logs", "describe_log_groups", logGroupNamePrefix=name)["logGroups"]
    if not any(g["logGroupName"] == name for g in groups):
        return None
    tags = aws.call("logs", "list_tags_log_group", logGroupName=name).get("tags", {})
    return Found(f"log group {name}", {}, tags)  # create_log_group answers nothing


def tagged(aws: Aws, _deployment: str, arns: list[str]) -> Iterator[Tagged]:
    for arn in sorted(set(arns)):
        name = arn.split(":log-group:", 1)[-1].removesuffix(":*")
        groups = aws.call("logs", "describe_log_groups", logGroupNamePrefix=name)["logGroups"]
        for group in groups:
            if group["logGroupName"] == name:
                yield Tagged(
                    NAME, name, group["arn"], detail={"retention": group.get("retentionInDays")}
                )


def as_cfn(t: Template, call: ApiCall) -> None:
    p = call.params
    t.add(
        logical_id(p["logGroupName"], "log-group"),
        "AWS::Logs::LogGroup",
        {"LogGroupName": p["logGroupName"], "Tags": cfn_tags(p["tags"])},
        name=p["logGroupName"],
    )


def retention_as_cfn(t: Template, call: ApiCall) -> None:
    t.properties(t.owner(call.params["logGroupName"]))["RetentionInDays"] = call.params[
        "retentionInDays"
    ]


def rules() -> dict[tuple[str, str], Operation]:
    logs = "AWS::Logs::LogGroup"
    reserved = never(
        lambda v: v.startswith("aws/"),
        "must not start with 'aws/', which CloudWatch Logs keeps for AWS's services",
        "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/"
        "API_CreateLogGroup.html",
    )
    name = Field(
        "logGroupName", (*from_schema(logs, "LogGroupName"), reserved), fix("cluster.log_group")
    )
    tags = (*tag_fields(logs, "tags", "map"),)
    return {
        ("logs", "create_log_group"): Operation((name, *tags), (tag_count("tags"),)),
        ("logs", "tag_log_group"): Operation((name, *tags), (tag_count("tags"),)),
        ("logs", "put_retention_policy"): Operation(
            (
                name,
                Field(
                    "retentionInDays",
                    from_schema(logs, "RetentionInDays"),
                    fix("cluster.log_retention_days"),
                ),
            )
        ),
        ("logs", "delete_log_group"): Operation(
            (Field("logGroupName", from_schema(logs, "LogGroupName"), FOUND),)
        ),
    }


KIND = Kind(
    NAME,
    section="III",
    not_found=NOT_FOUND,
    create=Create(
        "logs", "create_log_group", as_cfn, adopts("ResourceAlreadyExistsException", find)
    ),
    translations={("logs", "put_retention_policy"): retention_as_cfn},
    rules=rules,
    inventory=TagSearch("log groups", tagged, arn_type="log-group", tagging_service="logs"),
    delete=Delete("logs", "delete_log_group", "logGroupName", rank=4, by_name=True),
)
