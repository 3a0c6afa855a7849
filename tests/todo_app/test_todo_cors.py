"""Browser clients: every route answers a CORS preflight, and every answer allows any origin."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

ORIGIN = "http://www.todobackend.com"


def concrete_paths(app: Flask, todo_id: int) -> list[tuple[str, set[str]]]:
    """Each registered route as a path to call, with the methods it serves."""
    paths = []
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<int:todo_id>", str(todo_id), rule.rule)
        assert "<" not in path, f"no sample value for {rule.rule}"
        paths.append((path, set(rule.methods or ()) - {"HEAD", "OPTIONS"}))
    return paths


def test_every_route_answers_a_preflight_for_each_of_its_methods(
    app: Flask, client: FlaskClient
) -> None:
    todo_id = client.post("/todos", json={"title": "x"}).get_json()["id"]
    routes = concrete_paths(app, todo_id)
    assert len(routes) >= 6
    for path, methods in routes:
        for method in methods:
            response = client.options(
                path,
                headers={
                    "Origin": ORIGIN,
                    "Access-Control-Request-Method": method,
                    "Access-Control-Request-Headers": "content-type",
                },
            )
            assert response.status_code in (200, 204), (path, method)
            assert response.headers["Access-Control-Allow-Origin"] == "*"
            allow_methods = response.headers["Access-Control-Allow-Methods"]
            allowed = {name.strip() for name in allow_methods.split(",")}
            assert method in allowed, (path, method, allowed)
            allowed_headers = response.headers["Access-Control-Allow-Headers"].lower()
            assert "content-type" in allowed_headers


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/todos", None, 200),
        ("POST", "/todos", {"title": "x"}, 201),
        ("POST", "/todos", {"title": 5}, 422),
        ("GET", "/todos/999", None, 404),
        ("PUT", "/todos", None, 405),
        ("DELETE", "/todos", None, 204),
        ("GET", "/openapi.json", None, 200),
        ("GET", "/healthz", None, 200),
    ],
)
def test_answers_and_errors_allow_any_origin_and_expose_location(
    client: FlaskClient, method: str, path: str, body: object, status: int
) -> None:
    response = client.open(path, method=method, json=body, headers={"Origin": ORIGIN})
    assert response.status_code == status
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Location" in response.headers["Access-Control-Expose-Headers"]
