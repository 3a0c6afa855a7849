"""What carries this deployment's tag under a name the settings no longer give, and its teardown.

A renamed security group, load balancer or cluster leaves the old one behind, still ours:
`status` shows it and `destroy` removes it with the rest, each deleted as its resource kind
deletes one (runbook/resources).
"""

from __future__ import annotations

from collections.abc import Iterable

from runbook.plan import Action
from runbook.resources import task_definition
from runbook.resources.kind import Tagged
from runbook.resources.registry import kind
from runbook.steps.base import Observed, Step


def _same(resource_id: str) -> str:
    """One spelling per resource: a log group's ARN is listed with and without ':*'."""
    return resource_id.removesuffix(":*")


def leftovers(found: Iterable[Tagged], observed: Iterable[tuple[Step, Observed]]) -> list[Tagged]:
    """Tagged resources that no section found under the names its settings give now."""
    named: set[str] = set()
    families: set[str] = set()
    for _step, seen in observed:
        for r in seen.resources:
            if not r.exists:
                continue
            named.add(_same(r.id))
            if r.kind == task_definition.NAME:
                families.add(r.name)
    left = []
    for t in found:
        if _same(t.id) in named:
            continue
        if t.kind == task_definition.NAME and t.name in families:
            # The section deletes the family's active revisions; deregistered ones (left by
            # an earlier destroy) are ours to delete too, and only the tag finds them.
            deregistered = list(t.detail.get("deregistered", []))
            if deregistered:
                left.append(
                    Tagged(
                        t.kind,
                        t.name,
                        t.id,
                        task_definition.state([], deregistered),
                        {"revisions": [], "deregistered": deregistered},
                    )
                )
            continue
        left.append(t)
    return left


def teardown(t: Tagged) -> list[Action]:
    """The calls that delete one left-over resource (and wait where later deletes need it)."""
    found = kind(t.kind)
    return found.teardown(t, found.section) if found else []
