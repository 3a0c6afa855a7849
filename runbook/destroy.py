"""Looking back and undoing: each section's resources and what else carries our tag (status),
the deletes for all of it in dependency order, and carrying them out with a report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from runbook import inventory as tag_inventory
from runbook import leftovers, teardown_order
from runbook.errors import RunbookError
from runbook.events import CallMade, Event
from runbook.plan import Action, ApiCall, Wait
from runbook.steps import Observed, Step, final_snapshot

if TYPE_CHECKING:
    from runbook.engine import Runbook


@dataclass(frozen=True)
class Removal:
    """One line of destroy's report: what a call removed, or why it could not."""

    section: str
    what: str  # the call's reason, e.g. "delete flask-todo-elb-sg"
    outcome: str  # removed | already gone | failed | not confirmed
    reason: str = ""  # AWS's code and message, when it failed
    advice: str = ""


@dataclass
class Status:
    """What `status` shows: each section's resources and facts, and what only the tag finds."""

    sections: list[tuple[Step, Observed]]
    leftovers: list[tag_inventory.Tagged]
    unchecked: list[str]
    # Each of our security groups' sources: deletes of groups that name each other go in order.
    group_sources: dict[str, set[str]] = field(default_factory=dict)


def status(engine: Runbook) -> Status:
    """Each section's resources by name, and whatever else carries our tag."""
    assert engine.aws is not None
    sections = [(step, engine.discover(step)) for step in engine.steps]
    found = tag_inventory.find(engine.aws, engine.settings.deployment.name)
    sources = {
        t.id: set(t.detail.get("sources", ()))
        for t in found.resources
        if t.kind == "security group"
    }
    return Status(
        sections, leftovers.leftovers(found.resources, sections), found.unchecked, sources
    )


def plan(
    engine: Runbook, found: Status | None = None, *, skip_final_snapshot: bool = False
) -> list[Action]:
    """Deletes for everything that carries our tag, in dependency order. A database is
    kept as a final snapshot unless skip_final_snapshot."""
    found = found or status(engine)
    actions = [
        a for step, seen in reversed(found.sections) for a in step.teardown(engine.settings, seen)
    ]
    for left in found.leftovers:
        actions += leftovers.teardown(left)
    if skip_final_snapshot:
        actions = final_snapshot.skipping(actions)
    return teardown_order.order(actions, found.group_sources)


def run(engine: Runbook, actions: list[Action]) -> list[Removal]:
    """Every delete is tried; the report says what each removed, or why it could not."""
    outcomes: list[str] = []

    def listen(event: Event) -> None:
        if isinstance(event, CallMade):
            outcomes.append(event.outcome)
        engine.emit(event)

    executor = engine.executor(listen)
    report: list[Removal] = []
    failed = False
    for action in actions:
        if isinstance(action, Wait):
            if failed:
                continue  # its delete failed: nothing to wait for
            try:
                executor.wait(action)
            except RunbookError as exc:
                p = exc.problem
                report.append(
                    Removal(
                        action.section,
                        action.what,
                        "not confirmed",
                        f"{p.code}: {p.message}",
                        p.advice,
                    )
                )
            continue
        assert isinstance(action, ApiCall)
        outcomes.clear()
        try:
            executor.call(action)
        except RunbookError as exc:
            failed = True
            p = exc.problem
            report.append(
                Removal(action.section, action.why, "failed", f"{p.code}: {p.message}", p.advice)
            )
            continue
        failed = False
        gone = outcomes and outcomes[-1] == "already done"
        report.append(Removal(action.section, action.why, "already gone" if gone else "removed"))
    if engine.state.existed and all(r.outcome in ("removed", "already gone") for r in report):
        # The resources are gone; the settings stay, so a deploy would make the same again.
        # With no state file (destroyed by name and tag), none is made.
        engine.state.reset(keep_settings=True)
    return report


def nothing_left(engine: Runbook) -> None:
    """Nothing carries the tag: the recorded progress is forgotten, the settings stay."""
    if engine.state.existed:
        engine.state.reset(keep_settings=True)
