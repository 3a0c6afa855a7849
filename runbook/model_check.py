"""Check planned calls offline against botocore's service models, as ecsctrl does.

The models are read through the compact index (runbook/api_index.py): a plan imports no
botocore.
"""

from __future__ import annotations

from typing import Any

from runbook.api_check import problems
from runbook.api_index import UnknownOperation, index

# AWS's own names for boto3's methods: read here by the front ends (the plan reads them
# from runbook.operation_names itself, which imports no plan: no circle).
from runbook.operation_names import operation_name as operation_name
from runbook.plan import Action, Ref, Secret


def _placeholder(value: Any, name: str | None, shapes: dict[str, Any]) -> Any:
    """Stand-ins of the right type for values only apply will know."""
    shape = shapes.get(name) if name else None
    kind = shape["type"] if shape else "string"
    if isinstance(value, Ref | Secret):
        if kind == "list":
            return ["placeholder"]
        if kind in ("integer", "long"):
            return 1
        if kind == "boolean":
            return True
        # As long as the shape demands: an ARN field may require 20 characters or more.
        return "x" * max(int(shape.get("min", 1)) if shape else 1, 11)
    if isinstance(value, dict):
        if shape and kind == "structure":
            members = shape.get("members", {})
            return {
                k: _placeholder(v, members[k]["shape"] if k in members else None, shapes)
                for k, v in value.items()
            }
        inner = shape["value"]["shape"] if shape and kind == "map" else None
        return {k: _placeholder(v, inner, shapes) for k, v in value.items()}
    if isinstance(value, list | tuple):
        inner = shape["member"]["shape"] if shape and kind == "list" else None
        return [_placeholder(v, inner, shapes) for v in value]
    return value


def check(action: Action) -> str | None:
    """None when the call fits the operation's input shape, else what boto3 would refuse."""
    try:
        operation = index().operation(action.service, action.operation)
    except UnknownOperation as exc:
        return str(exc)
    params = _placeholder(dict(action.params), operation.input, operation.shapes)
    found = problems(operation, params)
    return "Parameter validation failed:\n" + "\n".join(found) if found else None
