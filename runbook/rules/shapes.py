"""The limits botocore's service models state (lengths, ranges, enumerations, patterns).

botocore's own validator checks types and minimums only; AWS enforces the rest server-side.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from runbook.api_index import index
from runbook.rules.core import UNKNOWN, compiled, plain

# One shape as botocore's model JSON writes it (through the compact index).
Shape = dict[str, Any]


def _pattern(text: str) -> Any:
    return compiled(text)  # None for a Java-only construct: no rule rather than a wrong one


# boto3 strips '/hostedzone/' and the like from these Route 53 IDs before sending
# (botocore.handlers.fix_route53_ids): the limit applies to what is left.
ROUTE53_IDS = {"ResourceId", "DelegationSetId", "ChangeId"}


def _limits(name: str, shape: Shape, value: Any) -> Iterator[str]:
    meta, v = shape, plain(value)
    if name in ROUTE53_IDS and isinstance(v, str):
        v = v.rsplit("/", 1)[-1]
    if shape["type"] == "string" and isinstance(v, str):
        low, high = meta.get("min"), meta.get("max")
        if (low is not None and len(v) < low) or (high is not None and len(v) > high):
            yield f"must be {low or 0} to {high} characters"
        enum = shape.get("enum")
        if enum and v not in enum:
            yield "must be one of " + ", ".join(enum[:12])
        compiled = _pattern(meta["pattern"]) if "pattern" in meta else None
        if compiled is not None and not compiled.fullmatch(v):
            yield f"must match {meta['pattern']}"
    elif shape["type"] in ("integer", "long", "float", "double") and isinstance(v, int | float):
        low, high = meta.get("min"), meta.get("max")
        if (low is not None and v < low) or (high is not None and v > high):
            yield f"must be between {low} and {high}"


def constraint_count(shape: Shape) -> int:
    """How many limits botocore states for one shape (to count rules, not to check)."""
    return sum(1 for k in ("min", "max", "pattern") if k in shape) + bool(shape.get("enum"))


def violations(
    service: str, method: str, params: Mapping[str, Any], counted: set[str] | None = None
) -> Iterator[tuple[str, Any, str]]:
    """(path, value, what botocore's model says) for each limit a parameter breaks."""
    operation = index().operation(service, method)
    if operation.input is not None:
        walk = _Walk(operation.shapes, f"{service}.{method}", counted)
        yield from walk(operation.input, params, "")


class _Walk:
    def __init__(self, shapes: dict[str, Shape], op: str, counted: set[str] | None) -> None:
        self.shapes, self.op, self.counted = shapes, op, counted

    def __call__(self, name: str, value: Any, where: str) -> Iterator[tuple[str, Any, str]]:
        if value is UNKNOWN or value is None:
            return
        shape = self.shapes[name]
        if self.counted is not None and constraint_count(shape):
            self.counted.add(f"{self.op}:{where}")
        kind = shape["type"]
        if kind == "structure" and isinstance(value, Mapping):
            members = shape.get("members", {})
            for key, item in value.items():
                if key in members:
                    path = f"{where}.{key}" if where else key
                    yield from self(members[key]["shape"], item, path)
        elif kind == "list" and isinstance(value, list):
            high = shape.get("max")
            if high is not None and len(value) > high:
                yield where, f"{len(value)} items", f"must have at most {high} items"
            for n, item in enumerate(value):
                yield from self(shape["member"]["shape"], item, f"{where}[{n}]")
        elif kind == "map" and isinstance(value, Mapping):
            key_name = shape["key"]["shape"]
            for key, item in value.items():
                for says in _limits(key_name, self.shapes[key_name], key):
                    yield f"{where}{{{key}}}", key, says
                yield from self(shape["value"]["shape"], item, f"{where}.{key}")
        else:
            for says in _limits(name, shape, value):
                yield where, value, says
