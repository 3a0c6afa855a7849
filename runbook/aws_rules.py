"""AWS's documented rules, checked on every planned call before it can leave the machine.

Each resource kind (runbook/resources) states the rules of its calls; this checks a call
against them, and against botocore's model limits.

The emulator accepts what AWS refuses (an apostrophe in a security group's description,
db.t2.micro on PostgreSQL 16, a Fargate size that does not exist), so passing against it
proves little. Here each call's parameters are held to AWS's rules: CloudFormation's resource
schemas as cfn-lint ships them, botocore's model limits, and a few written by hand from AWS's
API reference. Values only known at apply time (references) are checked once they are known.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from runbook.errors import Problem, RunbookError
from runbook.operation_names import operation_name
from runbook.plan import Action
from runbook.resources.registry import operations
from runbook.rules import CODE
from runbook.rules.core import Refusal, at, known_values, shown
from runbook.rules.shapes import violations
from runbook.rules.spec import OWN_TEXT

# Where a checked rule comes from, for counting: a Rule's own origin, or botocore's model.
Origin = Literal["cfn-lint", "botocore", "by hand"]
Applied = set[tuple[Origin, str]]  # (origin, the rule and where it applies)
ORIGIN_SHOWN: dict[Origin, str] = {
    "cfn-lint": "CloudFormation schemas (cfn-lint)",
    "botocore": "botocore models",
    "by hand": "by hand",
}


def _general(path: str) -> str:
    return re.sub(r"\[\d+\]", "[]", path)


def check(
    action: Action,
    known: Mapping[str, Any],
    applied: Applied | None = None,
    region: str | None = None,
) -> list[Refusal]:
    """Every rule this call breaks with the values known now (empty: AWS would take it).

    `applied` collects the rules that had a value to check, for counting; `region`, where the
    call goes, for the rules that differ by region (none: those rules' every-region form).
    """
    params = known_values(dict(action.params), known)
    spec = operations().get((action.service, action.operation))
    name = f"{action.service}.{operation_name(action.service, action.operation)}"
    refusals: dict[tuple[str, str], Refusal] = {}
    fixes: dict[str, str] = {}
    for f in spec.fields if spec else ():
        fixes[f.path] = f.fix
        for path, value in at(params, f.path):
            for rule in f.rules:
                if applied is not None:
                    applied.add((rule.origin, f"{rule.source}|{rule.says}|{f.path}"))
                if not rule.test(value):
                    refusals.setdefault(
                        (path, rule.says),
                        Refusal(name, path, shown(value), rule.says, f.fix, rule.source),
                    )
    for combo in spec.combinations if spec else ():
        if applied is not None:
            applied.add((combo.rule.origin, f"{combo.rule.source}|{combo.rule.says}"))
        found = (
            combo.in_region(params, region)
            if combo.in_region is not None and region
            else combo.find(params)
        )
        for path, value, says in found:
            refusals.setdefault(
                (path, says), Refusal(name, path, shown(value), says, combo.fix, combo.rule.source)
            )
    counted: set[str] | None = set() if applied is not None else None
    for path, value, says in violations(action.service, action.operation, params, counted):
        if any(p == path for p, _ in refusals):
            continue  # the more specific rule already said it
        refusals[(path, says)] = Refusal(
            name,
            path,
            shown(value),
            says,
            fixes.get(_general(path), OWN_TEXT),
            f"botocore model {name}",
        )
    if applied is not None and counted is not None:
        applied.update(("botocore", c) for c in counted)
    return list(refusals.values())


def problem(refusals: Iterable[Refusal]) -> Problem:
    """One Problem for a refused call: each broken rule with its value, and the fixes."""
    found = list(refusals)
    first = found[0]
    message = f"AWS would refuse {first.operation}: " + "; ".join(
        f"{r.param} = {r.value} ({r.rule})" for r in found
    )
    advice = " ".join(dict.fromkeys(r.fix for r in found))
    return Problem(CODE, message + ". Nothing was sent.", advice, first.operation)


def refuse_if_broken(action: Action, known: Mapping[str, Any], region: str | None = None) -> None:
    """The executor's pre-send hook: raise before a call AWS would refuse leaves the machine."""
    found = check(action, known, region=region)
    if found:
        raise RunbookError(problem(found))


@dataclass
class Census:
    """How many calls were checked against how many rules, by where the rules come from."""

    calls: int = 0
    refused: int = 0
    rules: Applied = field(default_factory=set)

    def add(
        self, actions: Iterable[Action], known: Mapping[str, Any], region: str | None = None
    ) -> None:
        for action in actions:
            self.calls += 1
            self.refused += bool(check(action, known, self.rules, region))

    def by_source(self) -> dict[str, int]:
        counts = dict.fromkeys(get_args(Origin), 0)
        for origin, _rule in self.rules:
            counts[origin] += 1
        return {ORIGIN_SHOWN[origin]: n for origin, n in counts.items()}


__all__ = ["CODE", "Census", "Refusal", "check", "problem", "refuse_if_broken"]
