"""The database connection, from the variables the deployment sets."""

from __future__ import annotations

import os

import psycopg2


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
