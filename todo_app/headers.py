"""Headers every answer carries: no MIME sniffing, and a Cache-Control suited to it."""

from __future__ import annotations

from flask import Flask, Response


def add_safety_headers(response: Response) -> Response:
    # A browser must take the declared type (JSON) and never guess HTML or script from a
    # body that holds a client's own text (a todo's title).
    response.headers["X-Content-Type-Options"] = "nosniff"
    if "Cache-Control" not in response.headers:
        # Todos change under any cache, and errors and health say how things are now:
        # nothing is kept unless its view says otherwise (the OpenAPI document does, and
        # the list of todos, kept but revalidated by its ETag).
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_safety_headers)
