"""The shape of the rule table: a field's rules, a rule over several fields, an operation."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from runbook.rules.core import Rule

Found = Iterator[tuple[str, Any, str]]  # (parameter path, value, what the rule says)


@dataclass(frozen=True)
class Field:
    """The rules for the values at one parameter path ('A[].B', 'tags{}', 'tags{key}')."""

    path: str
    rules: tuple[Rule, ...]
    fix: str


@dataclass(frozen=True)
class Combination:
    """A rule over several parameters at once (e.g. Fargate's CPU and memory pairs)."""

    rule: Rule  # its words and source; `find` does the checking
    find: Callable[[dict[str, Any]], Found]
    fix: str
    # For a rule that differs by region (RDS's classes): used instead of `find` when the
    # region the call goes to is known.
    in_region: Callable[[dict[str, Any], str], Found] | None = None


@dataclass(frozen=True)
class Operation:
    fields: tuple[Field, ...] = ()
    combinations: tuple[Combination, ...] = ()


def settings_fix(*names: str) -> str:
    return f"Change {' or '.join(names)} in your settings (--config) and run again."


OWN_TEXT = "This value is the runbook's own, not a setting: please report it as a bug."
FOUND = "This value comes from what the runbook found in the account: please report it."

EC2_API = "https://docs.aws.amazon.com/AWSEC2/latest/APIReference"
ELB_API = "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference"
ECS_API = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference"
RDS_API = "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html"
TAGGING = "https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html"
EC2_CHARS = r"[a-zA-Z0-9 ._\-:/()#,@\[\]+=&;{}!$*]*"
EC2_CHARS_SAY = "only a-z A-Z 0-9, spaces and ._-:/()#,@[]+=&;{}!$*"
