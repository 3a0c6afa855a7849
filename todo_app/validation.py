"""Reads a todo from a request's JSON body, or says (as a 4xx) exactly what is wrong with it."""

from __future__ import annotations

from typing import Any

from flask import request
from werkzeug.exceptions import (
    BadRequest,
    RequestEntityTooLarge,
    UnprocessableEntity,
    UnsupportedMediaType,
)

from todo_app import json_body

TITLE_MAX_CHARS = 500
# `order` is stored as a PostgreSQL integer.
ORDER_MIN, ORDER_MAX = -(2**31), 2**31 - 1


class InvalidField(UnprocessableEntity):
    """A well-formed JSON body whose field has the wrong type or value."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def json_object() -> dict[str, Any]:
    """The request body as a JSON object, or a 4xx saying what is wrong with it.

    The body is read whole (at most MAX_CONTENT_LENGTH: a longer one is werkzeug's 413)
    and parsed strictly (todo_app.json_body), never by Flask's lenient get_json.
    """
    if not request.is_json:
        raise UnsupportedMediaType("send the todo as JSON, with Content-Type: application/json")
    charset = request.mimetype_params.get("charset")
    if charset is not None and charset.lower() not in ("utf-8", "utf8"):
        # RFC 8259: JSON exchanged between systems is UTF-8.
        raise UnsupportedMediaType("send the JSON as UTF-8 (charset=utf-8, or no charset)")
    raw = request.get_data(cache=False)
    limit = request.max_content_length
    if request.content_length is None and limit is not None and len(raw) >= limit:
        # A chunked body stops at the limit without a word from werkzeug (its stream's
        # readall ends there): what came is only the start of something too large.
        raise RequestEntityTooLarge()
    try:
        body = json_body.parse(raw)
    except json_body.JsonRefused as error:
        raise BadRequest(str(error)) from None
    if not isinstance(body, dict):
        raise BadRequest('the body must be a JSON object, e.g. {"title": "walk the dog"}')
    return body


def _title(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidField("title", "must be a non-empty string")
    if len(value) > TITLE_MAX_CHARS:
        raise InvalidField("title", f"must be at most {TITLE_MAX_CHARS} characters")
    # PostgreSQL text holds neither NUL nor the lone surrogates that JSON's \ud800 escapes
    # can smuggle in; refuse them here rather than fail in the driver.
    if "\x00" in value:
        raise InvalidField("title", "must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidField("title", "must be valid Unicode text") from None
    return value


def _completed(value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidField("completed", "must be true or false")
    return value


def _order(value: Any) -> int | None:
    # bool is a subclass of int in Python, but `true` is no position.
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidField("order", "must be an integer or null")
    if not ORDER_MIN <= value <= ORDER_MAX:
        raise InvalidField("order", f"must be between {ORDER_MIN} and {ORDER_MAX}")
    return value


_FIELDS = {"title": _title, "completed": _completed, "order": _order}


def todo_changes(body: dict[str, Any]) -> dict[str, Any]:
    """The known fields present in body, checked. Other keys (id, url, ...) are ignored,
    as clients commonly send back the whole todo they were given."""
    return {name: check(body[name]) for name, check in _FIELDS.items() if name in body}


def new_todo(body: dict[str, Any]) -> dict[str, Any]:
    """A new todo's fields: title required, completed false and order null unless given."""
    if "title" not in body:
        raise InvalidField("title", "is required")
    return {"completed": False, "order": None, **todo_changes(body)}
