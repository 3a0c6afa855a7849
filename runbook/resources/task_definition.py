"""ECS task definitions: section V's family, and its revisions.

DeregisterTaskDefinition only marks a revision INACTIVE, and an INACTIVE revision stays in
the account, tagged, indefinitely; DeleteTaskDefinitions deletes deregistered ones (ECS API
Reference: "You must deregister a task definition revision before you delete it"; up to 10
per call; its answer lists what it could not delete under `failures`, with a 200).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from runbook.aws import Aws
from runbook.plan import Action, ApiCall
from runbook.recovery.answers import Answer, Found, Recovery
from runbook.resources.kind import Create, Kind, Tagged, TagSearch, missing_on
from runbook.resources.template import Template, logical_id, untagged
from runbook.rules import cfn
from runbook.rules.app_env import TASK_DEFINITION_SIZE, plain_name_problem, secret_name_problem
from runbook.rules.combinations import CONTAINER_MEMORY, FARGATE, tag_count
from runbook.rules.common import ECS_NAME, ecs_tag_fields
from runbook.rules.kinds import between, by_hand, from_schema, length, pattern
from runbook.rules.names import image_problem
from runbook.rules.spec import ECS_API, FOUND, OWN_TEXT, Combination, Field, Operation
from runbook.rules.spec import Found as Breaks
from runbook.rules.spec import settings_fix as fix
from runbook.words import count

NAME = "task definition"
# DescribeTaskDefinition answers a family with no revision with a ClientException.
NOT_FOUND = ("ClientException",)

BATCH = 10  # "You can specify up to 10 task definitions" (DeleteTaskDefinitions)


def listed(aws: Aws, family: str, status: str) -> list[str]:
    """Every revision ARN of exactly this family with this status, every page read."""
    arns: list[str] = []
    token = ""
    while True:
        page = aws.call(
            "ecs",
            "list_task_definitions",
            familyPrefix=family,
            status=status,
            **({"nextToken": token} if token else {}),
        )
        # familyPrefix matches a prefix: flask-todo also lists flask-todo-worker's revisions.
        arns += [a for a in page["taskDefinitionArns"] if family_of(a) == family]
        token = page.get("nextToken", "")
        if not token:
            return arns


def family_of(arn: str) -> str:
    return arn.rsplit("/", 1)[-1].rsplit(":", 1)[0]


def short(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def _batches(arns: Sequence[str]) -> Iterator[list[str]]:
    for start in range(0, len(arns), BATCH):
        yield list(arns[start : start + BATCH])


def _failures(response: Mapping[str, Any]) -> str:
    """What ECS did not delete and why; a revision already gone counts as deleted."""
    failed = [
        f"{short(f.get('arn', '?'))}: {f.get('reason', '')} {f.get('detail', '')}".strip()
        for f in response.get("failures") or []
        if "not exist" not in (f.get("reason", "") + f.get("detail", "")).lower()
    ]
    return "ECS did not delete " + "; ".join(failed) if failed else ""


def delete(
    active: Sequence[str], deregistered: Sequence[str], section: str, whose: str = ""
) -> list[Action]:
    """Deregister the active revisions, then delete them with the deregistered ones."""
    actions: list[Action] = [
        ApiCall(
            "ecs",
            "deregister_task_definition",
            {"taskDefinition": arn},
            f"deregister {short(arn)}{whose}",
            section,
        )
        for arn in active
    ]
    for batch in _batches([*active, *deregistered]):
        shown = ", ".join(short(a) for a in batch)
        actions.append(
            ApiCall(
                "ecs",
                "delete_task_definitions",
                {"taskDefinitions": batch},
                f"delete the deregistered revision{'s' if len(batch) > 1 else ''} {shown}{whose} "
                "(deregistered ones stay in the account, tagged, until deleted)",
                section,
                failed=_failures,
            )
        )
    return actions


def find(aws: Aws, p: Mapping[str, Any]) -> Found | None:
    """The family's latest revision, if it is exactly what this call registers."""
    got = missing_on(
        NOT_FOUND,
        lambda: aws.call(
            "ecs", "describe_task_definition", taskDefinition=p["family"], include=["TAGS"]
        ),
    )
    if not got or got["taskDefinition"].get("status") == "INACTIVE":
        return None
    sent = {k: v for k, v in p.items() if k != "tags"}
    if not contains(got["taskDefinition"], sent):
        return None  # the latest revision is another one: registering is still to do
    found = {"taskDefinition": got["taskDefinition"], "tags": got.get("tags", [])}
    return Found(f"task definition {p['family']}", found, got.get("tags"))


def contains(described: Any, sent: Any) -> bool:
    """Does AWS's description hold every value that was sent? (AWS adds defaults around them.)"""
    if isinstance(sent, Mapping):
        return isinstance(described, Mapping) and all(
            k in described and contains(described[k], v) for k, v in sent.items()
        )
    if isinstance(sent, list | tuple):
        return (
            isinstance(described, list)
            and len(described) == len(sent)
            and all(any(contains(d, s) for d in described) for s in sent)
        )
    return str(described) == str(sent)


def tagged(aws: Aws, _deployment: str, arns: list[str]) -> Iterator[Tagged]:
    """One entry per family, holding its tagged revisions: active, and deregistered (INACTIVE,
    which stay in the account, tagged, until deleted). Deleted ones are in neither list."""
    families: dict[str, set[str]] = defaultdict(set)
    for arn in arns:
        families[family_of(arn)].add(arn)
    for family, tagged_revisions in sorted(families.items()):
        active = [a for a in listed(aws, family, "ACTIVE") if a in tagged_revisions]
        inactive = [a for a in listed(aws, family, "INACTIVE") if a in tagged_revisions]
        if active or inactive:
            yield Tagged(
                NAME,
                family,
                family,
                state(active, inactive),
                detail={"revisions": active, "deregistered": inactive},
            )


def state(active: Sequence[str], deregistered: Sequence[str]) -> str:
    """'2 revisions, 1 revision deregistered, not deleted', for status."""
    parts = (
        count(len(active), "revision") if active else "",
        f"{count(len(deregistered), 'revision')} deregistered, not deleted" if deregistered else "",
    )
    return ", ".join(part for part in parts if part)


def leftover(t: Tagged, section: str) -> list[Action]:
    return delete(
        t.detail.get("revisions", []),
        t.detail.get("deregistered", []),
        section,
        " (ours, found by its tag)",
    )


def as_cfn(t: Template, call: ApiCall) -> None:
    logical = logical_id(call.params["family"], "task-definition")
    t.made(call, "AWS::ECS::TaskDefinition", untagged(call.params, camel=True), logical=logical)


# -- AWS's rules -----------------------------------------------------------------------------

DELETE_API = f"{ECS_API}/API_DeleteTaskDefinitions.html"
# "You must specify a revision": family:revision, or the revision's full ARN.
REVISION = pattern(
    r"(arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition/)?[A-Za-z0-9_-]{1,255}:\d+",
    "must name a revision (family:revision or its ARN)",
    DELETE_API,
)


def _revisions_per_call(params: dict[str, Any]) -> Breaks:
    arns = params.get("taskDefinitions")
    if isinstance(arns, list) and not 1 <= len(arns) <= 10:
        yield "taskDefinitions", f"{len(arns)} revisions", "1 to 10 revisions a call"


REVISIONS_PER_DELETE = Combination(
    by_hand("up to 10 task definitions a call", DELETE_API, lambda _: True),
    _revisions_per_call,
    FOUND,
)


def rules() -> dict[tuple[str, str], Operation]:
    td = "AWS::ECS::TaskDefinition"
    container = f"{ECS_API}/API_ContainerDefinition.html"
    return {
        ("ecs", "register_task_definition"): Operation(
            (
                Field("family", ECS_NAME, fix("task_definition.family")),
                Field(
                    "containerDefinitions[].name", ECS_NAME, fix("task_definition.container_name")
                ),
                Field(
                    "containerDefinitions[].portMappings[].containerPort",
                    (between(1, 65535, f"{ECS_API}/API_PortMapping.html"),),
                    fix("security_groups.app_port"),
                ),
                Field(
                    "containerDefinitions[].logConfiguration.options.awslogs-group",
                    from_schema("AWS::Logs::LogGroup", "LogGroupName"),
                    fix("cluster.log_group"),
                ),
                Field(
                    "containerDefinitions[].image",
                    (
                        length(1, 255, container),
                        pattern(r"[^\s]+", "must be an image reference without spaces", container),
                        by_hand(
                            "must name a repository in lower case (the Docker reference "
                            "grammar; ECR's repositoryName pattern): ECS takes capitals, every "
                            "pull then fails",
                            container,
                            lambda v: not isinstance(v, str) or image_problem(v) is None,
                        ),
                    ),
                    fix("task_definition.image"),
                ),
                Field(
                    "runtimePlatform.cpuArchitecture",
                    from_schema(td, "RuntimePlatform.CpuArchitecture"),
                    fix("task_definition.cpu_architecture"),
                ),
                Field(
                    "runtimePlatform.operatingSystemFamily",
                    from_schema(td, "RuntimePlatform.OperatingSystemFamily"),
                    OWN_TEXT,
                ),
                Field(
                    "networkMode",
                    from_schema(td, "NetworkMode")
                    if cfn.constraints(td, "NetworkMode")
                    else (
                        pattern(
                            r"awsvpc|bridge|host|none",
                            "must be awsvpc, bridge, host or none",
                            f"{ECS_API}/API_RegisterTaskDefinition.html",
                        ),
                    ),
                    OWN_TEXT,
                ),
                Field(
                    "containerDefinitions[].environment[].name",
                    (
                        by_hand(
                            "must not be empty or contain = or control characters (Docker's "
                            "NAME=VALUE form, which ECS passes it in)",
                            container,
                            lambda v: not isinstance(v, str) or plain_name_problem([v]) is None,
                        ),
                    ),
                    fix("app.environment"),
                ),
                # Secret valueFrom: "either the full ARN of the Secrets Manager secret or the
                # full ARN of the parameter in the SSM Parameter Store" (a parameter of the
                # same region also by name); a secret's ARN may end :json-key:stage:version.
                Field(
                    "containerDefinitions[].secrets[].valueFrom",
                    (
                        pattern(
                            r"arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[^:]+"
                            r"(?::[^:]*:[^:]*:[^:]*)?"
                            r"|arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter/.+"
                            r"|[A-Za-z0-9_.\-/]+",
                            "must be a Secrets Manager secret's ARN (with :json-key:stage:id "
                            "or not), an SSM parameter's ARN, or a parameter's name",
                            f"{ECS_API}/API_Secret.html",
                        ),
                    ),
                    FOUND,
                ),
                Field(
                    "containerDefinitions[].secrets[].name",
                    (
                        by_hand(
                            "must be letters, digits and underscores, not starting with a digit",
                            container,
                            lambda v: not isinstance(v, str) or secret_name_problem([v]) is None,
                        ),
                    ),
                    fix("app.secrets"),
                ),
                *ecs_tag_fields(td),
            ),
            (FARGATE, CONTAINER_MEMORY, TASK_DEFINITION_SIZE, tag_count("tags")),
        ),
        ("ecs", "deregister_task_definition"): Operation(),
        ("ecs", "delete_task_definitions"): Operation(
            (Field("taskDefinitions[]", (REVISION,), FOUND),),
            (REVISIONS_PER_DELETE,),
        ),
    }


KIND = Kind(
    NAME,
    section="V",
    not_found=NOT_FOUND,
    create=Create(
        "ecs",
        "register_task_definition",
        as_cfn,
        Recovery(
            # Every register makes a revision: after a lost answer, look before registering again.
            find=find,
            look_first=True,
            # ECS's words for an execution role made a moment ago that it cannot use yet.
            not_yet=(Answer("ClientException", "role is not valid"),),
        ),
    ),
    rules=rules,
    delete_order={"deregister_task_definition": 2, "delete_task_definitions": 2},
    inventory=TagSearch(
        "task definitions", tagged, arn_type="task-definition", tagging_service="ecs"
    ),
    leftover=leftover,
)
