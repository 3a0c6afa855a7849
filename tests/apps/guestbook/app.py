"""A guestbook: no Dockerfile of its own, signatures kept in PostgreSQL."""

from __future__ import annotations

import os

import psycopg2
from flask import Flask, abort, jsonify, request

app = Flask(__name__)
_ready = False


def connect():
    return psycopg2.connect(
        host=os.environ["DB_HOST"],
        port=os.getenv("DB_PORT", "5432"),
        dbname=os.environ["DB_NAME"],
        user=os.environ["DB_USER_NAME"],
        password=os.environ["DB_PWD"],
        sslmode=os.getenv("DB_SSLMODE", "require"),
        sslrootcert=os.getenv("DB_SSLROOTCERT"),
        connect_timeout=5,
    )


def schema() -> None:
    """Made on first use, once even when two workers race (an advisory lock)."""
    global _ready
    if _ready:
        return
    with connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(7)")
        cur.execute("CREATE TABLE IF NOT EXISTS signatures (id serial PRIMARY KEY, name text)")
    _ready = True


@app.get("/health")
def health():
    return {"ok": True}


@app.route("/signatures", methods=["GET"])
def signatures():
    schema()
    with connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT name FROM signatures ORDER BY id")
        return jsonify([name for (name,) in cur.fetchall()])


@app.route("/signatures", methods=["POST"])
def sign():
    name = (request.get_json(silent=True) or {}).get("name")
    if not isinstance(name, str) or not name:
        abort(400)
    schema()
    with connect() as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO signatures (name) VALUES (%s)", (name,))
    return jsonify(name=name), 201
