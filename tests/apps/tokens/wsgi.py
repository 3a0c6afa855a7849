"""A counter service whose writes need API_TOKEN (a secret); reads are open."""

from __future__ import annotations

import hmac
import os

import psycopg2
from flask import Flask, abort, jsonify, request

# Required: the app refuses to start without it.
API_TOKEN = os.environ["API_TOKEN"]
GREETING = os.environ.get("GREETING", "hello")

application = Flask(__name__)


def connect():
    return psycopg2.connect(
        host=os.environ["DB_HOST"],
        port=os.environ.get("DB_PORT", "5432"),
        dbname=os.environ["DB_NAME"],
        user=os.environ["DB_USER_NAME"],
        password=os.environ["DB_PWD"],
        sslmode=os.environ.get("DB_SSLMODE", "require"),
        sslrootcert=os.environ.get("DB_SSLROOTCERT"),
        connect_timeout=5,
    )


def require_token(view):
    def checked(*args, **kwargs):
        given = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if not hmac.compare_digest(given.encode(), API_TOKEN.encode()):
            abort(401)
        return view(*args, **kwargs)

    checked.__name__ = view.__name__
    return checked


@application.route("/")
def index():
    return jsonify(greeting=GREETING)


@application.route("/admin/stats")
@require_token
def stats():
    return jsonify(workers=os.cpu_count())


@application.route("/counters/<name>", methods=["GET"])
def read(name: str):
    with connect() as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS counters (name text PRIMARY KEY, n int)")
        cur.execute("SELECT n FROM counters WHERE name = %s", (name,))
        row = cur.fetchone()
    return jsonify(name=name, n=row[0] if row else 0)


@application.route("/counters/<name>", methods=["POST"])
@require_token
def bump(name: str):
    with connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(99)")
        cur.execute("CREATE TABLE IF NOT EXISTS counters (name text PRIMARY KEY, n int)")
        cur.execute(
            "INSERT INTO counters VALUES (%s, 1) ON CONFLICT (name) "
            "DO UPDATE SET n = counters.n + 1 RETURNING n",
            (name,),
        )
        (n,) = cur.fetchone()
    return jsonify(name=name, n=n)
