"""The plan is data: API calls and waits, with references for values not known before apply."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from runbook.operation_names import operation_name

MASK = "********"


@dataclass(frozen=True)
class Ref:
    """A value another call or discovery produces, shown as <key> until it is known."""

    key: str
    fmt: str = "{}"

    def render(self) -> str:
        return self.fill(f"<{self.key}>")

    def fill(self, value: Any) -> Any:
        # replace, not str.format: a template may be JSON, full of braces.
        return value if self.fmt == "{}" else self.fmt.replace("{}", str(value))


@dataclass(frozen=True)
class Secret:
    """A value that is sent to AWS but never printed, logged or stored."""

    value: Any = field(repr=False)


class UnknownValue(LookupError):
    """Apply reached a reference that nothing has produced yet."""


@dataclass(frozen=True)
class ApiCall:
    service: str
    operation: str  # boto3's method name, e.g. create_security_group
    params: Mapping[str, Any]
    why: str
    section: str = ""
    # key -> dotted path into the response, e.g. {"x.GroupId": "GroupId"}
    captures: Mapping[str, str] = field(default_factory=dict)
    # AWS error codes that mean "not yet" (eventual consistency), retried with backoff.
    retry_on: tuple[str, ...] = ()
    # AWS error codes that mean "already done", taken as success.
    done_on: tuple[str, ...] = ()
    mutating: bool = True
    # For calls that answer 200 yet report failures in the body (DeleteTaskDefinitions'
    # `failures`): what failed, in AWS's words, or "" when nothing did.
    failed: Callable[[Mapping[str, Any]], str] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Wait:
    """Poll a read-only call until `until` says done (True) or failed (a reason string)."""

    service: str
    operation: str
    params: Mapping[str, Any]
    what: str
    until: Callable[[dict[str, Any]], bool | str] = field(compare=False)
    section: str = ""
    timeout: float = 1800.0
    interval: float = 10.0
    captures: Mapping[str, str] = field(default_factory=dict)
    # Error codes that mean "not visible yet" rather than failure.
    retry_on: tuple[str, ...] = ()
    # Error codes that mean the wait is over (waiting for something to be gone).
    done_on: tuple[str, ...] = ()
    # What an answer shows while waiting (an event for front ends: a rollout's deployments
    # and events), sent each time it changes.
    report: Callable[[dict[str, Any]], Any] | None = field(default=None, compare=False)


Action = ApiCall | Wait


def resolve(value: Any, known: Mapping[str, Any], *, reveal: bool = False) -> Any:
    """Replace references with known values; secrets become their value only when revealed."""
    if isinstance(value, Ref):
        if value.key not in known:
            raise UnknownValue(value.key)
        return value.fill(known[value.key])
    if isinstance(value, Secret):
        return value.value if reveal else MASK
    if isinstance(value, Mapping):
        return {k: resolve(v, known, reveal=reveal) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [resolve(v, known, reveal=reveal) for v in value]
    return value


def render(value: Any, known: Mapping[str, Any]) -> Any:
    """JSON-ready: known references resolved, unknown ones as <key>, secrets masked."""
    if isinstance(value, Ref):
        return resolve(value, known) if value.key in known else value.render()
    if isinstance(value, Secret):
        return MASK
    if isinstance(value, Mapping):
        return {k: render(v, known) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [render(v, known) for v in value]
    return value


def dig(data: Any, path: str) -> Any:
    """Follow a dotted path (list indexes as numbers) into an AWS response."""
    for part in path.split("."):
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data


def capture(action: Action, response: Mapping[str, Any], known: dict[str, Any]) -> None:
    for key, path in action.captures.items():
        known[key] = dig(response, path)


def describe(action: Action, known: Mapping[str, Any]) -> dict[str, Any]:
    """One plan row as a JSON object: section, service, operation, params, why."""
    row = {
        "section": action.section,
        "service": action.service,
        "operation": operation_name(action.service, action.operation),
        "params": render(action.params, known),
    }
    if isinstance(action, Wait):
        row["wait"] = action.what
    else:
        row["why"] = action.why
    return row


def tags(deployment: str, name: str | None = None) -> list[dict[str, str]]:
    from runbook.settings import DEPLOYMENT_TAG

    pairs = [{"Key": DEPLOYMENT_TAG, "Value": deployment}]
    if name:
        pairs.append({"Key": "Name", "Value": name})
    return pairs
