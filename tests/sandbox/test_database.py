"""An RDS instance's local PostgreSQL: TLS as on RDS (verify-full against the endpoint's name),
the master user and password, no unencrypted logins, and nothing left after removal."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from runbook.sandbox import template_cache
from runbook.sandbox.addresses import LoopbackBlock
from runbook.sandbox.background import gone
from runbook.sandbox.certificates import CertificateFiles
from runbook.sandbox.database import LocalDatabase, Network, Template
from todo_app.embedded_pg import shipped_bindir
from todo_app.server_home import ServerHome

HOST = "flask-todo-db.abcdefghij.us-east-1.rds.amazonaws.com"


@pytest.fixture(scope="module")
def running() -> Iterator[tuple[LocalDatabase, CertificateFiles]]:
    folder = Path(tempfile.mkdtemp(prefix="runbook-sandbox-test-"))
    home = ServerHome()
    block, network = LoopbackBlock(), Network()
    ca = CertificateFiles(folder / "ca")
    address = block.take()
    cert, key = ca.issue(HOST, address, "db")
    db = LocalDatabase(
        HOST.split(".")[0],
        HOST,
        address,
        5432,
        home.path / "db",
        "todo",
        "todo_user",
        "pw:with @ and /",
    )
    db.start(Template(home, 16), cert, key, network)
    yield db, ca
    db.remove(network)
    network.close()
    block.close()
    home.remove()
    os.system(f"rm -rf {folder}")


def connect(
    db: LocalDatabase, ca: CertificateFiles, **options: str
) -> psycopg2.extensions.connection:
    params = {
        "host": HOST,
        "hostaddr": db.address,
        "port": str(db.port),
        "dbname": "todo",
        "user": "todo_user",
        "password": "pw:with @ and /",
        "sslmode": "verify-full",
        "sslrootcert": str(ca.bundle),
    }
    params.update(options)
    return psycopg2.connect(**params)


def test_verify_full_against_the_endpoints_name_as_on_rds(running) -> None:
    db, ca = running
    conn = connect(db, ca)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT current_user, current_database()")
            assert cur.fetchone() == ("todo_user", "todo")
        assert conn.info.ssl_in_use
    finally:
        conn.close()


def test_another_name_fails_verification(running) -> None:
    db, ca = running
    with pytest.raises(psycopg2.OperationalError, match=r"does not match|certificate"):
        connect(db, ca, host="other.example.com")


def test_no_encryption_is_refused_as_rds_force_ssl_does(running) -> None:
    db, ca = running
    with pytest.raises(psycopg2.OperationalError, match="no encryption"):
        connect(db, ca, sslmode="disable")


def test_the_password_is_checked(running) -> None:
    db, ca = running
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        connect(db, ca, password="wrong", sslmode="require")


def test_the_kept_templates_password_opens_no_server(running) -> None:
    """initdb's cluster is kept on disk with its administrator's password (template_cache);
    each instance's administrator takes a password of its own as it starts."""
    db, ca = running
    kept = template_cache.find(16, shipped_bindir(16))
    assert kept is not None, "the first template made is kept"
    admin = {"user": "postgres", "dbname": "postgres", "sslmode": "require"}
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        connect(db, ca, password=kept[1], **admin)
    connect(db, ca, password=db.admin_password, **admin).close()


def test_removal_stops_the_server_and_deletes_the_data(tmp_path_factory) -> None:
    folder = Path(tempfile.mkdtemp(prefix="runbook-sandbox-test-"))
    home = ServerHome()
    block, network = LoopbackBlock(), Network()
    try:
        ca = CertificateFiles(folder / "ca")
        address = block.take()
        cert, key = ca.issue(HOST, address, "db")
        db = LocalDatabase("x", HOST, address, 5432, home.path / "db", "", "u", "p")
        db.start(Template(home, 16), cert, key, network)
        pid = db.server_pid()
        assert pid
        db.remove(network)
        assert not (home.path / "db").exists()
        assert gone(pid)
    finally:
        network.close()
        block.close()
        home.remove()
        os.system(f"rm -rf {folder}")


def test_a_kept_template_others_may_write_is_not_used(tmp_path, monkeypatch) -> None:
    """A template folder another user could write (a shared RUNBOOK_PG_TEMPLATE_CACHE) could
    carry their server settings into our PostgreSQL: it is passed over, initdb runs instead."""
    cache, pgdata, bindir = tmp_path / "cache", tmp_path / "pgdata", tmp_path / "bin"
    pgdata.mkdir()
    (pgdata / "PG_VERSION").write_text("16\n")
    monkeypatch.setenv(template_cache.CACHE_ENV, str(cache))
    template_cache.keep(16, bindir, pgdata, "kept-password")
    found = template_cache.find(16, bindir)
    assert found is not None and (found[0] / "PG_VERSION").exists()
    cache.chmod(0o777)
    assert template_cache.find(16, bindir) is None
    cache.chmod(0o700)
    kept = found[0].parent
    kept.chmod(0o775)
    assert template_cache.find(16, bindir) is None


def test_instances_copy_the_kept_template_and_make_one_when_it_went(tmp_path, monkeypatch) -> None:
    """A sandbox copies its instances straight from the kept template (none into its own
    folder first); when the kept one is gone (its cache cleared), it makes its own."""
    cache, kept = tmp_path / "cache", tmp_path / "kept"
    monkeypatch.setenv(template_cache.CACHE_ENV, str(cache))
    kept.mkdir()
    (kept / "PG_VERSION").write_text("16\n")
    (kept / "kept-here").write_text("")  # what tells the kept one from a fresh initdb
    template_cache.keep(16, shipped_bindir(16), kept, "kept-password")
    home = ServerHome()
    try:
        template = Template(home, 16)
        template.copy_to(home.path / "one" / "pgdata")
        assert (home.path / "one" / "pgdata" / "kept-here").exists()
        assert not template.pgdata.exists()  # copied from the kept one, not from a copy

        shutil.rmtree(cache)
        template.copy_to(home.path / "two" / "pgdata")
        assert (home.path / "two" / "pgdata" / "PG_VERSION").read_text().strip() == "16"
        assert not (home.path / "two" / "pgdata" / "kept-here").exists()
        assert (template.pgdata / "PG_VERSION").exists()  # its own, made by initdb
    finally:
        home.remove()
