"""ECS's service-linked role (AWSServiceRoleForECS): the account's, made if a fresh one lacks it.

Never ours and never deleted: it is shared by every ECS user in the account.
"""

from __future__ import annotations

from runbook.plan import ApiCall
from runbook.recovery.answers import Answer, Recovery
from runbook.resources.kind import Create, Kind
from runbook.resources.template import Template
from runbook.rules.kinds import pattern
from runbook.rules.spec import OWN_TEXT, Field, Operation

NAME = "service-linked role"
ROLE_NAME = "AWSServiceRoleForECS"
PATH = "/aws-service-role/ecs.amazonaws.com/"
# AWS says "has been taken" (InvalidInput); the emulator says EntityAlreadyExists.
TAKEN = (Answer("InvalidInput", "has been taken"), Answer("EntityAlreadyExists"))


def as_cfn(t: Template, call: ApiCall) -> None:
    t.notes.append(
        f"ECS's service-linked role ({ROLE_NAME}) is not in the template: it is the "
        "account's, shared by every ECS user, and ECS creates it on first use."
    )


def rules() -> dict[tuple[str, str], Operation]:
    return {
        ("iam", "create_service_linked_role"): Operation(
            (
                Field(
                    "AWSServiceName",
                    (
                        pattern(
                            r"[\w+=,.@-]+\.amazonaws\.com",
                            "must be a service principal such as ecs.amazonaws.com",
                            "https://docs.aws.amazon.com/IAM/latest/APIReference/"
                            "API_CreateServiceLinkedRole.html",
                        ),
                    ),
                    OWN_TEXT,
                ),
            )
        ),
    }


KIND = Kind(
    NAME,
    section="III",
    # Made by our first attempt or anyone else, it will do.
    create=Create("iam", "create_service_linked_role", as_cfn, Recovery(done=TAKEN)),
    rules=rules,
)
