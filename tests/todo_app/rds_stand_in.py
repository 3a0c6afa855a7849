"""What RDS hands the app, stood in for locally: a login with a password, and its secret.

A Login is a role with a password and a migrated database it owns, on an embedded server
reached over TCP (passwords checked, as on RDS). A Secret is the Secrets Manager secret
holding that role's `{"username", "password"}`, in the local emulator (moto), with the
staging labels RDS's rotation moves.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg2
from psycopg2 import sql
from psycopg2.extensions import connection

from todo_app.embedded_pg import EmbeddedPostgres
from todo_app.migrations import upgrade


def new_password() -> str:
    # RDS's rules (8 to 128 printable ASCII, none of / " @ or space), with characters
    # that a DSN would trip over.
    return f"pw#{secrets.token_urlsafe(12)}'\\;="


@contextmanager
def admin(server: EmbeddedPostgres, dbname: str = "postgres") -> Iterator[connection]:
    """The server's superuser over its Unix socket (no password, as the owner)."""
    conn = psycopg2.connect(server.dsn(dbname))
    conn.autocommit = True
    try:
        yield conn
    finally:
        conn.close()


@dataclass
class Login:
    """A role with a password and a migrated database it owns, on a TCP server."""

    server: EmbeddedPostgres
    user: str
    password: str
    dbname: str
    host: str = "127.0.0.1"

    @classmethod
    def create(cls, server: EmbeddedPostgres, **tls: str) -> Login:
        """A new role and database; `tls` (sslmode, sslrootcert, host) for migrating."""
        name = f"todo_{uuid.uuid4().hex[:12]}"
        login = cls(server, user=name, password=new_password(), dbname=name)
        with admin(server) as conn, conn.cursor() as cur:
            cur.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD %s").format(sql.Identifier(name)),
                (login.password,),
            )
            cur.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(name), sql.Identifier(name)
                )
            )
        conn = psycopg2.connect(**login.connect_kwargs(), **tls)
        try:
            upgrade(conn)
        finally:
            conn.close()
        return login

    @property
    def port(self) -> int:
        assert self.server.tcp_port is not None
        return self.server.tcp_port

    def connect_kwargs(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "port": self.port,
            "dbname": self.dbname,
            "user": self.user,
            "password": self.password,
        }

    def env(self) -> dict[str, str]:
        """The task definition's DB_* variables for this login (no password)."""
        return {
            "DB_HOST": self.host,
            "DB_PORT": str(self.port),
            "DB_NAME": self.dbname,
            "DB_USER_NAME": self.user,
        }

    def change_password(self, password: str) -> None:
        """What RDS's rotation does in the database (its setSecret step)."""
        with admin(self.server) as conn, conn.cursor() as cur:
            cur.execute(
                sql.SQL("ALTER ROLE {} PASSWORD %s").format(sql.Identifier(self.user)),
                (password,),
            )
        self.password = password

    def end_sessions(self) -> int:
        """Close every session of this role (PostgreSQL keeps them across a password
        change); how many there were."""
        with admin(self.server) as conn, conn.cursor() as cur:
            cur.execute(
                "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity"
                " WHERE usename = %s",
                (self.user,),
            )
            row = cur.fetchone()
        return row[0] if row else 0

    def drop(self) -> None:
        with admin(self.server) as conn, conn.cursor() as cur:
            cur.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(self.dbname)
                )
            )
            cur.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(self.user)))


@dataclass
class Secret:
    """The login's secret in the emulator, moved through rotation's staging labels."""

    client: Any
    arn: str
    username: str

    @classmethod
    def create(cls, client: Any, username: str, password: str) -> Secret:
        name = f"rds!db-{uuid.uuid4().hex[:12]}"
        arn = client.create_secret(Name=name, SecretString=cls._text(username, password))["ARN"]
        return cls(client, arn, username)

    @staticmethod
    def _text(username: str, password: str) -> str:
        return json.dumps({"username": username, "password": password})

    def put(self, password: str) -> None:
        """A new AWSCURRENT version (put_secret_value without stages)."""
        self.client.put_secret_value(
            SecretId=self.arn, SecretString=self._text(self.username, password)
        )

    def put_pending(self, password: str) -> str:
        """A new version labelled AWSPENDING only (rotation's createSecret step); its id."""
        answer = self.client.put_secret_value(
            SecretId=self.arn,
            SecretString=self._text(self.username, password),
            VersionStages=["AWSPENDING"],
        )
        return str(answer["VersionId"])

    def finish_rotation(self, version_id: str) -> None:
        """Move AWSCURRENT to the pending version (rotation's finishSecret step)."""
        stages = self.client.describe_secret(SecretId=self.arn)["VersionIdsToStages"]
        current = next(v for v, labels in stages.items() if "AWSCURRENT" in labels)
        self.client.update_secret_version_stage(
            SecretId=self.arn,
            VersionStage="AWSCURRENT",
            MoveToVersionId=version_id,
            RemoveFromVersionId=current,
        )

    def delete(self) -> None:
        self.client.delete_secret(SecretId=self.arn, ForceDeleteWithoutRecovery=True)
