"""Day two: change the desired count, redeploy, roll back; each a plan shown before it runs.

Each action first reads what exists (the service, its task definition's revisions, Auto
Scaling's range), refuses with a reason a person can act on when it cannot be done, and
otherwise gives the calls (ApiCall / Wait data) that the engine shows, holds to AWS's rules
and runs with the same executor as the sections, ending with the service stable (or the
circuit breaker's rollback, explained). Nothing is ever deregistered or deleted.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from runbook import words
from runbook.aws import Aws
from runbook.drift import Fact
from runbook.errors import Problem, RunbookError
from runbook.plan import Action, ApiCall, Wait
from runbook.resources import service as service_kind
from runbook.settings import Settings
from runbook.steps.auto_scaling import scalable_target, where
from runbook.steps.rollout import revision as revision_name
from runbook.steps.service import service_stable
from runbook.validation import TASKS_PER_SERVICE, validate

# The section day-two events carry: not one of the guide's, so no section's progress moves.
SECTION = "day two"
# What a day-two action is, named (the command line's and the app's choices).
DayTwoKind = Literal["scale", "redeploy", "rollback"]
KINDS: tuple[DayTwoKind, ...] = get_args(DayTwoKind)
# The label of the service's task definition fact (runbook/drift.py), and what a rollback adds.
REVISION = "task definition"
ECS_API = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference"


@dataclass(frozen=True)
class DayTwo:
    """One day-two action: the question to ask, the calls, and what to keep once it is done."""

    kind: DayTwoKind
    question: str  # "Roll back flask-todo-service to flask-todo:4?"
    actions: tuple[Action, ...]
    notes: tuple[str, ...] = ()  # what to know before saying yes
    # The settings to record once the calls are made (a changed desired count is a setting).
    settings: Settings | None = None
    # What the state keeps of it (a rollback: from and to), with the time it was done.
    record: dict[str, Any] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return self.question.rstrip("?")


def _family_revision(arn: str) -> tuple[str, int]:
    family, _, revision = revision_name(arn).rpartition(":")
    return family, int(revision)


# -- reading what exists ---------------------------------------------------------------------


def _service(aws: Aws, s: Settings, doing: str) -> dict[str, Any]:
    """The deployment's service, or a refusal that says why nothing can be done to it."""
    return service_kind.ours_to_change(aws, s, doing, "was called")


def _revisions(aws: Aws, family: str) -> list[tuple[int, str]]:
    """The family's ACTIVE revisions, oldest first, every page.

    familyPrefix matches by prefix (flask-todo also finds flask-todo-v2), so the family is
    compared whole; the order is ours, not the answer's.
    """
    params: dict[str, Any] = {"familyPrefix": family, "status": "ACTIVE"}
    found: list[tuple[int, str]] = []
    while True:
        page = aws.call("ecs", "list_task_definitions", **params)
        for arn in page["taskDefinitionArns"]:
            name, revision = _family_revision(arn)
            if name == family:
                found.append((revision, arn))
        if not page.get("nextToken"):
            return sorted(found)
        params["nextToken"] = page["nextToken"]


def _image(aws: Aws, arn: str) -> str:
    definition = aws.call("ecs", "describe_task_definition", taskDefinition=arn)["taskDefinition"]
    containers = definition.get("containerDefinitions") or [{}]
    return str(containers[0].get("image", "?"))


def _stable_wait(s: Settings, what: str) -> Wait:
    # The sections' own wait: the same test of "stable", the same failure reading.
    return dataclasses.replace(service_stable(s, SECTION), what=what)


def _update(s: Settings, params: dict[str, Any], why: str) -> ApiCall:
    return ApiCall(
        "ecs",
        "update_service",
        {"cluster": s.cluster.name, "service": s.service.name, **params},
        why,
        SECTION,
    )


# -- the three actions -----------------------------------------------------------------------


def count_errors(s: Settings, count: int) -> list[str]:
    """What the settings' rules say of this desired count (0 to ECS's tasks per service, within
    Auto Scaling's max)."""
    changed = s.replace("service", desired_count=count)
    return [
        str(e)
        for e in validate(changed)
        if (e.section, e.field) in {("service", "desired_count"), ("auto_scaling", "max_tasks")}
    ]


def scale(aws: Aws, s: Settings, count: int) -> DayTwo:
    """The service's desired count; with Auto Scaling on, its minimum (it owns the count)."""
    errors = count_errors(s, count)
    if errors:
        raise RunbookError(
            Problem(
                "InvalidSettings",
                f"{s.service.name} cannot run {words.count(count, 'task')}: "
                + "; ".join(errors)
                + ". "
                "Nothing was called.",
                f"Choose a count from 0 to {TASKS_PER_SERVICE}"
                + (
                    f", at most Auto Scaling's maximum ({s.auto_scaling.max_tasks}; raise "
                    "auto_scaling.max_tasks in section VIII first for more)"
                    if s.auto_scaling.max_tasks
                    else ""
                )
                + ".",
            )
        )
    svc = _service(aws, s, "scale")
    changed = s.replace("service", desired_count=count)
    name = s.service.name
    if s.auto_scaling.max_tasks:
        return _scale_range(aws, s, changed, svc, count)
    notes = [
        f"{name} runs {words.count(svc['desiredCount'], 'task')} now; the new count is "
        "recorded with the settings, so the next deploy keeps it."
    ]
    if svc["desiredCount"] == count:
        return DayTwo(
            "scale", f"Keep {name} at {words.count(count, 'task')}?", (), tuple(notes), changed
        )
    update = _update(
        s,
        {"desiredCount": count},
        f"run {words.count(count, 'task')} of {name} instead of {svc['desiredCount']}",
    )
    wait = _stable_wait(
        changed, f"service {name} to be stable ({words.count(count, 'task')} running)"
    )
    return DayTwo(
        "scale",
        f"Change {name} from {svc['desiredCount']} to {words.count(count, 'task')}?",
        (update, wait),
        tuple(notes),
        changed,
        {"from": svc["desiredCount"], "to": count},
    )


def _scale_range(
    aws: Aws, s: Settings, changed: Settings, svc: dict[str, Any], count: int
) -> DayTwo:
    """With Auto Scaling on, its range is what to change: setting the count would be undone.

    RegisterScalableTarget "changes the resource's current capacity to a value that is inside
    of this range" (Application Auto Scaling API Reference, RegisterScalableTarget).
    """
    name, high = s.service.name, s.auto_scaling.max_tasks
    target = scalable_target(aws, s)
    if target is None:
        raise RunbookError(
            Problem(
                "AutoScalingNotSetUp",
                f"The settings turn Auto Scaling on (at most {high} tasks), but {name} is not "
                "registered with it yet, so its count is not Auto Scaling's to change. Nothing "
                "was called.",
                "Run section VIII (Auto scaling) first, or set auto_scaling.max_tasks = 0 to "
                "keep a fixed count.",
            )
        )
    low_now, high_now = target["MinCapacity"], target["MaxCapacity"]
    notes = [
        f"Auto Scaling owns the count ({svc['desiredCount']} now, {low_now} to {high_now}): a "
        f"count set directly would be undone, so this sets its minimum to {count}, which moves "
        f"the count into {count} to {high} at once. Recorded as the desired count setting.",
    ]
    if (low_now, high_now) == (count, high):
        return DayTwo("scale", f"Keep {name}'s minimum at {count}?", (), tuple(notes), changed)
    register = ApiCall(
        "application-autoscaling",
        "register_scalable_target",
        {**where(s), "MinCapacity": count, "MaxCapacity": high},
        f"let Auto Scaling run {name} between {count} and {high} tasks (now {low_now} to "
        f"{high_now})",
        SECTION,
    )
    wait = _stable_wait(
        changed, f"service {name} to be stable (at least {words.count(count, 'task')})"
    )
    return DayTwo(
        "scale",
        f"Let Auto Scaling run {name} between {count} and {high} tasks?",
        (register, wait),
        tuple(notes),
        changed,
        {"from": low_now, "to": count, "auto_scaling": True},
    )


def redeploy(aws: Aws, s: Settings) -> DayTwo:
    """New tasks from the same revision: a rotated secret, a re-pushed tag, a fresh start."""
    svc = _service(aws, s, "redeploy")
    name, revision = s.service.name, revision_name(svc["taskDefinition"])
    # forceNewDeployment: "start a new deployment with no service definition changes", e.g.
    # a newer image with the same tag (ECS API Reference, UpdateService).
    update = _update(
        s,
        {"forceNewDeployment": True},
        f"start a new deployment of {revision}: new tasks from the same revision; the old "
        "ones stop once the new ones are healthy",
    )
    notes = [
        f"New tasks of {revision} (its image tag and secrets resolved again) replace the old "
        "ones once healthy; if they fail to start, the circuit breaker rolls back, and the "
        "runbook shows why.",
    ]
    wait = _stable_wait(s, f"service {name} to be stable (new tasks of {revision})")
    return DayTwo(
        "redeploy",
        f"Redeploy {name} ({revision})?",
        (update, wait),
        tuple(notes),
        record={"revision": svc["taskDefinition"]},
    )


def rollback(aws: Aws, s: Settings) -> DayTwo:
    """The service back to its family's ACTIVE revision before the one it runs now."""
    svc = _service(aws, s, "roll back")
    name, current = s.service.name, svc["taskDefinition"]
    family, number = _family_revision(current)
    revisions = _revisions(aws, family)
    earlier = [arn for revision, arn in revisions if revision < number]
    if not earlier:
        raise RunbookError(
            Problem(
                "NoPreviousRevision",
                f"{name} runs {revision_name(current)}, and the family {family} has no ACTIVE "
                f"revision before it: there is nothing to roll back to. Nothing was called.",
                "A rollback needs an earlier release: deploy a change first (it registers a "
                "new revision), or to go back to an older image set task_definition.image "
                "and deploy.",
            )
        )
    target = earlier[-1]
    latest = revisions[-1][1]
    image = _image(aws, target)
    update = _update(
        s,
        {"taskDefinition": target},
        f"roll {name} back from {revision_name(current)} to {revision_name(target)} "
        f"(image {image})",
    )
    wait = _stable_wait(s, f"service {name} to be stable (tasks of {revision_name(target)})")
    notes = [
        f"Nothing is deregistered or deleted: {revision_name(current)} stays"
        + (
            f"; another rollback goes on to {revision_name(earlier[-2])}."
            if len(earlier) > 1
            else "."
        ),
        f"If its tasks fail to start, the circuit breaker returns {name} to "
        f"{revision_name(current)}, and the runbook shows why.",
        f"The next `runbook deploy` rolls forward to {revision_name(latest)} again (unless the "
        "settings change); it says so first.",
    ]
    return DayTwo(
        "rollback",
        f"Roll {name} back to {revision_name(target)}?",
        (update, wait),
        tuple(notes),
        record={"from": current, "to": target},
    )


def plan(aws: Aws, s: Settings, kind: str, count: int | None = None) -> DayTwo:
    if kind == "scale":
        if count is None:
            raise ValueError("scale needs a count")
        return scale(aws, s, count)
    if kind == "redeploy":
        return redeploy(aws, s)
    if kind == "rollback":
        return rollback(aws, s)
    raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")


def stamped(record: dict[str, Any]) -> dict[str, Any]:
    return {**record, "at": time.time()}


# -- after a rollback: the next deploy rolls forward, and says so ------------------------------


def after_rollback(facts: list[Fact], rolled_back: dict[str, Any] | None) -> list[Fact]:
    """The task definition fact, where the service still runs what a rollback put it on."""
    if not rolled_back:
        return facts
    to, since = revision_name(rolled_back.get("to", "")), rolled_back.get("at")
    when = time.strftime(" of %Y-%m-%d %H:%M", time.localtime(since)) if since else ""
    return [
        dataclasses.replace(
            f,
            applies=f"update_service rolls it forward again, undoing the `runbook rollback`"
            f"{when} from {revision_name(rolled_back.get('from', ''))}",
        )
        if f.label == REVISION and f.differs and str(f.current) == to
        else f
        for f in facts
    ]


def rolls_forward(facts: list[Fact]) -> list[str]:
    """Warnings for a plan that undoes a rollback (shown even with --yes)."""
    return [f.explain() for f in facts if f.label == REVISION and "undoing" in f.applies]
