"""Every error answers JSON `{"error": ...}`: HTTP errors, an unreachable database, bugs."""

from __future__ import annotations

import logging

import psycopg2
from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as WerkzeugResponse

from todo_app.pool import PoolTimeout
from todo_app.secret import SecretUnavailable

try:  # gunicorn serves the app in its container; Flask's own server runs it in development
    from gunicorn.http.errors import ParseException
except ImportError:  # pragma: no cover
    ParseException = None  # type: ignore[assignment,misc]

log = logging.getLogger(__name__)


def http_error(error: HTTPException) -> WerkzeugResponse:
    # Start from werkzeug's own response to keep its headers (Allow on a 405, ...).
    response = error.get_response()
    response.set_data(jsonify(error=error.description, status=error.code).get_data())
    response.mimetype = "application/json"
    if error.code == 413:
        # The body was not read: close rather than have gunicorn drain it from the client.
        response.headers["Connection"] = "close"
    return response


Answer = tuple[Response, int, dict[str, str]]


def _answer(status: int, message: str, headers: dict[str, str] | None = None) -> Answer:
    """The JSON body every error answers, its status, and the headers it needs."""
    return jsonify(error=message, status=status), status, headers or {}


def database_unavailable(error: Exception) -> Answer:
    # The broken connection is dropped when the request ends (Pool.release); the next
    # request opens a fresh one, so this lasts only while the database is really away.
    log.warning("database unavailable: %s", error)
    return _answer(503, "database unavailable, try again shortly", {"Retry-After": "1"})


def invalid_value(error: psycopg2.DataError) -> Answer:
    # Validation should have caught it; if a value still slips through, it is still the
    # client's value that the database refused.
    log.warning("database refused a value: %s", error)
    return _answer(400, "a value was refused by the database")


def malformed_body(error: Exception) -> Answer:
    # gunicorn found the body's framing broken (a bad chunk size or terminator) while the
    # app read it: the client's fault, and where its next request starts is unknown.
    log.info("malformed request body: %s", error)
    return _answer(
        400, "the request body is malformed (its chunked encoding)", {"Connection": "close"}
    )


def unexpected_error(error: Exception) -> Answer:
    log.exception("unexpected error while handling a request")
    return _answer(500, "internal server error")


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, http_error)
    # SecretUnavailable: the password could not be read; /healthz logs why, in full.
    unavailable = (
        psycopg2.OperationalError,
        psycopg2.InterfaceError,
        PoolTimeout,
        SecretUnavailable,
    )
    for error_class in unavailable:
        app.register_error_handler(error_class, database_unavailable)
    app.register_error_handler(psycopg2.DataError, invalid_value)
    if ParseException is not None:
        app.register_error_handler(ParseException, malformed_body)
    app.register_error_handler(Exception, unexpected_error)
