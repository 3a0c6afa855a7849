"""verify-full: the app checks the database's certificate against DB_SSLROOTCERT and DB_HOST.

A real PostgreSQL with TLS on, its certificate signed by a CA made here for an RDS-like
name (the CA plays the RDS global bundle's part). pgserver's PostgreSQL has no TLS, so
this server runs the machine's own PostgreSQL build (see embedded_pg.openssl_bindir).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from health_wait import wait_for_health
from rds_stand_in import Login, Secret

from todo_app.db import get_pool
from todo_app.embedded_pg import EmbeddedPostgres
from todo_app.local_ca import LocalCA

# The name RDS gives an instance's endpoint, which its certificate carries.
DB_NAME_ON_CERTIFICATE = "flask-todo-db.c0ffee123456.us-east-1.rds.amazonaws.com"


@dataclass(frozen=True)
class TlsServer:
    server: EmbeddedPostgres
    ca_bundle: Path  # the CA that signed the server's certificate
    other_ca_bundle: Path  # a CA that did not


@pytest.fixture(scope="module")
def tls_server() -> Iterator[TlsServer]:
    folder = Path(tempfile.mkdtemp(prefix="todo-test-tls-"))
    authority = LocalCA.create("Test RDS Root CA")
    ca_bundle, other_ca_bundle = folder / "ca-bundle.pem", folder / "other-ca.pem"
    ca_bundle.write_bytes(authority.pem())
    other_ca_bundle.write_bytes(LocalCA.create("Some Other CA").pem())
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    certificate = authority.issue([DB_NAME_ON_CERTIFICATE, "localhost"])
    server = EmbeddedPostgres(tcp_port=port, certificate=certificate)
    server.start()
    try:
        yield TlsServer(server, ca_bundle, other_ca_bundle)
    finally:
        server.remove()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def tls_login(tls_server: TlsServer) -> Iterator[Login]:
    created = Login.create(tls_server.server)
    yield created
    created.drop()


def verify_full(login: Login, host: str, ca_bundle: Path) -> dict[str, str]:
    return {
        **login.env(),
        "DB_HOST": host,
        "DB_PWD": login.password,
        "DB_SSLMODE": "verify-full",
        "DB_SSLROOTCERT": str(ca_bundle),
    }


def test_verify_full_with_the_right_ca_and_name_connects_over_tls(
    tls_server: TlsServer, tls_login: Login, env_app: Callable[[dict[str, str]], Flask]
) -> None:
    app = env_app(verify_full(tls_login, "localhost", tls_server.ca_bundle))
    client = app.test_client()
    health = client.get("/healthz")
    assert health.status_code == 200, health.get_json()
    assert client.post("/todos", json={"title": "over TLS"}).status_code == 201
    pool = get_pool(app)
    conn = pool.acquire()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            assert cur.fetchone() == (True,)
    finally:
        pool.release(conn)


@pytest.mark.parametrize(
    ("case", "host", "bundle"),
    [
        ("another CA signed it", "localhost", "other"),
        ("a name the certificate does not carry", "127.0.0.1", "right"),
        ("the CA bundle is missing", "localhost", "missing"),
    ],
)
def test_an_unverifiable_certificate_answers_503_saying_so(
    case: str,
    host: str,
    bundle: str,
    tls_server: TlsServer,
    tls_login: Login,
    env_app: Callable[[dict[str, str]], Flask],
    health_reason: Callable[[], str],
) -> None:
    bundles = {
        "right": tls_server.ca_bundle,
        "other": tls_server.other_ca_bundle,
        "missing": tls_server.ca_bundle.with_name("absent.pem"),
    }
    client = env_app(verify_full(tls_login, host, bundles[bundle])).test_client()
    health = client.get("/healthz")
    assert health.status_code == 503, case
    error = health_reason()
    assert error.startswith("database unavailable: its certificate could not be verified"), error
    assert "check DB_SSLROOTCERT" in error
    assert client.get("/todos").status_code == 503


def test_the_task_definitions_environment_connects_through_pghostaddr(
    tls_server: TlsServer,
    tls_login: Login,
    secrets_manager: Any,
    aws_env: dict[str, str],
    app_root: Path,
    free_port: int,
    spawn: Callable[..., subprocess.Popen[str]],
) -> None:
    # Exactly the variables the task definition sets (DB_HOST is the RDS endpoint's name,
    # which resolves nowhere here), plus the sandbox's PGHOSTADDR (where to connect while
    # verifying the certificate for DB_HOST) and HOST (where to listen). No DB_PWD: the
    # password comes from the secret, through the task role (here: the emulator's keys).
    secret = Secret.create(secrets_manager, tls_login.user, tls_login.password)
    keep = ("PATH", "HOME", "LANG", "TMPDIR")
    env = {key: value for key, value in os.environ.items() if key in keep}
    env.update(
        aws_env,
        DB_HOST=DB_NAME_ON_CERTIFICATE,
        DB_PORT=str(tls_login.port),
        DB_NAME=tls_login.dbname,
        DB_USER_NAME=tls_login.user,
        DB_SECRET_ARN=secret.arn,
        DB_SSLMODE="verify-full",
        DB_SSLROOTCERT=str(tls_server.ca_bundle),
        FLASK_APP="todo_app",
        FLASK_ENV="production",
        PYTHONPATH=str(app_root / "src"),
        PORT=str(free_port),
        PGHOSTADDR="127.0.0.1",
        HOST="127.0.0.1",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    try:
        server = spawn([str(app_root / "bin" / "flask-run.sh")], env=env, cwd=app_root)
        assert wait_for_health(free_port, server)["status"] == "ok"
        request = urllib.request.Request(
            f"http://127.0.0.1:{free_port}/todos",
            data=json.dumps({"title": "verified"}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=5) as answer:
            assert answer.status == 201
        server.send_signal(signal.SIGTERM)
        stdout, stderr = server.communicate(timeout=25)
        assert server.returncode == 0, stderr
        assert "migrate: read the database password from Secrets Manager" in stderr
        assert tls_login.password not in stdout + stderr
    finally:
        secret.delete()
