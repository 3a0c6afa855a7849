"""What a resource kind declares: the shape every module in runbook/resources fills in."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from runbook.aws import Aws
from runbook.plan import Action, ApiCall
from runbook.recovery.answers import NOTHING, Answer, Found, Lookup, Recovery
from runbook.recovery.faults import error_code, is_client_error
from runbook.resources.template import Template
from runbook.rules.spec import Operation


@dataclass(frozen=True)
class Tagged:
    """One resource carrying our tag, as the steps would describe it."""

    kind: str  # in the steps' words: "security group", "load balancer", ...
    name: str
    id: str  # what a step's Resource.id holds for it (a group id, an ARN, a family)
    state: str = "exists"
    # What deleting it needs: a service's cluster, a role's policies, a group's sources.
    detail: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)


Translator = Callable[[Template, ApiCall], None]
Call = tuple[str, str]  # (service, boto3 operation)

__all__ = [
    "Call",
    "Create",
    "Delete",
    "Found",
    "Kind",
    "Lookup",
    "TagSearch",
    "Tagged",
    "Translator",
    "adopts",
    "leftover_label",
    "missing_on",
]


@dataclass(frozen=True)
class TagSearch:
    """How the tag inventory finds this kind whatever its name.

    `find` gets the ARNs the Resource Groups Tagging API listed under `arn_type` (the
    resource type an ARN names: "loadbalancer", "log-group"); a kind that API leaves out
    (arn_type "") looks by itself, by the deployment's name.
    """

    label: str  # "load balancers": what could not be looked at, if it fails
    find: Callable[[Aws, str, list[str]], Iterable[Tagged]]
    arn_type: str = ""
    tagging_service: str = ""  # the API's ResourceTypeFilters entry for it


@dataclass(frozen=True)
class Create:
    """The call that makes one, named once: the CloudFormation resource it stands for
    (export), and what its answers mean when it may have been sent twice (recovery)."""

    service: str
    operation: str
    as_cfn: Translator
    recovery: Recovery = NOTHING


def adopts(code: str, find: Lookup, **more: Any) -> Recovery:
    """A create whose "already exists" answer (`code`) means: find that one, and carry on
    with it if it is ours (a lost answer to our own create, or one made by hand)."""
    return Recovery(exists=(Answer(code),), find=find, **more)


@dataclass(frozen=True)
class Delete:
    """A kind deleted by one call that names it by one parameter."""

    service: str
    operation: str
    param: str  # the parameter that names the one to delete
    rank: int  # its place in a destroy (runbook.teardown_order): lower goes first
    by_name: bool = False  # a left-over is named by its name (else by its id, an ARN)
    extra: Mapping[str, Any] = field(default_factory=dict)  # e.g. {"force": True}
    retry_on: tuple[str, ...] = ()  # still in use a moment longer: wait and send again
    with_it: str = ""  # what goes with it, in the plan's words: " and its images"


def _no_rules() -> Mapping[Call, Operation]:
    return {}


@dataclass(frozen=True)
class Kind:
    """One AWS resource kind, everything about it in one place."""

    name: str  # in the steps' words: "security group"
    section: str  # the guide's section that makes it, for the destroy report
    # AWS's error codes for "there is no such one" (looked up, or deleted twice).
    not_found: tuple[str, ...] = ()
    # Other answers to a delete that mean it is gone already (marked for deletion, inactive).
    gone: tuple[Answer, ...] = ()
    create: Create | None = None
    # What each other call's answers mean when it may have been sent twice (runbook.recovery).
    recoveries: Mapping[Call, Recovery] = field(default_factory=dict)
    # The property each changing call sets, or the resource another creating call makes.
    translations: Mapping[Call, Translator] = field(default_factory=dict)
    # AWS's rules for each call's parameters (read from schemas when first asked).
    rules: Callable[[], Mapping[Call, Operation]] = _no_rules
    # The place of each of its deletes in a destroy: lower goes first (teardown_order).
    delete_order: Mapping[str, int] = field(default_factory=dict)
    # Calls that delete one, beyond a one-call `delete` (a `leftover` sends them), each with
    # its place in a destroy; as with `delete`, each is done once it is not found or gone.
    deleted_by: Mapping[Call, int] = field(default_factory=dict)
    inventory: TagSearch | None = None
    # How one is deleted when one call does it: its recovery and place follow from it.
    delete: Delete | None = None
    # The calls that delete one found by tag under a name the settings no longer give, where
    # `delete` does not say it (several calls, waits).
    leftover: Callable[[Tagged, str], list[Action]] | None = None

    def deletes(self, value: str, label: str, section: str) -> list[Action]:
        """The call that deletes the one `value` names; label: how the plan names it."""
        d = self.delete
        if d is None:
            raise ValueError(f"a {self.name} is not deleted by one call")
        return [
            ApiCall(
                d.service,
                d.operation,
                {d.param: value, **d.extra},
                f"delete {label}{d.with_it}",
                section,
                retry_on=d.retry_on,
                done_on=self.not_found,
            )
        ]

    def teardown(self, t: Tagged, section: str) -> list[Action]:
        """The calls that delete a left-over of this kind (none for a kind never ours)."""
        if self.leftover is not None:
            return self.leftover(t, section)
        if self.delete is None:
            return []
        return self.deletes(t.name if self.delete.by_name else t.id, leftover_label(t), section)

    def every_recovery(self) -> dict[Call, Recovery]:
        """Its calls' recoveries, with its one-call delete's: done once it is not found."""
        found = dict(self.recoveries)
        if self.create is not None:
            found[(self.create.service, self.create.operation)] = self.create.recovery
        deletes = [*self.deleted_by]
        if self.delete is not None:
            deletes.append((self.delete.service, self.delete.operation))
        gone = (*(Answer(code) for code in self.not_found), *self.gone)
        for call in deletes:
            found[call] = Recovery(done=gone)
        return found

    def every_translation(self) -> dict[Call, Translator]:
        found = dict(self.translations)
        if self.create is not None:
            found[(self.create.service, self.create.operation)] = self.create.as_cfn
        return found

    def every_rule(self) -> dict[Call, Operation]:
        """Its calls' rules; a delete with none of its own is held to botocore's."""
        found = dict(self.rules())
        deletes = [*self.deleted_by]
        if self.delete is not None:
            deletes.append((self.delete.service, self.delete.operation))
        for call in deletes:
            found.setdefault(call, Operation())
        return found

    def every_delete_order(self) -> dict[str, int]:
        order = dict(self.delete_order) | {op: rank for (_, op), rank in self.deleted_by.items()}
        if self.delete is not None:
            order[self.delete.operation] = self.delete.rank
        return order


def missing_on(codes: tuple[str, ...], read: Callable[[], Any]) -> Any:
    """Run a look-up; None when AWS answers one of these 'not found' codes."""
    try:
        return read()
    except Exception as exc:  # botocore's ClientError, named without importing botocore
        if is_client_error(exc) and error_code(exc) in codes:
            return None
        raise


def leftover_label(t: Tagged) -> str:
    """How a delete of a left-over names it: 'the cluster old (ours, no longer in ...)'."""
    return f"the {t.kind} {t.name} (ours, no longer in the settings)"
