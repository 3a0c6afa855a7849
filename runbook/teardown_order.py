"""The order a destroy deletes things in: what uses a resource goes before it.

A destroy plan joins each section's own teardown and the left-overs found by tag. Each delete,
with the waits that follow it, is one unit; units are sorted by what they delete (the service
before its cluster and task definitions, load balancers before target groups, the database
before the security groups) and security groups among themselves so that a group goes before
every group it allows traffic from: AWS refuses to delete a group another still names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from runbook.plan import Action, ApiCall, Wait
from runbook.resources.registry import DELETE_ORDER


def units(actions: Iterable[Action]) -> list[list[Action]]:
    """Each call with the waits after it (a wait checks that call's work is done)."""
    grouped: list[list[Action]] = []
    for action in actions:
        if isinstance(action, Wait) and grouped:
            grouped[-1].append(action)
        else:
            grouped.append([action])
    return grouped


def order(actions: Iterable[Action], sources: Mapping[str, set[str]] | None = None) -> list[Action]:
    """The actions in dependency order; `sources`: group id -> ids of groups it allows from."""
    ranked: list[tuple[float, int, list[Action]]] = []
    rank = 0.0
    for index, unit in enumerate(units(actions)):
        head = unit[0]
        # Lower goes first; each resource kind states its deletes' places (runbook/resources).
        # Deletes no kind places keep the place of the unit before them.
        rank = DELETE_ORDER.get(head.operation, rank) if isinstance(head, ApiCall) else rank
        ranked.append((rank, index, unit))
    ranked.sort(key=lambda item: (item[0], item[1]))
    ordered = [unit for _rank, _index, unit in ranked]
    groups = [u for u in ordered if _group(u) is not None]
    if len(groups) > 1 and sources:
        sorted_groups = iter(_referrers_first(groups, sources))
        ordered = [next(sorted_groups) if _group(u) is not None else u for u in ordered]
    return [action for unit in ordered for action in unit]


def _group(unit: list[Action]) -> str | None:
    head = unit[0]
    if isinstance(head, ApiCall) and head.operation == "delete_security_group":
        return str(head.params.get("GroupId"))
    return None


def _referrers_first(
    groups: list[list[Action]], sources: Mapping[str, set[str]]
) -> list[list[Action]]:
    """A group before the groups it names as sources; otherwise the order they came in."""
    pending = list(groups)
    done: list[list[Action]] = []
    while pending:
        left = {_group(u) for u in pending}
        # Ready: no group still to delete names this one as a source.
        ready = next(
            (u for u in pending if not any(_group(u) in sources.get(g or "", set()) for g in left)),
            pending[0],  # a cycle (two groups naming each other): AWS retries sort it out
        )
        pending.remove(ready)
        done.append(ready)
    return done
