"""Rule builders: from a CloudFormation schema's constraints, or written by hand from AWS's docs."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from runbook.rules import cfn
from runbook.rules.core import Rule, compiled, plain


def _compiled(pattern: str) -> Any:
    found = compiled(pattern)
    if found is None:
        raise ValueError(f"a pattern no regular expression engine here takes: {pattern}")
    return found


# Every pattern a rule was made with: each is compiled at the first value it judges (most of
# a kind's rules judge no value in a plan, and each compile costs start-up time), so
# tests/engine/test_rule_patterns.py compiles them all instead.
PATTERNS: set[str] = set()


def _matches(pattern: str) -> Callable[[Any], bool]:
    PATTERNS.add(pattern)
    return lambda v: not isinstance(v, str) or _compiled(pattern).search(v) is not None


def _length(low: int | None, high: int | None) -> Callable[[Any], bool]:
    def test(v: Any) -> bool:
        if not isinstance(v, str):
            return True
        return (low is None or len(v) >= low) and (high is None or len(v) <= high)

    return test


def _range(low: float | None, high: float | None) -> Callable[[Any], bool]:
    def test(v: Any) -> bool:
        if isinstance(v, bool) or not isinstance(v, int | float):
            return True
        return (low is None or v >= low) and (high is None or v <= high)

    return test


def _one_of(choices: Iterable[Any]) -> Callable[[Any], bool]:
    allowed = {str(c) for c in choices}
    return lambda v: str(v) in allowed


def _plainly(test: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda v: test(plain(v))


def from_schema(resource_type: str, prop: str, says: str = "") -> tuple[Rule, ...]:
    """One rule per constraint the schema states for this property (pattern, length, ...)."""
    c = cfn.constraints(resource_type, prop)
    source = f"CloudFormation schema {resource_type} {prop} (cfn-lint)"
    rules: list[Rule] = []
    if "pattern" in c:
        text = says or f"must match {c['pattern']}"
        rules.append(Rule(text, source, _plainly(_matches(c["pattern"]))))
    if "minLength" in c or "maxLength" in c:
        low, high = c.get("minLength"), c.get("maxLength")
        rules.append(
            Rule(
                f"must be {low or 0} to {high} characters"
                if high
                else f"at least {low} characters",
                source,
                _plainly(_length(low, high)),
            )
        )
    if "minimum" in c or "maximum" in c:
        low, high = c.get("minimum"), c.get("maximum")
        text = f"must be between {low} and {high}" if high is not None else f"must be {low} or more"
        rules.append(Rule(text, source, _plainly(_range(low, high))))
    if "enum" in c:
        shown = ", ".join(map(str, c["enum"][:12])) + (", …" if len(c["enum"]) > 12 else "")
        rules.append(Rule(f"must be one of {shown}", source, _plainly(_one_of(c["enum"]))))
    if not rules:
        raise LookupError(f"{resource_type} {prop}: the schema states no constraint")
    return tuple(rules)


def by_hand(says: str, url: str, test: Callable[[Any], bool]) -> Rule:
    """A rule no schema states, written from AWS's API reference (url)."""
    return Rule(says, f"by hand: {url}", _plainly(test), "by hand")


def pattern(regex_: str, says: str, url: str) -> Rule:
    PATTERNS.add(regex_)
    return by_hand(
        says, url, lambda v: not isinstance(v, str) or bool(_compiled(regex_).fullmatch(v))
    )


def length(low: int, high: int, url: str) -> Rule:
    return by_hand(f"must be {low} to {high} characters", url, _length(low, high))


def between(low: float, high: float, url: str, unit: str = "") -> Rule:
    return by_hand(f"must be between {low} and {high}{unit}", url, _range(low, high))


def never(predicate: Callable[[str], bool], says: str, url: str) -> Rule:
    return by_hand(says, url, lambda v: not (isinstance(v, str) and predicate(v)))
