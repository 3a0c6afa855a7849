"""The Todo API plus a bare endpoint, so the benchmark can measure Flask's own floor.

`/bench/bare` goes through the same app, middleware and hooks as the API but does no
database work; it exists only here, never in the deployed app.
"""

from __future__ import annotations

from flask import Flask, Response

from todo_app import create_app


def make_app() -> Flask:
    app = create_app()

    @app.get("/bench/bare")
    def bare() -> Response:
        return app.response_class('{"ok":true}', mimetype="application/json")

    return app


app = make_app()
