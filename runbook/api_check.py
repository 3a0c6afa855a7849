"""A planned call held to its operation's input shape, as boto3 would hold it before sending.

The same checks botocore's ParamValidator makes (names, required members, types, minimums,
one member of a union), over the compact index rather than botocore's loaded models, so a
plan never imports botocore. tests/engine/test_api_check.py holds the two to the same
answers.
"""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Iterator, Mapping
from typing import Any

from runbook.api_index import Operation

# What a Python value may be for each scalar type, as boto3 accepts it.
_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "long": (int,),
    "float": (float, decimal.Decimal, int),
    "double": (float, decimal.Decimal, int),
    "timestamp": (datetime.datetime, str),
    "blob": (bytes, bytearray, str),
}


def problems(operation: Operation, params: Mapping[str, Any]) -> list[str]:
    """What boto3 would refuse in these parameters, one line each (empty: nothing)."""
    if operation.input is None:
        return [f"Unknown parameter {k!r}: the operation takes none" for k in params]
    return list(_check(operation.shapes, operation.input, params, "input"))


def _check(shapes: dict[str, Any], name: str, value: Any, where: str) -> Iterator[str]:
    shape = shapes[name]
    kind = shape["type"]
    if kind == "structure":
        if shape.get("document"):
            return  # any JSON value
        yield from _structure(shapes, shape, value, where)
    elif kind == "list":
        if not isinstance(value, list | tuple):
            yield _wrong_type(where, value, "list, tuple")
            return
        if len(value) < shape.get("min", 0):
            yield f"Invalid length for {where}: {len(value)} items, at least {shape['min']}"
        for n, item in enumerate(value):
            yield from _check(shapes, shape["member"]["shape"], item, f"{where}[{n}]")
    elif kind == "map":
        if not isinstance(value, Mapping):
            yield _wrong_type(where, value, "dict")
            return
        for key, item in value.items():
            yield from _check(shapes, shape["key"]["shape"], key, f"{where} (key)")
            yield from _check(shapes, shape["value"]["shape"], item, f"{where}.{key}")
    else:
        yield from _scalar(shape, kind, value, where)


def _structure(shapes: dict[str, Any], shape: dict[str, Any], value: Any, where: str):
    if not isinstance(value, Mapping):
        yield _wrong_type(where, value, "dict")
        return
    members = shape.get("members", {})
    for required in shape.get("required", []):
        if required not in value:
            yield f"Missing required parameter in {where}: {required!r}"
    if shape.get("union") and len([k for k, v in value.items() if v is not None]) != 1:
        yield f"Invalid number of parameters set for tagged union structure {where}"
    for key, item in value.items():
        if key not in members:
            yield (f"Unknown parameter in {where}: {key!r}, must be one of: " + ", ".join(members))
            continue
        if members[key].get("jsonvalue"):
            continue  # boto3 serialises any JSON value into it
        yield from _check(shapes, members[key]["shape"], item, f"{where}.{key}")


def _scalar(shape: dict[str, Any], kind: str, value: Any, where: str) -> Iterator[str]:
    allowed = _TYPES.get(kind)
    if allowed is None:
        return  # a type no planned call uses: botocore would know; we do not guess
    if not isinstance(value, allowed):
        if not (kind == "blob" and hasattr(value, "read")):
            yield _wrong_type(where, value, ", ".join(t.__name__ for t in allowed))
        return
    low = shape.get("min")
    if low is None:
        return
    if kind == "string" and len(value) < low:
        yield f"Invalid length for {where}, value: {len(value)}, valid min length: {low}"
    elif kind in ("integer", "long") and value < low:
        yield f"Invalid value for {where}, value: {value}, valid min value: {low}"


def _wrong_type(where: str, value: Any, valid: str) -> str:
    return (
        f"Invalid type for {where}, value: {value!r}, type: {type(value).__name__}, "
        f"valid types: {valid}"
    )
