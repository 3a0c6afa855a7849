"""A small notes service: an app factory, a health route, notes kept in PostgreSQL."""

from __future__ import annotations

from flask import Flask, abort, jsonify, request

from notes.db import connect


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/status")
    def status():
        return jsonify(status="ok")

    @app.get("/notes")
    def list_notes():
        with connect() as conn, conn.cursor() as cur:
            cur.execute("SELECT id, body FROM notes ORDER BY id")
            return jsonify([{"id": i, "body": b} for i, b in cur.fetchall()])

    @app.post("/notes")
    def add_note():
        body = (request.get_json(silent=True) or {}).get("body")
        if not isinstance(body, str) or not body:
            abort(400)
        with connect() as conn, conn.cursor() as cur:
            cur.execute("INSERT INTO notes (body) VALUES (%s) RETURNING id", (body,))
            (note_id,) = cur.fetchone()
        return jsonify(id=note_id, body=body), 201

    return app
