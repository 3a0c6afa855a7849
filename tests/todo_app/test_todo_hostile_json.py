"""Any body the API cannot take answers a 4xx JSON error, never a 500, and stores nothing.

Named cases for each kind of hostile JSON, then properties over every JSON value and every
byte string: the status is the one the API's rules give, and a todo that is created reads
back exactly as sent.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_todo_validation import assert_json_error
from todo_helpers import named

JSON = "application/json"

HOSTILE: list[tuple[str, bytes, int, str]] = [
    # (case, raw body sent as application/json, status, words the error holds)
    ("60000 nested arrays under 64 KiB", b"[" * 60000, 400, "nested too deeply"),
    ("nested arrays, closed", b"[" * 20000 + b"]" * 20000, 400, "nested too deeply"),
    ("nested objects", b'{"a":' * 10000 + b"1" + b"}" * 10000, 400, "nested too deeply"),
    ("a deep value beside the title", b'{"title":"x","extra":' + b"[" * 30000, 400, "nested"),
    ("NaN", b'{"title": "x", "order": NaN}', 400, "NaN is not a JSON value"),
    ("Infinity", b'{"title": "x", "order": Infinity}', 400, "Infinity is not"),
    ("-Infinity", b'{"title": "x", "order": -Infinity}', 400, "-Infinity is not"),
    ("NaN in an ignored field", b'{"title": "x", "extra": [NaN]}', 400, "NaN"),
    ("the title twice", b'{"title": "shown", "title": "stored"}', 400, "same key"),
    ("an ignored key twice", b'{"title": "x", "id": 1, "id": 2}', 400, "same key"),
    ("a UTF-8 byte order mark", b'\xef\xbb\xbf{"title": "x"}', 400, "JSON"),
    ("UTF-16", '{"title": "x"}'.encode("utf-16"), 400, "UTF-8"),
    ("UTF-32", '{"title": "x"}'.encode("utf-32-le"), 400, "JSON"),
    ("an overlong UTF-8 slash", b'{"title": "\xc0\xaf"}', 400, "UTF-8"),
    ("an encoded surrogate", b'{"title": "\xed\xa0\x80"}', 400, "UTF-8"),
    ("a raw control character", b'{"title": "a\x01b"}', 400, "JSON"),
    ("whitespace only", b" \r\n\t ", 400, "empty"),
    ("two JSON values", b'{"title": "x"} {"title": "y"}', 400, "JSON"),
    ("a trailing comma", b'{"title": "x",}', 400, "JSON"),
    ("single quotes", b"{'title': 'x'}", 400, "JSON"),
    ("a huge exponent as order", b'{"title": "x", "order": 1e400}', 422, "order"),
    ("a 5000-digit order", b'{"title": "x", "order": ' + b"9" * 5000 + b"}", 422, "order"),
    ("a 5000-digit negative order", b'{"title": "x", "order": -' + b"9" * 5000 + b"}", 422, ""),
    ("a 5000-digit title", b'{"title": ' + b"9" * 5000 + b"}", 422, "title"),
    ("order as an exact float", b'{"title": "x", "order": 2.0}', 422, "order"),
    ("a lone low surrogate", b'{"title": "\\udc00"}', 422, "title"),
]


@pytest.mark.parametrize(
    ("body", "status", "words"),
    named(HOSTILE),
)
def test_hostile_bodies_answer_4xx_json_and_store_nothing(
    client: FlaskClient, body: bytes, status: int, words: str
) -> None:
    assert len(body) < 64 * 1024  # under the size limit: the parser itself must cope
    assert_json_error(client.post("/todos", data=body, content_type=JSON), status, words)
    assert client.get("/todos").get_json() == []


@pytest.mark.parametrize(
    "content_type",
    ["application/json; charset=utf-16", "application/json; charset=latin-1", "text/json"],
)
def test_json_in_another_charset_or_type_is_unsupported_media(
    client: FlaskClient, content_type: str
) -> None:
    response = client.post("/todos", data=b'{"title": "x"}', content_type=content_type)
    assert_json_error(response, 415)


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "application/json; charset=UTF-8"]
)
def test_json_declared_as_utf8_is_taken(client: FlaskClient, content_type: str) -> None:
    response = client.post("/todos", data=b'{"title": "x"}', content_type=content_type)
    assert response.status_code == 201


def test_a_lone_surrogate_in_an_ignored_field_does_not_stop_the_todo(client: FlaskClient) -> None:
    body = b'{"title": "kept", "note": "\\ud800"}'
    response = client.post("/todos", data=body, content_type=JSON)
    assert response.status_code == 201
    assert response.get_json()["title"] == "kept"


# --- properties -----------------------------------------------------------------------

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.integers(min_value=-(2**31) - 2, max_value=2**31 + 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.sampled_from(["", " \t", "a\x00b", "\ud800", "ü✓", "x" * 500, "x" * 501])
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
TODO_LIKE = st.fixed_dictionaries(
    {},
    optional={
        "title": st.text(max_size=30) | VALUES,
        "completed": st.booleans() | VALUES,
        "order": st.integers(min_value=-(2**31), max_value=2**31 - 1) | VALUES,
        "url": VALUES,
    },
)
BODIES = TODO_LIKE | VALUES


def _title_ok(value: Any) -> bool:
    if not isinstance(value, str) or not value.strip() or len(value) > 500 or "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _order_ok(value: Any) -> bool:
    if value is None:
        return True
    return isinstance(value, int) and not isinstance(value, bool) and -(2**31) <= value < 2**31


def expected_status(body: Any, *, creating: bool) -> int:
    """What the API's rules say a body should get: 400 not an object, 422 a bad field."""
    if not isinstance(body, dict):
        return 400
    if creating and "title" not in body:
        return 422
    checks = {"title": _title_ok, "completed": lambda v: isinstance(v, bool), "order": _order_ok}
    if any(name in body and not ok(body[name]) for name, ok in checks.items()):
        return 422
    return 201 if creating else 200


PROPERTY = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@PROPERTY
@given(body=BODIES)
def test_every_json_body_gets_the_status_the_rules_give(client: FlaskClient, body: Any) -> None:
    response = client.post("/todos", data=json.dumps(body), content_type=JSON)
    expected = expected_status(body, creating=True)
    if expected != 201:
        assert_json_error(response, expected)
        return
    assert response.status_code == 201, response.get_data(as_text=True)
    created = response.get_json()
    assert created["title"] == body["title"]
    assert created["completed"] is body.get("completed", False)
    assert created["order"] == body.get("order")
    assert client.get(response.headers["Location"]).get_json() == created


@PROPERTY
@given(body=BODIES)
def test_every_json_patch_gets_the_status_the_rules_give(client: FlaskClient, body: Any) -> None:
    todo = client.post("/todos", json={"title": "before", "order": 1}).get_json()
    path = f"/todos/{todo['id']}"
    response = client.patch(path, data=json.dumps(body), content_type=JSON)
    expected = expected_status(body, creating=False)
    if expected != 200:
        assert_json_error(response, expected)
        assert client.get(path).get_json() == todo  # changed nothing
        return
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["title"] == body.get("title", "before")


@PROPERTY
@given(body=st.binary(max_size=200) | VALUES.map(lambda v: json.dumps(v).encode()[:-1]))
def test_any_bytes_answer_a_json_4xx_or_a_todo(client: FlaskClient, body: bytes) -> None:
    response = client.post("/todos", data=body, content_type=JSON)
    if response.status_code == 201:
        return  # some byte strings are good todos
    assert_json_error(response, response.status_code)
    assert 400 <= response.status_code < 500
