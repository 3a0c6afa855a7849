"""The limits botocore's service models state (lengths, ranges, enumerations, patterns).

botocore's own validator checks types and minimums only; AWS enforces the rest server-side.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape

from runbook.model_check import _operation
from runbook.rules.core import UNKNOWN, compiled, plain


def _pattern(text: str) -> Any:
    return compiled(text)  # None for a Java-only construct: no rule rather than a wrong one


# boto3 strips '/hostedzone/' and the like from these Route 53 IDs before sending
# (botocore.handlers.fix_route53_ids): the limit applies to what is left.
ROUTE53_IDS = {"ResourceId", "DelegationSetId", "ChangeId"}


def _limits(shape: Shape, value: Any) -> Iterator[str]:
    meta, v = shape.metadata, plain(value)
    if shape.name in ROUTE53_IDS and isinstance(v, str):
        v = v.rsplit("/", 1)[-1]
    if shape.type_name == "string" and isinstance(v, str):
        low, high = meta.get("min"), meta.get("max")
        if (low is not None and len(v) < low) or (high is not None and len(v) > high):
            yield f"must be {low or 0} to {high} characters"
        enum = getattr(shape, "enum", None)
        if enum and v not in enum:
            yield "must be one of " + ", ".join(enum[:12])
        compiled = _pattern(meta["pattern"]) if "pattern" in meta else None
        if compiled is not None and not compiled.fullmatch(v):
            yield f"must match {meta['pattern']}"
    elif shape.type_name in ("integer", "long", "float", "double") and isinstance(v, int | float):
        low, high = meta.get("min"), meta.get("max")
        if (low is not None and v < low) or (high is not None and v > high):
            yield f"must be between {low} and {high}"


def constraint_count(shape: Shape) -> int:
    """How many limits botocore states for one shape (to count rules, not to check)."""
    meta = shape.metadata
    return sum(1 for k in ("min", "max", "pattern") if k in meta) + bool(
        getattr(shape, "enum", None)
    )


def violations(
    service: str, method: str, params: Mapping[str, Any], counted: set[str] | None = None
) -> Iterator[tuple[str, Any, str]]:
    """(path, value, what botocore's model says) for each limit a parameter breaks."""
    shape = _operation(service, method).input_shape
    if shape is not None:
        yield from _walk(shape, params, "", f"{service}.{method}", counted)


def _walk(
    shape: Shape, value: Any, where: str, op: str, counted: set[str] | None
) -> Iterator[tuple[str, Any, str]]:
    if value is UNKNOWN or value is None:
        return
    if counted is not None and constraint_count(shape):
        counted.add(f"{op}:{where}")
    if isinstance(shape, StructureShape) and isinstance(value, Mapping):
        for key, item in value.items():
            if key in shape.members:
                path = f"{where}.{key}" if where else key
                yield from _walk(shape.members[key], item, path, op, counted)
    elif isinstance(shape, ListShape) and isinstance(value, list):
        high = shape.metadata.get("max")
        if high is not None and len(value) > high:
            yield where, f"{len(value)} items", f"must have at most {high} items"
        for n, item in enumerate(value):
            yield from _walk(shape.member, item, f"{where}[{n}]", op, counted)
    elif isinstance(shape, MapShape) and isinstance(value, Mapping):
        for key, item in value.items():
            for says in _limits(shape.key, key):
                yield f"{where}{{{key}}}", key, says
            yield from _walk(shape.value, item, f"{where}.{key}", op, counted)
    else:
        for says in _limits(shape, value):
            yield where, value, says
