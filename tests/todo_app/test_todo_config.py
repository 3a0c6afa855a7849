"""Configuration from the environment, including a password full of special characters."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from flask import Flask
from psycopg2 import sql
from psycopg2.extensions import parse_dsn

from todo_app import create_app
from todo_app.config import (
    database_from_env,
    database_is_configured,
    environment_from_env,
    secret_arn_from_env,
)
from todo_app.db import close_pool

# Everything a DSN string would choke on: spaces, quotes, backslash, @, /, =, ?, #, %.
NASTY_PASSWORD = "p@ss w/\"o'rd\\:;=?#%&{}"


def test_db_variables_become_keyword_arguments() -> None:
    environ = {
        "DB_HOST": "flask-todo-db.abc.us-east-1.rds.amazonaws.com",
        "DB_NAME": "todo",
        "DB_USER_NAME": "todo_admin",
        "DB_PWD": NASTY_PASSWORD,
    }
    assert database_from_env(environ) == {
        "host": "flask-todo-db.abc.us-east-1.rds.amazonaws.com",
        "dbname": "todo",
        "user": "todo_admin",
        "password": NASTY_PASSWORD,
    }
    assert database_is_configured(environ)


def test_a_whole_secrets_manager_secret_in_db_pwd_yields_its_password() -> None:
    secret = json.dumps({"username": "todo_admin", "password": NASTY_PASSWORD, "engine": "x"})
    kwargs = database_from_env({"DB_HOST": "db", "DB_PWD": secret})
    assert kwargs["password"] == NASTY_PASSWORD
    assert kwargs["user"] == "todo_admin"
    named = database_from_env({"DB_HOST": "db", "DB_PWD": secret, "DB_USER_NAME": "other"})
    assert named["user"] == "other"
    # A plain password that merely starts with a brace is left alone.
    assert database_from_env({"DB_PWD": "{not json"})["password"] == "{not json"


def test_port_and_sslmode_are_optional_settings() -> None:
    environ = {"DB_HOST": "db", "DB_PORT": "6543", "DB_SSLMODE": "require"}
    kwargs = database_from_env(environ)
    assert kwargs["port"] == "6543" and kwargs["sslmode"] == "require"


def test_verify_full_takes_the_ca_bundle_from_db_sslrootcert() -> None:
    environ = {
        "DB_HOST": "flask-todo-db.abc.us-east-1.rds.amazonaws.com",
        "DB_SSLMODE": "verify-full",
        "DB_SSLROOTCERT": "/app/certs/rds-global-bundle.pem",
    }
    kwargs = database_from_env(environ)
    assert kwargs["sslmode"] == "verify-full"
    assert kwargs["sslrootcert"] == "/app/certs/rds-global-bundle.pem"


def test_libpq_environment_variables_are_not_overridden() -> None:
    # The sandbox sets PGHOSTADDR (connect there, verify the certificate for DB_HOST), and a
    # shell may set PGSSLMODE: passing hostaddr or a default sslmode would defeat them.
    kwargs = database_from_env({"DB_HOST": "db", "DB_NAME": "todo"})
    assert kwargs == {"host": "db", "dbname": "todo"}


def test_database_url_overrides_the_db_variables() -> None:
    environ = {"DATABASE_URL": "postgresql://u:p@h:5433/d", "DB_HOST": "ignored"}
    assert database_from_env(environ) == {"dsn": "postgresql://u:p@h:5433/d"}
    assert database_from_env({**environ, "DB_SSLMODE": "disable"})["sslmode"] == "disable"


def test_nothing_configured_means_no_database_named() -> None:
    assert not database_is_configured({})
    assert database_from_env({}) == {}


def test_db_secret_arn_is_a_secrets_manager_arn() -> None:
    arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-1a2b3c-AbCdEf"
    assert secret_arn_from_env({"DB_SECRET_ARN": arn}) == arn
    assert secret_arn_from_env({}) is None
    for wrong in ("my-secret", "arn:aws:ssm:eu-west-1:123456789012:parameter/x"):
        with pytest.raises(ValueError, match="DB_SECRET_ARN must be a Secrets Manager"):
            secret_arn_from_env({"DB_SECRET_ARN": wrong})


def test_a_malformed_db_secret_arn_stops_the_app_from_starting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DB_SECRET_ARN", "flask-todo-db-secret")
    with pytest.raises(ValueError, match="DB_SECRET_ARN must be"):
        create_app()


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, "production"), ("production", "production"), ("Development", "development")],
)
def test_flask_env_is_production_or_development(value: str | None, expected: str) -> None:
    environ = {} if value is None else {"FLASK_ENV": value}
    assert environment_from_env(environ) == expected


def test_an_unknown_flask_env_stops_the_app_from_starting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLASK_ENV", "staging")
    with pytest.raises(ValueError, match="FLASK_ENV must be one of production, development"):
        create_app()


def _admin(dsn: str) -> psycopg2.extensions.connection:
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    return conn


def _reload(server_dsn: str) -> None:
    """The server reads pg_hba.conf again."""
    conn = _admin(server_dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_reload_conf()")
    finally:
        conn.close()


def _require_passwords(pgdata: Path, role: str, server_dsn: str) -> None:
    """Make the embedded server (trust auth by default) check this role's password."""
    hba = pgdata / "pg_hba.conf"
    rules = f"local all {role} scram-sha-256\nhost all {role} 127.0.0.1/32 scram-sha-256\n"
    hba.write_text(rules + hba.read_text())
    _reload(server_dsn)


def _forget_role_rules(pgdata: Path, role: str, server_dsn: str) -> None:
    hba = pgdata / "pg_hba.conf"
    lines = hba.read_text().splitlines(keepends=True)
    hba.write_text("".join(line for line in lines if f" {role} " not in line))
    _reload(server_dsn)


@pytest.fixture
def password_role(pg_server: Any, database: str) -> Iterator[dict[str, str]]:
    """A login role with NASTY_PASSWORD on the test database; its password is checked."""
    role = f"todo_pw_{uuid.uuid4().hex[:10]}"
    conn = _admin(database)
    try:
        with conn.cursor() as cur:
            cur.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD %s").format(sql.Identifier(role)),
                (NASTY_PASSWORD,),
            )
            for grant in (
                "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}",
                "GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {}",
            ):
                cur.execute(sql.SQL(grant).format(sql.Identifier(role)))
    finally:
        conn.close()
    if pg_server.pgdata is not None:
        _require_passwords(pg_server.pgdata, role, pg_server.dsn)
    params = parse_dsn(database)
    env = {
        "DB_HOST": params.get("host", "localhost"),
        "DB_NAME": params["dbname"],
        "DB_USER_NAME": role,
        "DB_PWD": NASTY_PASSWORD,
    }
    if "port" in params:
        env["DB_PORT"] = params["port"]
    yield env
    if pg_server.pgdata is not None:
        _forget_role_rules(pg_server.pgdata, role, pg_server.dsn)
    conn = _admin(database)
    try:
        with conn.cursor() as cur:
            cur.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            cur.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
    finally:
        conn.close()


def _app_from_env(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> Flask:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return create_app({"TESTING": True})


def test_a_password_with_special_characters_works_end_to_end(
    pg_server: Any,
    password_role: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    health_reason: Callable[[], str],
) -> None:
    # The reload is asynchronous: wait until the server really checks passwords.
    wrong = {**password_role, "DB_PWD": NASTY_PASSWORD + "x"}
    deadline = time.monotonic() + 5
    while True:
        refused_app = _app_from_env(monkeypatch, wrong)
        refused = refused_app.test_client().get("/healthz")
        close_pool(refused_app)
        if refused.status_code == 503 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    if refused.status_code != 503 and pg_server.pgdata is None:
        pytest.skip("TEST_DATABASE_URL's server does not check passwords (trust auth)")
    assert refused.status_code == 503, "the server never started checking passwords"
    assert "password authentication failed" in health_reason()

    app = _app_from_env(monkeypatch, password_role)
    try:
        client = app.test_client()
        assert client.get("/healthz").status_code == 200  # the probe's own connection
        assert client.post("/todos", json={"title": "x"}).status_code == 201  # the pool's
    finally:
        close_pool(app)
