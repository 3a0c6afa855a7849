"""AWS's rules for the deletes destroy makes that keep or clear what a deployment leaves: the
database's final snapshot, and the deletion of deregistered task definition revisions."""

from __future__ import annotations

from typing import Any

from runbook.rules.core import UNKNOWN
from runbook.rules.kinds import by_hand, pattern
from runbook.rules.spec import ECS_API, FOUND, OWN_TEXT, Combination, Found

DELETE_DB = "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DeleteDBInstance.html"
DELETE_REVISIONS = f"{ECS_API}/API_DeleteTaskDefinitions.html"

SNAPSHOT_ID = (
    pattern(
        r"[A-Za-z](?:-?[A-Za-z0-9]){0,254}",
        "must be 1 to 255 letters, digits or hyphens, start with a letter, and neither end with "
        "a hyphen nor hold two in a row",
        DELETE_DB,
    ),
)
# "You must specify a revision": family:revision, or the revision's full ARN.
TASK_DEFINITION_REVISION = pattern(
    r"(arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition/)?[A-Za-z0-9_-]{1,255}:\d+",
    "must name a revision (family:revision or its ARN)",
    DELETE_REVISIONS,
)


def _snapshot_choice(params: dict[str, Any]) -> Found:
    skip, name = params.get("SkipFinalSnapshot", False), params.get("FinalDBSnapshotIdentifier")
    if skip is UNKNOWN or name is UNKNOWN:
        return
    if skip is True and name:
        yield "FinalDBSnapshotIdentifier", name, "cannot be given with SkipFinalSnapshot true"
    if skip is not True and not name:
        yield "FinalDBSnapshotIdentifier", name, "is required unless SkipFinalSnapshot is true"


FINAL_SNAPSHOT = Combination(
    by_hand(
        "a final snapshot is named when, and only when, it is not skipped",
        DELETE_DB,
        lambda _: True,
    ),
    _snapshot_choice,
    OWN_TEXT,
)


def _revisions_per_call(params: dict[str, Any]) -> Found:
    arns = params.get("taskDefinitions")
    if isinstance(arns, list) and not 1 <= len(arns) <= 10:
        yield "taskDefinitions", f"{len(arns)} revisions", "1 to 10 revisions a call"


REVISIONS_PER_DELETE = Combination(
    by_hand("up to 10 task definitions a call", DELETE_REVISIONS, lambda _: True),
    _revisions_per_call,
    FOUND,
)
