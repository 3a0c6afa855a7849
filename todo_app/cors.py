"""CORS for browser clients such as the Todo-Backend spec runner and TodoMVC front ends."""

from __future__ import annotations

from flask import Flask, Response, request

ALLOWED_HEADERS = "Content-Type, Accept, X-Requested-With"


def add_cors_headers(response: Response) -> Response:
    # Any origin: the API is public and uses no cookies or other credentials.
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = "Location"
    if request.method == "OPTIONS":
        # Flask answers OPTIONS on every route by itself, with the route's methods in
        # `Allow`; a preflight wants the same list under the CORS name.
        allowed = response.headers.get("Allow")
        if allowed:
            response.headers["Access-Control-Allow-Methods"] = allowed
        response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        response.headers["Access-Control-Max-Age"] = "86400"
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_cors_headers)
