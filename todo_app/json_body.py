"""Strict JSON for request bodies: UTF-8 only, RFC 8259's grammar only, one value per key.

Python's json module is lenient where a public API should not be: it takes NaN and
Infinity (not JSON), keeps the last of two equal keys (another parser in the path may
keep the first, and then two programs read one request differently), turns a number of
any length into an int, and raises RecursionError rather than ValueError on deep nesting.
Each of these becomes a JsonRefused here, which the API answers with a 400.
"""

from __future__ import annotations

import json
from typing import Any

# A number longer than this is out of range for every field we store (order is an int32):
# it stands in as a value just as out of range, so that it answers "out of range" without
# paying for the conversion of a huge decimal string (quadratic in CPython).
_INT_DIGITS_MAX = 30
_HUGE = 10**_INT_DIGITS_MAX


class JsonRefused(ValueError):
    """The body is not a JSON text this API takes; the message says why, for the client."""


def _int(text: str) -> int:
    if len(text) <= _INT_DIGITS_MAX:
        return int(text)
    return -_HUGE if text.startswith("-") else _HUGE


def _not_a_number(name: str) -> float:
    raise JsonRefused(f"{name} is not a JSON value")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise JsonRefused("an object names the same key more than once")
    return obj


_DECODER = json.JSONDecoder(
    object_pairs_hook=_object, parse_int=_int, parse_constant=_not_a_number, strict=True
)


def parse(raw: bytes) -> Any:
    """The JSON value in raw, or JsonRefused saying what is wrong with it."""
    if not raw.strip():
        raise JsonRefused("the body is empty; send a JSON object")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise JsonRefused("the body is not valid UTF-8, which JSON must be") from None
    try:
        return _DECODER.decode(text)
    except JsonRefused:
        raise
    except RecursionError:
        # CPython's decoder counts its depth against the recursion limit and unwinds
        # cleanly; RFC 8259 (section 9) lets a parser limit nesting.
        raise JsonRefused("the JSON is nested too deeply") from None
    except ValueError as error:
        # JSONDecodeError says where (line and column), which helps the client.
        raise JsonRefused(f"the body is not valid JSON ({error})") from None
