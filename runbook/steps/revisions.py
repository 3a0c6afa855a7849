"""A task definition's revisions: listed by family and status, deregistered, then deleted.

DeregisterTaskDefinition only marks a revision INACTIVE, and an INACTIVE revision stays in
the account, tagged, indefinitely; DeleteTaskDefinitions deletes deregistered ones (ECS API
Reference: "You must deregister a task definition revision before you delete it"; up to 10
per call; its answer lists what it could not delete under `failures`, with a 200).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from runbook.aws import Aws
from runbook.plan import Action, ApiCall

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


def teardown(
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
