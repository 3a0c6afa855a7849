"""The /todos routes, compatible with the Todo-Backend specification (todobackend.com)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request, url_for
from werkzeug.exceptions import NotFound

from todo_app import store
from todo_app.db import get_db
from todo_app.listing import get_listing_cache
from todo_app.validation import json_object, new_todo, todo_changes

bp = Blueprint("todos", __name__, url_prefix="/todos")

# Ids are PostgreSQL bigints; a larger number in the URL names no todo (and must not
# reach the database, which would refuse it as out of range).
_ID_MAX = 2**63 - 1


def _json(body: str, status: int = 200) -> Response:
    return current_app.response_class(body, status=status, mimetype="application/json")


def _collection_url() -> str:
    return url_for("todos.collection", _external=True)


def _not_found(todo_id: int) -> NotFound:
    return NotFound(f"no todo with id {todo_id}")


def _existing_id(todo_id: int) -> int:
    if todo_id > _ID_MAX:
        raise _not_found(todo_id)
    return todo_id


# strict_slashes=False: "/todos/" answers too, instead of redirecting (a redirect breaks
# CORS preflights and POST bodies).
@bp.get("", strict_slashes=False, endpoint="collection")
def list_todos() -> Response:
    listing = get_listing_cache().current(get_db, _collection_url())
    # If-None-Match compares weakly (RFC 9110, 13.1.2); "*" matches any list.
    if request.if_none_match.contains_weak(listing.etag.strip('"')):
        response = Response(status=304)
        # A 304 carries no representation metadata beyond its validators (RFC 9110, 15.4.5).
        del response.headers["Content-Type"]
    else:
        response = current_app.response_class(listing.body, mimetype="application/json")
    response.headers["ETag"] = listing.etag
    # Clients and caches may keep the list but must ask again each time before using it;
    # the ETag makes asking cheap (a 304 without the list).
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.post("", strict_slashes=False)
def create_todo() -> Response:
    fields = new_todo(json_object())
    todo_id, body = store.create_todo(get_db(), _collection_url(), fields)
    response = _json(body, 201)
    response.headers["Location"] = url_for("todos.item", todo_id=todo_id, _external=True)
    return response


@bp.delete("", strict_slashes=False)
def delete_all_todos() -> Response:
    store.delete_all(get_db())
    return Response(status=204)


@bp.get("/<int:todo_id>", endpoint="item")
def get_todo(todo_id: int) -> Response:
    body = store.get_todo(get_db(), _collection_url(), _existing_id(todo_id))
    if body is None:
        raise _not_found(todo_id)
    return _json(body)


@bp.patch("/<int:todo_id>")
def update_todo(todo_id: int) -> Response:
    changes = todo_changes(json_object())
    body = store.update_todo(get_db(), _collection_url(), _existing_id(todo_id), changes)
    if body is None:
        raise _not_found(todo_id)
    return _json(body)


@bp.delete("/<int:todo_id>")
def delete_todo(todo_id: int) -> Response:
    if not store.delete_todo(get_db(), _existing_id(todo_id)):
        raise _not_found(todo_id)
    return Response(status=204)
