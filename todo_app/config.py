"""Settings of the Todo API read from the environment (the ECS task definition or a shell)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from todo_app.secret import region_of

ENVIRONMENTS = ("production", "development")


def _secret_fields(value: str | None) -> dict[str, str]:
    """username/password from a whole Secrets Manager secret, if DB_PWD holds one.

    A task definition that names the secret's ARN without the `:password::` key suffix
    injects the secret's JSON (`{"username": ..., "password": ...}`); take the password
    out of it rather than log in with the JSON as the password.
    """
    if not value or not value.lstrip().startswith("{"):
        return {}
    try:
        secret = json.loads(value)
    except ValueError:
        return {}
    if not isinstance(secret, dict) or not isinstance(secret.get("password"), str):
        return {}
    fields = ("username", "password")
    return {key: secret[key] for key in fields if isinstance(secret.get(key), str)}


def database_from_env(environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """psycopg2.connect keyword arguments for the configured database.

    DATABASE_URL (any libpq connection string) wins over the DB_* variables. Values are
    passed as keyword arguments, never pasted into a DSN, so a password holding spaces,
    quotes, `@`, `/` or `=` reaches the server unchanged. DB_SSLMODE=verify-full with
    DB_SSLROOTCERT (the RDS CA bundle) makes libpq check the database's certificate and
    that it names DB_HOST.
    """
    tls = {
        "sslmode": environ.get("DB_SSLMODE") or None,
        "sslrootcert": environ.get("DB_SSLROOTCERT") or None,
    }
    url = environ.get("DATABASE_URL", "").strip()
    if url:
        kwargs: dict[str, Any] = {"dsn": url, **tls}
    else:
        secret = _secret_fields(environ.get("DB_PWD"))
        kwargs = {
            "host": environ.get("DB_HOST") or None,
            "port": environ.get("DB_PORT") or None,
            "dbname": environ.get("DB_NAME") or None,
            "user": environ.get("DB_USER_NAME") or secret.get("username") or None,
            "password": secret.get("password") or environ.get("DB_PWD") or None,
            **tls,
        }
    # Unset values are left out so libpq's own defaults and its PG* variables still apply
    # (PGSSLMODE, or PGHOSTADDR: connect to that address, verify the certificate for DB_HOST).
    return {key: value for key, value in kwargs.items() if value is not None}


def secret_arn_from_env(environ: Mapping[str, str] = os.environ) -> str | None:
    """DB_SECRET_ARN, the secret to read the password from (again after a rotation)."""
    arn = environ.get("DB_SECRET_ARN", "").strip()
    if not arn:
        return None
    region_of(arn)  # a malformed ARN stops the app at start, saying why
    return arn


def database_is_configured(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the environment names a database server (else the local runner embeds one)."""
    return bool(environ.get("DATABASE_URL", "").strip() or environ.get("DB_HOST", "").strip())


def environment_from_env(environ: Mapping[str, str] = os.environ) -> str:
    """FLASK_ENV as `production` (the default) or `development`; anything else is a mistake."""
    value = environ.get("FLASK_ENV", "").strip().lower() or "production"
    if value not in ENVIRONMENTS:
        raise ValueError(f"FLASK_ENV must be one of {', '.join(ENVIRONMENTS)}, not {value!r}")
    return value


def pool_size_from_env(environ: Mapping[str, str] = os.environ) -> int:
    """Connections per process: one per gunicorn thread (gunicorn_conf exports DB_POOL_MAX)."""
    return max(1, int(environ.get("DB_POOL_MAX", "4")))
