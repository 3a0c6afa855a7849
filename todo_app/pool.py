"""A psycopg2 connection pool that waits for a free slot and hands out only live connections."""

from __future__ import annotations

import select
import threading
from collections.abc import Callable

from psycopg2 import extensions
from psycopg2.pool import ThreadedConnectionPool


class PoolTimeout(Exception):
    """Every connection stayed busy for longer than the pool is willing to wait."""


def is_alive(conn: extensions.connection) -> bool:
    """Whether an idle connection still looks usable, without a round trip to the server.

    An idle connection has nothing to read. When the server restarts or drops it, the
    socket turns readable (a FATAL message, then end of file): that one is dead.
    """
    if conn.closed:
        return False
    try:
        readable, _, _ = select.select([conn.fileno()], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable


class Pool(ThreadedConnectionPool):
    """ThreadedConnectionPool sized for one process's threads.

    psycopg2's pool raises as soon as every connection is taken and closes any returned
    connection beyond `minconn`; this one waits up to `wait_seconds` for a slot, keeps every
    idle connection, and drops dead ones (e.g. after a database restart) instead of handing
    them out, so the app rides out a restart without being restarted itself. New
    connections come from `connect` (which rides out a password rotation).
    """

    def __init__(
        self, maxconn: int, wait_seconds: float, connect: Callable[[], extensions.connection]
    ) -> None:
        super().__init__(0, maxconn)  # 0: open nothing until first asked
        self.minconn = maxconn  # keep up to maxconn idle connections (see _putconn)
        self._slots = threading.BoundedSemaphore(maxconn)
        self._wait_seconds = wait_seconds
        self._open = connect

    def _connect(self, key: object = None) -> extensions.connection:
        # psycopg2's own, but through `connect` rather than psycopg2.connect(**kwargs).
        conn = self._open()
        if key is not None:
            self._used[key] = conn
            self._rused[id(conn)] = key
        else:
            self._pool.append(conn)
        return conn

    def acquire(self) -> extensions.connection:
        """A live connection in autocommit mode; raise PoolTimeout or OperationalError."""
        if not self._slots.acquire(timeout=self._wait_seconds):
            raise PoolTimeout(f"no database connection free within {self._wait_seconds:g} s")
        try:
            # Each dead one found is closed and forgotten, so this ends within maxconn + 1
            # turns: the last turn opens a fresh connection.
            for _ in range(self.maxconn + 1):
                conn = self.getconn()
                if is_alive(conn):
                    # Every request is a single statement: autocommit saves the BEGIN/COMMIT
                    # round trips and never leaves a transaction open.
                    conn.autocommit = True
                    return conn
                self.putconn(conn, close=True)
            raise PoolTimeout("could not get a live database connection")
        except BaseException:
            self._slots.release()
            raise

    def release(self, conn: extensions.connection) -> None:
        """Give a connection back; a broken or mid-transaction one is closed, not kept."""
        try:
            if self.closed:  # the app is shutting down: closeall() already ran
                conn.close()
                return
            healthy = (
                not conn.closed
                and conn.info.transaction_status == extensions.TRANSACTION_STATUS_IDLE
            )
            self.putconn(conn, close=not healthy)
        finally:
            self._slots.release()
