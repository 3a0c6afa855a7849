"""ECS services: section VI's service, its tasks behind the target group."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from typing import Any

from runbook.aws import Aws
from runbook.errors import Problem, RunbookError
from runbook.plan import Action, ApiCall, Wait
from runbook.recovery.answers import NOTHING, Answer, Found, Recovery, Token
from runbook.resources import cluster
from runbook.resources.batches import in_twenties
from runbook.resources.kind import Create, Kind, Tagged, TagSearch, leftover_label, missing_on
from runbook.resources.tags import tagged as carries_tag
from runbook.resources.template import Template, logical_id, untagged
from runbook.rules.combinations import tag_count
from runbook.rules.common import ECS_NAME, INT_MAX, ecs_tag_fields
from runbook.rules.ecs_task import LAUNCH_OR_CAPACITY, network_fields, run_task_fields
from runbook.rules.kinds import between, by_hand
from runbook.rules.quotas import TASKS_PER_SERVICE
from runbook.rules.spec import ECS_API, FOUND, OWN_TEXT, Field, Operation
from runbook.rules.spec import settings_fix as fix
from runbook.settings import DEPLOYMENT_TAG, Settings

NAME = "service"
NOT_FOUND = ("ServiceNotFoundException",)
QUOTAS = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-quotas.html"
# CreateService's and UpdateService's count: ECS's tasks per service at most.
DESIRED_COUNT = Field(
    "desiredCount",
    (between(0, TASKS_PER_SERVICE, QUOTAS, " (ECS's tasks per service)"),),
    fix("service.desired_count"),
)
# ECS answers a describe of services in a cluster that is gone with the cluster's code.
CLUSTER_NOT_FOUND = cluster.NOT_FOUND


def delete(cluster_name: str, name: str, label: str, section: str) -> list[Action]:
    """Delete it and stop its tasks, then wait until it is INACTIVE (the cluster waits)."""
    return [
        ApiCall(
            "ecs",
            "delete_service",
            {"cluster": cluster_name, "service": name, "force": True},
            f"delete {label} and stop its tasks",
            section,
            done_on=NOT_FOUND,
        ),
        Wait(
            "ecs",
            "describe_services",
            {"cluster": cluster_name, "services": [name]},
            f"service {name} to be deleted",
            until=lambda r: all(x["status"] == "INACTIVE" for x in r["services"]),
            section=section,
            interval=10,
            timeout=900,
            done_on=CLUSTER_NOT_FOUND,
        ),
    ]


def find(aws: Aws, p: Mapping[str, Any]) -> Found | None:
    got = aws.call(
        "ecs",
        "describe_services",
        cluster=p["cluster"],
        services=[p["serviceName"]],
        include=["TAGS"],
    )
    active = [s for s in got["services"] if s["status"] == "ACTIVE"]
    if not active:
        return None  # none, or one still draining from a delete: not ours to take
    return Found(f"service {p['serviceName']}", {"service": active[0]}, active[0].get("tags"))


def tagged(aws: Aws, _deployment: str, arns: list[str]) -> Iterator[Tagged]:
    by_cluster: dict[str, list[str]] = defaultdict(list)
    for arn in arns:
        parts = arn.split(":", 5)[5].split("/")
        if len(parts) == 3:  # service/<cluster>/<name>: the long ARN format, default since 2021
            by_cluster[parts[1]].append(arn)
    for cluster_name, members in by_cluster.items():
        for batch in in_twenties(sorted(set(members))):
            got = missing_on(
                CLUSTER_NOT_FOUND,
                lambda batch=batch, cluster_name=cluster_name: aws.call(
                    "ecs", "describe_services", cluster=cluster_name, services=batch
                ),
            ) or {"services": []}
            for svc in got["services"]:
                if svc["status"] != "INACTIVE":
                    state = f"{svc['status']}, {svc['runningCount']}/{svc['desiredCount']} running"
                    yield Tagged(
                        NAME,
                        svc["serviceName"],
                        svc["serviceArn"],
                        state,
                        detail={"cluster": cluster_name},
                    )


def leftover(t: Tagged, section: str) -> list[Action]:
    return delete(t.detail.get("cluster", ""), t.name, leftover_label(t), section)


def as_cfn(t: Template, call: ApiCall) -> None:
    name = call.params["serviceName"]
    properties = untagged(call.params, camel=True, leave="cluster")
    properties["Cluster"] = {"Ref": t.owner(call.params["cluster"])}
    t.made(call, "AWS::ECS::Service", properties, logical=logical_id(name), name=name)


def release_note(t: Template, call: ApiCall) -> None:
    """A one-off task is no resource: CloudFormation cannot run the release command."""
    command = call.params["overrides"]["containerOverrides"][0]["command"]
    t.notes.append(
        f"The release command ({' '.join(command)}) is not in the template: CloudFormation "
        "runs no one-off task. Run it before the service takes a new revision, e.g. "
        "`aws ecs run-task` with the service's network, or `runbook run`."
    )


def rules() -> dict[tuple[str, str], Operation]:
    svc = "AWS::ECS::Service"
    create = f"{ECS_API}/API_CreateService.html"
    cluster = Field("cluster", ECS_NAME, fix("cluster.name"))
    container = fix("task_definition.container_name")
    # The calls that start its tasks: tags as ECS counts them, a launch type or capacity.
    starting = (tag_count("tags"), LAUNCH_OR_CAPACITY)
    return {
        ("ecs", "create_service"): Operation(
            (
                Field("serviceName", ECS_NAME, fix("service.name")),
                cluster,
                # launchType and propagateTags: botocore's enumerations, which are newer than
                # the CloudFormation schema's (MANAGED_INSTANCES, NONE).
                DESIRED_COUNT,
                Field(
                    "healthCheckGracePeriodSeconds",
                    (between(0, INT_MAX, create, " s"),),
                    fix("service.health_check_grace_period"),
                ),
                Field("loadBalancers[].containerName", ECS_NAME, container),
                *network_fields(),
                *ecs_tag_fields(svc),
            ),
            starting,
        ),
        ("ecs", "update_service"): Operation(
            (
                Field("service", ECS_NAME, fix("service.name")),
                cluster,
                DESIRED_COUNT,
                *network_fields(),
            )
        ),
        ("ecs", "describe_services"): Operation((cluster,)),
        # The service's one-off tasks (`runbook run`, a release command): its task definition,
        # network and tags, with another command.
        ("ecs", "run_task"): Operation(
            (
                cluster,
                *run_task_fields(),
                *network_fields(),
                Field("overrides.containerOverrides[].name", ECS_NAME, container),
                *ecs_tag_fields(svc),
            ),
            starting,
        ),
        ("ecs", "describe_tasks"): Operation(
            (
                cluster,
                # DescribeTasks tasks: "A list of up to 100 task IDs or full ARN entries."
                Field(
                    "tasks",
                    (
                        by_hand(
                            "must list 1 to 100 tasks",
                            f"{ECS_API}/API_DescribeTasks.html",
                            lambda v: not isinstance(v, list) or 1 <= len(v) <= 100,
                        ),
                    ),
                    OWN_TEXT,
                ),
            )
        ),
        ("ecs", "delete_service"): Operation(
            (Field("service", ECS_NAME, FOUND), Field("cluster", ECS_NAME, FOUND))
        ),
    }


KIND = Kind(
    NAME,
    section="VI",
    not_found=NOT_FOUND,
    gone=(Answer("ServiceNotActiveException"),),
    create=Create(
        "ecs",
        "create_service",
        as_cfn,
        Recovery(
            # A repeated clientToken with the same parameters returns the service; otherwise
            # ECS answers "Creation of service was not idempotent".
            exists=(Answer("InvalidParameterException", "not idempotent"),),
            find=find,
            not_yet=(
                Answer("InvalidParameterException", "service linked role"),
                Answer("InvalidParameterException", "does not have an associated load balancer"),
                Answer("InvalidParameterException", "does not exist"),
            ),
            token=Token("clientToken", 36),  # up to 36 ASCII characters
        ),
    ),
    recoveries={
        # Sent again after a lost answer: a count or a task definition set twice is set once.
        # A forceNewDeployment (day two's redeploy) sent twice starts a second deployment that
        # replaces the first one's new tasks: the same end (fresh tasks of the same revision),
        # one rollout more. UpdateService takes no client token to tell the two apart.
        ("ecs", "update_service"): NOTHING,
        # RunTask's clientToken: a repeated token starts no second task (up to 64 characters).
        ("ecs", "run_task"): Recovery(token=Token("clientToken", 64)),
    },
    translations={("ecs", "run_task"): release_note},
    rules=rules,
    deleted_by={("ecs", "delete_service"): 1},
    inventory=TagSearch("ECS services", tagged, arn_type="service", tagging_service="ecs"),
    leftover=leftover,
)


def ours_to_change(aws: Aws, s: Settings, doing: str, nothing: str) -> dict[str, Any]:
    """The deployment's service as ECS describes it (its task definition, network, counts),
    or a refusal saying why nothing can be done to it: there is none, or it does not carry
    the deployment's tag. `doing`: what was asked ("scale"); `nothing`: what did not happen
    ("was called")."""
    name, cluster_name = s.service.name, s.cluster.name
    got = missing_on(
        cluster.NOT_FOUND,
        lambda: aws.call(
            "ecs", "describe_services", cluster=cluster_name, services=[name], include=["TAGS"]
        ),
    ) or {"services": []}
    svc = next((x for x in got["services"] if x.get("status") == "ACTIVE"), None)
    if svc is None:
        raise RunbookError(
            Problem(
                "ServiceNotFound",
                f"There is no service {name} on the cluster {cluster_name} to {doing}. "
                f"Nothing {nothing}.",
                "Deploy it first (`runbook deploy`, or section VI in the app), then again.",
            )
        )
    if not carries_tag(svc.get("tags"), s.deployment.name):
        raise RunbookError(
            Problem(
                "NotOurs",
                f"The service {name} does not carry this deployment's tag ({DEPLOYMENT_TAG}="
                f"{s.deployment.name}): the runbook changes only what it made or adopted. "
                f"Nothing {nothing}.",
                "Run section VI (`runbook deploy`) to adopt it (it asks first), then again; "
                "or name the right deployment with --state.",
            )
        )
    return svc
