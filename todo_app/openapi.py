"""/openapi.json: an OpenAPI 3.1 description of every route, body and error of the API."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from todo_app.validation import ORDER_MAX, ORDER_MIN, TITLE_MAX_CHARS

bp = Blueprint("openapi", __name__)


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _json(schema_ref: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}},
    }


_TODO_ID = {
    "name": "todo_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 0},
}

_COMMON_ERRORS = {
    "405": _error("Method not allowed on this path (the Allow header lists those that are)"),
    "500": _error("Unexpected server error"),
    "503": _error("The database is unreachable; retry shortly (Retry-After: 1)"),
}

_BODY_ERRORS = {
    "400": _error("The body is not valid JSON, or not a JSON object"),
    "413": _error("The body is larger than 64 KiB"),
    "415": _error("The body is not sent as application/json"),
    "422": _error("A field has the wrong type or value; `error` names the field"),
}

_TITLE = {"type": "string", "minLength": 1, "maxLength": TITLE_MAX_CHARS}
_ORDER = {"type": ["integer", "null"], "minimum": ORDER_MIN, "maximum": ORDER_MAX}

SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Todo API",
        "version": "1.0.0",
        "description": "A Todo-Backend (todobackend.com) compatible API. Every response "
        "carries Access-Control-Allow-Origin: *, and every path answers OPTIONS preflights.",
    },
    "paths": {
        "/todos": {
            "get": {
                "summary": "List todos, by order (todos without one last), then creation",
                "responses": {
                    "200": {
                        "description": "Every todo",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/Todo"},
                                }
                            }
                        },
                    },
                    **_COMMON_ERRORS,
                },
            },
            "post": {
                "summary": "Create a todo",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/NewTodo"}}
                    },
                },
                "responses": {
                    "201": {
                        **_json("Todo", "The created todo"),
                        "headers": {
                            "Location": {
                                "description": "The todo's absolute URL",
                                "schema": {"type": "string", "format": "uri"},
                            }
                        },
                    },
                    **_BODY_ERRORS,
                    **_COMMON_ERRORS,
                },
            },
            "delete": {
                "summary": "Delete every todo",
                "responses": {"204": {"description": "All todos deleted"}, **_COMMON_ERRORS},
            },
        },
        "/todos/{todo_id}": {
            "parameters": [_TODO_ID],
            "get": {
                "summary": "Get one todo",
                "responses": {
                    "200": _json("Todo", "The todo"),
                    "404": _error("No todo with this id"),
                    **_COMMON_ERRORS,
                },
            },
            "patch": {
                "summary": "Change any of a todo's title, completed and order",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/TodoChanges"}}
                    },
                },
                "responses": {
                    "200": _json("Todo", "The changed todo"),
                    "404": _error("No todo with this id"),
                    **_BODY_ERRORS,
                    **_COMMON_ERRORS,
                },
            },
            "delete": {
                "summary": "Delete one todo",
                "responses": {
                    "204": {"description": "Deleted"},
                    "404": _error("No todo with this id"),
                    **_COMMON_ERRORS,
                },
            },
        },
        "/healthz": {
            "get": {
                "summary": "Health of the app and its database, answered within about 1 s",
                "responses": {
                    "200": _json("Health", "The app and its database answer"),
                    "503": _json(
                        "Health",
                        "The database does not answer, or its schema is behind (the task's"
                        " log says which; the answer does not)",
                    ),
                    "405": _COMMON_ERRORS["405"],
                },
            }
        },
        "/openapi.json": {
            "get": {
                "summary": "This description",
                "responses": {
                    "200": {
                        "description": "OpenAPI 3.1 document",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    "405": _COMMON_ERRORS["405"],
                },
            }
        },
    },
    "components": {
        "schemas": {
            "Todo": {
                "type": "object",
                "required": [
                    *("id", "title", "completed", "order", "url", "created_at", "updated_at")
                ],
                "properties": {
                    "id": {"type": "integer"},
                    "title": _TITLE,
                    "completed": {"type": "boolean"},
                    "order": _ORDER,
                    "url": {"type": "string", "format": "uri"},
                    "created_at": {"type": "string", "format": "date-time"},
                    "updated_at": {"type": "string", "format": "date-time"},
                },
            },
            "NewTodo": {
                "type": "object",
                "required": ["title"],
                "description": "Other keys are ignored.",
                "properties": {
                    "title": _TITLE,
                    "completed": {"type": "boolean", "default": False},
                    "order": {**_ORDER, "default": None},
                },
            },
            "TodoChanges": {
                "type": "object",
                "description": "Only the keys present change; other keys are ignored.",
                "properties": {"title": _TITLE, "completed": {"type": "boolean"}, "order": _ORDER},
            },
            "Health": {
                "type": "object",
                "required": ["status"],
                "properties": {"status": {"enum": ["ok", "unavailable"]}},
                "additionalProperties": False,
            },
            "Error": {
                "type": "object",
                "required": ["error"],
                "properties": {"error": {"type": "string"}, "status": {"type": "integer"}},
            },
        }
    },
}


@bp.get("/openapi.json")
def openapi() -> Response:
    # The same document until the next deploy: caches may keep it an hour, and a client
    # holding it revalidates with its ETag (a 304 then carries no body).
    response = jsonify(SPEC)
    response.add_etag()
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response.make_conditional(request)
