"""/openapi.json describes every registered route and method, with its bodies and errors."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from todo_app.openapi import SPEC


def openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def test_every_url_rule_and_method_is_described(app: Flask) -> None:
    for rule in app.url_map.iter_rules():
        path = openapi_path(rule.rule)
        assert path in SPEC["paths"], f"{rule.rule} is missing from the OpenAPI description"
        for method in set(rule.methods or ()) - {"HEAD", "OPTIONS"}:
            assert method.lower() in SPEC["paths"][path], f"{method} {path} is not described"


def test_described_paths_all_exist(app: Flask) -> None:
    registered = {openapi_path(rule.rule) for rule in app.url_map.iter_rules()}
    assert set(SPEC["paths"]) == registered


def test_every_operation_documents_its_errors_and_bodies() -> None:
    for path, item in SPEC["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            codes = set(operation["responses"])
            assert any(code.startswith("2") for code in codes), (method, path)
            assert "405" in codes, (method, path)
            if method in ("post", "patch"):
                assert "requestBody" in operation
                assert {"400", "413", "415", "422"} <= codes, (method, path)
            if "{todo_id}" in path:
                assert "404" in codes, (method, path)


def test_every_schema_reference_resolves() -> None:
    text = repr(SPEC)
    for name in re.findall(r"#/components/schemas/(\w+)", text):
        assert name in SPEC["components"]["schemas"]


def test_the_description_is_served_as_json(client: FlaskClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.get_json() == SPEC
