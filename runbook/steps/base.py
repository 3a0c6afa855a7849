"""What every section's step has: discover (read-only), plan (data), teardown (data)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from runbook.aws import Aws
from runbook.plan import Action, ApiCall

# One look-up that reads "not found" as None, and one reading of every service's tags: the
# resource kinds' own (runbook/resources), read here by the steps and their neighbours.
from runbook.resources.kind import missing_on as missing_on
from runbook.resources.tags import tagged as tagged
from runbook.settings import Settings


@dataclass(frozen=True)
class Resource:
    """One thing a section makes, as found in the account."""

    kind: str
    name: str
    id: str = ""  # empty: it does not exist
    state: str = "missing"
    ours: bool = False  # carries our deployment tag
    reason: str = ""  # why it is in a failed state, in AWS's words (e.g. an RDS event)

    @property
    def exists(self) -> bool:
        return bool(self.id)

    @classmethod
    def seen(
        cls,
        kind: str,
        name: str,
        found: Mapping[str, Any] | None,
        id_field: str,
        ours: Check | bool = False,
        state: Callable[[Mapping[str, Any]], str] | str = "exists",
        reason: str = "",
    ) -> Resource:
        """What discovery saw of one resource: AWS's description of it (`found`; None when
        nothing by that name exists), the field holding its identifier, whether it carries the
        deployment's tag and its state in words (each a check on the description, or the
        answer)."""
        if not found:
            return cls(kind, name)
        return cls(
            kind,
            name,
            found[id_field],
            state(found) if callable(state) else state,
            ours(found) if callable(ours) else ours,
            reason,
        )


Check = Callable[[Mapping[str, Any]], bool]


def tag_check(s: Settings, field: str) -> Check:
    """Whether a description's tags (in its service's `field`: Tags, TagList, tags) carry
    this deployment's tag."""
    return lambda found: tagged(found.get(field), s.deployment.name)


@dataclass
class Observed:
    """What discovery found: resources, values for references, and raw descriptions."""

    resources: list[Resource] = field(default_factory=list)
    known: dict[str, Any] = field(default_factory=dict)
    found: dict[str, Any] = field(default_factory=dict)

    def ours(self) -> list[Resource]:
        """What exists and carries the deployment's tag: all that a teardown may delete."""
        return [r for r in self.resources if r.exists and r.ours]


class Step(ABC):
    number: str  # the guide's section number, I to VI
    key: str  # the Settings attribute of this section
    title: str
    explanation: str  # what the section creates and why, and where we differ from the guide

    def enabled(self, s: Settings) -> bool:
        """Whether the settings turn this section on (the guide's six always are)."""
        return True

    @abstractmethod
    def discover(self, aws: Aws, s: Settings, known: Mapping[str, Any]) -> Observed:
        """Read-only look-ups by name; never changes anything."""

    @abstractmethod
    def plan(self, s: Settings, seen: Observed | None) -> list[Action]:
        """The calls that make the account match the settings; seen=None plans from nothing."""

    @abstractmethod
    def teardown(self, s: Settings, seen: Observed) -> list[Action]:
        """The calls that delete what carries our tag, in dependency order."""

    @abstractmethod
    def output_keys(self, s: Settings) -> list[str]:
        """The reference keys this section produces for later sections."""

    def needs(self, s: Settings) -> list[str]:
        """Keys of earlier sections this one needs besides its plan's references.

        E.g. the service names its cluster by name, not by a reference, yet needs it to exist.
        """
        return []


def adopt(
    service: str, operation: str, params: dict[str, Any], kind: str, name: str, section: str
) -> ApiCall:
    """The call that tags an existing one (made by hand?) as this deployment's: it adopts it."""
    why = f"adopt the existing {kind} {name} (made by hand?): tag it as this deployment's"
    return ApiCall(service, operation, params, why, section)
