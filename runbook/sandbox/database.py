"""RDS instance -> a real local PostgreSQL with the instance's database, master user and password.

The embedded PostgreSQL (todo_app.embedded_pg, as the Todo API's tests use: pgserver's
binaries, in a folder of todo_app.server_home's) is built without TLS, so the instance's
endpoint is a small TLS front of ours on the instance's own loopback address and port: it
answers PostgreSQL's SSLRequest with the certificate the sandbox's CA made for the endpoint's
name, and relays to the server's Unix socket. Like RDS for PostgreSQL 15+ (rds.force_ssl=1),
it refuses connections without TLS. The server itself checks the password (SCRAM), so a
wrong secret fails as it would on RDS.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import shutil
import ssl
import struct
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg2
from psycopg2 import sql

from runbook.sandbox import template_cache
from runbook.sandbox.backoff import Backoff
from todo_app.embedded_pg import ADMIN, EmbeddedPostgres, initdb, shipped_bindir
from todo_app.server_home import ServerHome

SSL_REQUEST, GSSENC_REQUEST = 80877103, 80877104


class Template:
    """One initdb per machine (about 2 s; template_cache keeps it), copied for each instance
    (a fraction of that) straight from where it is kept: a sandbox that makes no database
    copies nothing."""

    def __init__(self, home: ServerHome, major: int) -> None:
        self.major = major
        self.home = home
        self.admin_password = secrets.token_urlsafe(24)
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._started = False
        self._lock = threading.Lock()
        self._processes: list[subprocess.Popen[bytes]] = []
        # The kept template (template_cache) instances are copied from; None: our own pgdata.
        self._kept: Path | None = None

    @property
    def pgdata(self) -> Path:
        return self.home.path / f"template-{self.major}"

    def prepare_in_background(self) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
        threading.Thread(target=self._prepare, name="postgres-initdb", daemon=True).start()

    def _prepare(self) -> None:
        try:
            bindir = shipped_bindir(self.major)
            kept = template_cache.find(self.major, bindir)
            if kept is not None:  # made by an earlier sandbox: copied from, not made again
                self._kept, self.admin_password = kept
            else:
                initdb(
                    self.home,
                    bindir,
                    self.pgdata,
                    admin_password=self.admin_password,
                    started=self._processes,
                )
                template_cache.keep(self.major, bindir, self.pgdata, self.admin_password)
        except BaseException as exc:  # reported to whoever waits for the template
            self._error = exc
        finally:
            self._ready.set()

    def _forget(self, error: BaseException) -> None:
        """After a failed initdb the next instance that needs the template makes it again
        (its cause may be gone by then), from nothing: what the failed try left goes."""
        with self._lock:
            if self._error is not error:
                return  # another instance's try already forgot it
            if self.home.made:  # else the failure was making it: nothing to clear
                shutil.rmtree(self.pgdata, ignore_errors=True)
            self._error, self._started = None, False
            self._ready.clear()

    def cancel(self) -> None:
        """End an initdb still running (the sandbox is stopping)."""
        for process in self._processes:
            with contextlib.suppress(ProcessLookupError):
                process.kill()

    def copy_to(self, pgdata: Path) -> None:
        self.prepare_in_background()
        self._ready.wait()
        error = self._error
        if error is not None:
            self._forget(error)
            raise RuntimeError(f"initdb failed: {reason_of(error)}") from error
        kept = self._kept
        try:
            shutil.copytree(kept or self.pgdata, pgdata, symlinks=True)
        except OSError:
            if kept is None:
                raise
            # The kept template went (its cache was cleared): make our own, as without one.
            shutil.rmtree(pgdata, ignore_errors=True)
            with self._lock:
                if self._kept is kept:
                    self._kept, self._started = None, False
                    self._ready.clear()
            self.copy_to(pgdata)
            return
        self.home.give(pgdata.parent)


@dataclass
class LocalDatabase:
    """One RDS instance's PostgreSQL: its server, its TLS endpoint, its data folder."""

    identifier: str
    hostname: str  # the instance's endpoint address (the certificate's name)
    address: str  # its loopback address
    port: int
    folder: Path
    db_name: str
    master_user: str
    master_password: str = field(repr=False)
    front: TlsFront | None = None
    server: EmbeddedPostgres | None = None
    admin_password: str = field(default="", repr=False)
    secret_arn: str = ""  # RDS's managed secret for the master password, if it keeps one
    rotated_at: float = 0.0  # when the password last changed (the data plane's clock)

    @property
    def pgdata(self) -> Path:
        return self.folder / "pgdata"

    @property
    def socket_dir(self) -> Path:
        return self.pgdata  # short enough for a socket: the home is a short temp folder

    def start(self, template: Template, cert: Path, key: Path, network: Network) -> None:
        """`folder` must lie in the template's home (where the server's user reaches it)."""
        template.copy_to(self.pgdata)
        # Unix socket only: the TLS front is the instance's one door.
        self.server = EmbeddedPostgres(
            self.pgdata,
            home=template.home,
            bindir=shipped_bindir(template.major),
            socket_port=self.port,
            settings=["fsync=off"],
        )
        self.server.start()
        self._create_master(template.admin_password)
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(cert, key)
        self.front = TlsFront(self.address, self.port, self.socket_path, tls)
        network.run(self.front.start())

    @property
    def socket_path(self) -> str:
        return str(self.socket_dir / f".s.PGSQL.{self.port}")

    def _create_master(self, admin_password: str) -> None:
        conn = psycopg2.connect(
            host=str(self.socket_dir),
            port=self.port,
            user=ADMIN,
            password=admin_password,
            dbname="postgres",
        )
        try:
            conn.autocommit = True  # CREATE DATABASE refuses a transaction
            with conn.cursor() as cur:
                # `postgres` is a valid RDS master user (the console's default): here it is
                # the server's own administrator, which then takes the master password.
                verb = "ALTER" if self.master_user == ADMIN else "CREATE"
                if verb == "CREATE":
                    # The template's password (kept on disk by template_cache) opens no
                    # server: each instance's administrator has its own, never written.
                    self.admin_password = secrets.token_urlsafe(24)
                    cur.execute(
                        sql.SQL("ALTER ROLE {} PASSWORD %s").format(sql.Identifier(ADMIN)),
                        (self.admin_password,),
                    )
                cur.execute(
                    sql.SQL(verb + " ROLE {} LOGIN CREATEDB CREATEROLE PASSWORD %s").format(
                        sql.Identifier(self.master_user)
                    ),
                    (self.master_password,),
                )
                if self.db_name and self.db_name != "postgres":
                    cur.execute(
                        sql.SQL("CREATE DATABASE {} OWNER {}").format(
                            sql.Identifier(self.db_name), sql.Identifier(self.master_user)
                        )
                    )
        finally:
            conn.close()

    def change_master_password(self, password: str) -> None:
        """As RDS does when it rotates the managed secret: the master user's new password.
        Sessions already open stay open (PostgreSQL checks a password only at login)."""
        # `postgres` as the master user is the server's administrator: it logs in with its own.
        admin = self.master_password if self.master_user == ADMIN else self.admin_password
        conn = psycopg2.connect(
            host=str(self.socket_dir), port=self.port, user=ADMIN, password=admin, dbname="postgres"
        )
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(
                    sql.SQL("ALTER ROLE {} PASSWORD %s").format(sql.Identifier(self.master_user)),
                    (password,),
                )
        finally:
            conn.close()
        self.master_password = password

    def server_pid(self) -> int | None:
        return self.server.pid() if self.server is not None else None

    def remove(self, network: Network | None) -> None:
        """Stop the server and its endpoint, and delete the data (as RDS deletes the instance)."""
        if self.front is not None and network is not None:
            with contextlib.suppress(Exception):
                network.run(self.front.stop())
        if self.server is not None:
            with contextlib.suppress(Exception):
                self.server.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


class Network:
    """An asyncio loop on its own thread, for the database endpoints' TLS."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="tls", daemon=True)
        self._thread.start()

    def run(self, coroutine: Any, timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)


def _error_response(message: str) -> bytes:
    fields = b"".join(
        code + value.encode() + b"\0"
        for code, value in ((b"S", "FATAL"), (b"V", "FATAL"), (b"C", "28000"), (b"M", message))
    )
    body = fields + b"\0"
    return b"E" + struct.pack("!I", len(body) + 4) + body


def _startup_params(body: bytes) -> dict[str, str]:
    parts = body[4:].split(b"\0")  # after the protocol version
    pairs = zip(parts[::2], parts[1::2], strict=False)
    return {k.decode(errors="replace"): v.decode(errors="replace") for k, v in pairs if k}


class TlsFront:
    """The instance's endpoint: PostgreSQL's SSLRequest handshake, then a relay to the server."""

    def __init__(self, address: str, port: int, socket_path: str, tls: ssl.SSLContext) -> None:
        self.address, self.port, self.socket_path, self.tls = address, port, socket_path, tls
        self._server: asyncio.AbstractServer | None = None
        self._connections: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.address, self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            await self._handshake_and_relay(reader, writer)
        except (OSError, asyncio.IncompleteReadError, ssl.SSLError, asyncio.CancelledError):
            pass
        finally:
            self._connections.discard(task)
            with contextlib.suppress(Exception):
                writer.close()

    async def _handshake_and_relay(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        length, code = struct.unpack("!II", await reader.readexactly(8))
        if length == 8 and code == GSSENC_REQUEST:  # no Kerberos here: try TLS next
            writer.write(b"N")
            await writer.drain()
            length, code = struct.unpack("!II", await reader.readexactly(8))
        if not (length == 8 and code == SSL_REQUEST):
            # RDS for PostgreSQL 15+ (rds.force_ssl=1) turns unencrypted logins away so.
            params = _startup_params(struct.pack("!I", code) + await reader.readexactly(length - 8))
            peer = writer.get_extra_info("peername") or ("?",)
            writer.write(
                _error_response(
                    f'no pg_hba.conf entry for host "{peer[0]}", user "{params.get("user", "")}", '
                    f'database "{params.get("database", "")}", no encryption'
                )
            )
            await writer.drain()
            return
        writer.write(b"S")
        await writer.drain()
        await writer.start_tls(self.tls)
        up_reader, up_writer = await asyncio.open_unix_connection(self.socket_path)
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            up_writer.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        with contextlib.suppress(Exception):
            writer.close()


class Databases:
    """RDS's data plane for one account and region: an instance's PostgreSQL comes and goes
    with it. A new instance is `creating` (moto_state's hook) until its server answers. One
    that cannot start is `failed`, says why once (an RDS event), gives back what its try
    took, and is tried again with backoff until it starts or is deleted."""

    name = "database"

    def __init__(self, world: Any) -> None:
        self.world = world
        self.local: dict[str, LocalDatabase] = {}
        self.failing: dict[str, Backoff] = {}
        self._starting: set[str] = set()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def reconcile(self) -> None:
        answer = self.world.client("rds").describe_db_instances()
        found = {db["DBInstanceIdentifier"]: db for db in answer["DBInstances"]}
        now = self.world.clock()
        for identifier, db in found.items():
            if db.get("Engine", "postgres") != "postgres":
                continue  # only PostgreSQL has a local stand-in
            with self._lock:
                failing = self.failing.get(identifier)
                start = (
                    identifier not in self.local
                    and identifier not in self._starting
                    and (failing is None or failing.due(now))
                )
                if start:
                    self._starting.add(identifier)
                    self._threads = [t for t in self._threads if t.is_alive()]
            if start:
                thread = threading.Thread(
                    target=self._create, args=(db,), name=f"rds {identifier}", daemon=True
                )
                self._threads.append(thread)
                thread.start()
        for identifier in found:
            with self._lock:
                local = self.local.get(identifier)
            if local is not None and local.secret_arn:
                self._follow_rotation(local, now)
        with self._lock:
            gone = [self.local.pop(i) for i in list(self.local) if i not in found]
            given_up = [i for i in self.failing if i not in found and i not in self._starting]
            for identifier in given_up:
                del self.failing[identifier]
        for identifier in given_up:
            self.world.log(f"database {identifier}: deleted; no more tries to start it")
        for local in gone:
            self.world.log(f"database {local.identifier}: deleted; server stopped, data removed")
            local.remove(self.world.network)
            self.world.block.give_back(local.address)

    def next_due(self) -> float | None:
        """A failed instance's next try (a server that is up says so itself: wake), or the
        next scheduled rotation of a managed password."""
        with self._lock:
            tries = [b.next_at for i, b in self.failing.items() if i not in self._starting]
            rotations = [
                d.rotated_at + every
                for d in self.local.values()
                if d.secret_arn and (every := self._rotation_every())
            ]
        return min(tries + rotations, default=None)

    def _rotation_every(self) -> float:
        """RDS's schedule for its managed secret, scaled (none when timings are instant)."""
        return self.world.timings.seconds("secret_rotation")

    def _follow_rotation(self, local: LocalDatabase, now: float) -> None:
        """RDS rotates its managed secret on a schedule (every 7 days); whoever rotates it
        (RotateSecret, ModifyDBInstance's RotateMasterUserPassword, the schedule), the
        instance's master user takes the secret's new password."""
        secrets_manager = self.world.client("secretsmanager")
        every = self._rotation_every()
        if every and now >= local.rotated_at + every:
            secrets_manager.rotate_secret(SecretId=local.secret_arn)
            self.world.log(f"database {local.identifier}: scheduled rotation of its secret")
        try:
            value = secrets_manager.get_secret_value(SecretId=local.secret_arn)
            current = str(json.loads(value["SecretString"])["password"])
        except Exception as exc:  # deleted with the instance, or damaged by hand: keep it
            self.world.log(f"database {local.identifier}: cannot read its secret: {exc}")
            local.rotated_at = now
            return
        if current == local.master_password:
            if every and now >= local.rotated_at + every:
                local.rotated_at = now
            return
        local.change_master_password(current)
        local.rotated_at = now
        self.world.log(f"database {local.identifier}: master password rotated (managed secret)")
        self.world.db_event(
            local.identifier,
            "The master user password was rotated (the managed secret).",
            "notification",
        )

    def _create(self, db: dict[str, Any]) -> None:
        identifier = db["DBInstanceIdentifier"]
        try:
            self._try_to_start(db)
        finally:  # only now may a reconcile look at it again: no second server meanwhile
            with self._lock:
                self._starting.discard(identifier)
            self.world.wake(self.name)

    def _try_to_start(self, db: dict[str, Any]) -> None:
        identifier = db["DBInstanceIdentifier"]
        ready_at = time.monotonic() + self.world.timings.seconds("db_creating")
        local, address = None, None
        try:
            password = self._master_password(db)
            endpoint = db.get("Endpoint") or {}
            hostname = endpoint.get("Address") or f"{identifier}.sandbox.rds.amazonaws.com"
            address = self.world.block.take()
            cert, key = self.world.ca.issue(hostname, address, f"db-{identifier}")
            major = int(str(db.get("EngineVersion") or "16").split(".")[0] or 16)
            template = self.world.template(major)
            # In the server's own folder, named for the account and region as the world is.
            folder = template.home.path / f"{self.world.folder.name}-db-{identifier}"
            local = LocalDatabase(
                identifier,
                hostname,
                address,
                int(endpoint.get("Port") or 5432),
                folder,
                db.get("DBName") or "",
                db["MasterUsername"],
                password,
            )
            local.secret_arn = (db.get("MasterUserSecret") or {}).get("SecretArn") or ""
            started = time.monotonic()
            local.start(template, cert, key, self.world.network)
            local.rotated_at = self.world.clock()
        except Exception as exc:  # reported as RDS reports a failed instance, then retried
            self._failed(identifier, local, address, exc)
            return
        with self._lock:
            earlier = self.failing.pop(identifier, None)
        self.world.log(
            f"database {identifier}: PostgreSQL {major} up in "
            f"{time.monotonic() - started:.1f} s at {address}:{local.port} "
            f"(TLS, certificate for {hostname})"
            + (f", after {earlier.tries} failed tries" if earlier else "")
        )
        if earlier is None:  # a first start takes as long as RDS's creation would
            self.world.stopped.wait(max(0.0, ready_at - time.monotonic()))
        with self._lock:
            self.local[identifier] = local
        if self.world.stopped.is_set():  # the sandbox stopped meanwhile: close() takes it
            return
        self.world.set_db_status(identifier, "available")

    def _master_password(self, db: dict[str, Any]) -> str:
        """The password RDS keeps in its managed secret, or the one the person chose."""
        secret = (db.get("MasterUserSecret") or {}).get("SecretArn")
        if secret:
            value = self.world.client("secretsmanager").get_secret_value(SecretId=secret)
            return str(json.loads(value["SecretString"])["password"])
        return self.world.master_password(db["DBInstanceIdentifier"]) or ""

    def _failed(
        self,
        identifier: str,
        local: LocalDatabase | None,
        address: str | None,
        exc: BaseException,
    ) -> None:
        """Give back what the try took, say why (once per reason), and plan the next try."""
        if local is not None:
            local.remove(self.world.network)  # its server, its endpoint, its data
        if address is not None:
            self.world.block.give_back(address)
        if self.world.stopped.is_set():
            return  # the sandbox is stopping: its initdb or server was ended on purpose
        reason = reason_of(exc)
        with self._lock:
            backoff = self.failing.setdefault(identifier, Backoff())
            new = backoff.failed(reason, self.world.clock())
            tries, delay = backoff.tries, backoff.delay()
        at = f" at {address}" if address else ""
        self.world.log(
            f"database {identifier}: failed to start{at} (try {tries}): {reason}; "
            f"next try in {delay:.0f} s"
        )
        if new:
            self.world.set_db_status(identifier, "failed")
            self.world.db_event(
                identifier,
                f"The DB instance has failed: its PostgreSQL did not start ({reason}). "
                "The sandbox tries again by itself, at least once a minute: "
                "remove the cause and the instance becomes available.",
                "failure",
            )

    def address_for(self, hostname: str) -> str | None:
        with self._lock:
            return next((d.address for d in self.local.values() if d.hostname == hostname), None)

    def pids(self) -> list[int]:
        with self._lock:
            return [pid for d in self.local.values() if (pid := d.server_pid())]

    def close(self) -> None:
        for thread in self._threads:  # a server still starting is stopped with the rest
            thread.join(60)
        with self._lock:
            local, self.local = list(self.local.values()), {}
        for db in local:
            db.remove(self.world.network)


def reason_of(exc: BaseException) -> str:
    """One line a person can act on: a failed command's own last words, not its exit status."""
    if isinstance(exc, subprocess.CalledProcessError):
        output = exc.output or b""
        lines = (output.decode(errors="replace") if isinstance(output, bytes) else output).split(
            "\n"
        )
        said = [line for line in lines if line.strip()]
        name = exc.cmd if isinstance(exc.cmd, str) else Path(str(exc.cmd[0])).name
        text = f"{name} exited with status {exc.returncode}" + (f": {said[-1]}" if said else "")
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())[:300]
