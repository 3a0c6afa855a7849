"""Every answer says nosniff, and a Cache-Control suited to it: todos and health are never
kept by a cache; the OpenAPI document is, and revalidates with its ETag; the list of todos
may be kept but is revalidated before each use (tests/todo_app/test_todo_listing.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("POST", "/todos", {"json": {"title": "x"}}, 201),
        ("GET", "/todos/ITEM", {}, 200),
        ("PATCH", "/todos/ITEM", {"json": {"completed": True}}, 200),
        ("DELETE", "/todos/ITEM", {}, 204),
        ("DELETE", "/todos", {}, 204),
        ("GET", "/healthz", {}, 200),
        ("OPTIONS", "/todos", {}, 200),
        ("GET", "/todos/424242", {}, 404),
        ("GET", "/nope", {}, 404),
        ("PUT", "/todos", {}, 405),
        ("POST", "/todos", {"data": "x", "content_type": "text/plain"}, 415),
        ("POST", "/todos", {"data": b"[" * 60000, "content_type": "application/json"}, 400),
        ("POST", "/todos", {"json": {"title": ""}}, 422),
        ("POST", "/todos", {"json": {"title": "x" * 70000}}, 413),
    ],
)
def test_todos_errors_and_health_are_never_cached_nor_sniffed(
    client: FlaskClient, method: str, path: str, kwargs: dict[str, object], status: int
) -> None:
    todo = client.post("/todos", json={"title": "there"}).get_json()
    path = path.replace("ITEM", str(todo["id"]))
    response = client.open(path, method=method, **kwargs)  # type: ignore[arg-type]
    assert response.status_code == status
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


def test_an_unhealthy_answer_is_not_cached_either(
    make_app: Callable[..., Flask], free_port: int
) -> None:
    response = (
        make_app(f"host=127.0.0.1 port={free_port} dbname=x user=x").test_client().get("/healthz")
    )
    assert response.status_code == 503
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_openapi_document_is_cacheable_and_revalidates(client: FlaskClient) -> None:
    first = client.get("/openapi.json")
    assert first.status_code == 200
    assert first.headers["X-Content-Type-Options"] == "nosniff"
    assert set(first.headers["Cache-Control"].split(", ")) == {"public", "max-age=3600"}
    etag = first.headers["ETag"]
    again = client.get("/openapi.json", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    assert again.headers["ETag"] == etag


def test_the_list_may_be_kept_but_is_revalidated_each_time(client: FlaskClient) -> None:
    client.post("/todos", json={"title": "there"})
    response = client.get("/todos")
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["ETag"].startswith('"')
