"""The one list of resource kinds, and the tables every other part reads from it.

Steps, the tag inventory, left-overs, the teardown order, recovery, export and AWS's rules
all ask here; none keeps a list of kinds of its own. A call belongs to exactly one kind.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import TypeVar

from runbook.recovery.answers import NOTHING, Recovery
from runbook.resources import (
    certificate,
    cluster,
    db_instance,
    db_snapshot,
    dns_record,
    listener,
    load_balancer,
    log_group,
    repository,
    role,
    scalable_target,
    secret,
    security_group,
    service,
    service_linked_role,
    target_group,
    task_definition,
)
from runbook.resources.kind import Call, Kind, Translator
from runbook.rules.spec import Operation

# The tag inventory looks at the kinds in this order, and lists what it finds so.
KINDS: tuple[Kind, ...] = (
    security_group.KIND,
    load_balancer.KIND,
    target_group.KIND,
    listener.KIND,
    cluster.KIND,
    service.KIND,
    task_definition.KIND,
    db_instance.KIND,
    db_snapshot.KIND,
    secret.KIND,
    log_group.KIND,
    certificate.KIND,
    repository.KIND,
    role.KIND,
    service_linked_role.KIND,
    dns_record.KIND,
    scalable_target.KIND,
)

BY_NAME: dict[str, Kind] = {k.name: k for k in KINDS}

V = TypeVar("V")


def _joined(tables: Iterable[tuple[str, Mapping[Call, V]]]) -> dict[Call, V]:
    """One table from each kind's: a call declared by two kinds is a mistake, said at once."""
    joined: dict[Call, V] = {}
    owner: dict[Call, str] = {}
    for kind, table in tables:
        for call, value in table.items():
            if call in joined:
                raise ValueError(f"{call} is declared by both {owner[call]} and {kind}")
            joined[call], owner[call] = value, kind
    return joined


RECOVERIES: dict[Call, Recovery] = _joined((k.name, k.every_recovery()) for k in KINDS)
TRANSLATIONS: dict[Call, Translator] = _joined((k.name, k.every_translation()) for k in KINDS)
DELETE_ORDER: dict[str, int] = {
    op: rank for k in KINDS for op, rank in k.every_delete_order().items()
}
# The Resource Groups Tagging API's ResourceTypeFilters for the kinds it lists.
TAGGING_SERVICES: list[str] = list(
    dict.fromkeys(
        k.inventory.tagging_service for k in KINDS if k.inventory and k.inventory.tagging_service
    )
)


def recovery_for(service_name: str, operation: str) -> Recovery:
    """What the call's answers mean; calls not listed (tagging, modify, put) are idempotent."""
    return RECOVERIES.get((service_name, operation), NOTHING)


@functools.cache
def operations() -> dict[Call, Operation]:
    """Every operation any plan can produce, with its rules (tests prove none is missing).

    Read when first asked, not at import: importing the executor must not read schemas.
    """
    return _joined((k.name, k.every_rule()) for k in KINDS)


def kind(name: str) -> Kind | None:
    """The kind the steps call so ("security group"), if the registry has it."""
    return BY_NAME.get(name)
