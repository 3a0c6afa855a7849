"""`python -m notes.migrate`: the schema, made once even when several tasks start together."""

from __future__ import annotations

import sys
import time

import psycopg2

from notes.db import connect


def main(wait: float = 60.0) -> int:
    deadline = time.monotonic() + wait
    while True:
        try:
            conn = connect()
            break
        except psycopg2.OperationalError as exc:  # the database may still be starting
            if time.monotonic() > deadline:
                print(f"migrate: no database: {exc}", file=sys.stderr)
                return 1
            time.sleep(1)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(4242)")
        cur.execute("CREATE TABLE IF NOT EXISTS notes (id serial PRIMARY KEY, body text NOT NULL)")
    conn.close()
    print("migrate: schema ready", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
