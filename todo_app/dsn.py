"""How the app connects to PostgreSQL: libpq settings shared by the pool, probe and migrations."""

from __future__ import annotations

from typing import Any

# libpq rounds any connect_timeout below 2 s up to 2 s; the health probe enforces its own
# shorter deadline (see health.py).
CONNECT_TIMEOUT_SECONDS = 2

_DEFAULTS: dict[str, Any] = {
    "connect_timeout": CONNECT_TIMEOUT_SECONDS,
    "application_name": "todo-api",
    # Notice a silently vanished server (failover, network cut) in seconds, not minutes.
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
    "tcp_user_timeout": 10_000,
}


def connection_kwargs(database: dict[str, Any], statement_timeout_ms: int = 0) -> dict[str, Any]:
    """Keyword arguments for psycopg2.connect: our defaults, then the configured database.

    Timestamps are rendered in UTC whatever the server's own time zone, and a statement
    running longer than statement_timeout_ms (0: no limit) is cancelled by the server.
    """
    options = f"-c TimeZone=UTC -c statement_timeout={int(statement_timeout_ms)}"
    return {**_DEFAULTS, "options": options, **database}
