"""The entry-point wrapper that gives a stock app DATABASE_URL: run as the task definition
runs it (`python -c SOURCE -- CMD`), it execs the command with a URL that holds no password,
libpq's variables, and a password file libpq can read; DB_PWD is gone."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from runbook.settings import Settings
from runbook.steps.task_definition import container_definition
from runbook.task_wrapper import database_env, database_url
from runbook.validation import validate

PASSWORD = r"p:a\ss#?%&w0rd!"


def test_the_app_gets_a_url_without_the_password_and_a_file_libpq_reads(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "DB_HOST": "db.example.rds.amazonaws.com",
        "DB_PORT": "5432",
        "DB_NAME": "flask_todo",
        "DB_USER_NAME": "flask_todo",
        "DB_PWD": PASSWORD,
        "DB_SSLMODE": "verify-full",
        "DB_SSLROOTCERT": "/app/certs/rds-global-bundle.pem",
        database_url.URL_ENV: "DATABASE_URL",
        database_url.PARTS_ENV: json.dumps({"host": "POSTGRES_HOST", "user": "POSTGRES_USER"}),
    }
    show = "import json, os; print(json.dumps(dict(os.environ)))"
    # As the task definition has it: python -c SOURCE -- the app's own command line.
    argv = [sys.executable, *database_url.ENTRY_POINT[1:], sys.executable, "-c", show]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30, check=True)
    seen = json.loads(done.stdout)
    assert seen["DATABASE_URL"] == (
        "postgresql://flask_todo@db.example.rds.amazonaws.com:5432/flask_todo"
        "?sslmode=verify-full&sslrootcert=%2Fapp%2Fcerts%2Frds-global-bundle.pem"
    )
    assert "DB_PWD" not in seen and PASSWORD not in done.stdout
    assert (seen["PGHOST"], seen["PGUSER"], seen["PGDATABASE"]) == (
        "db.example.rds.amazonaws.com",
        "flask_todo",
        "flask_todo",
    )
    assert (seen["POSTGRES_HOST"], seen["POSTGRES_USER"]) == (env["DB_HOST"], "flask_todo")
    passfile = Path(seen["PGPASSFILE"])
    assert stat.S_IMODE(passfile.stat().st_mode) == 0o600
    # libpq's format: ':' and '\' escaped with a backslash.
    assert passfile.read_text() == "*:*:*:flask_todo:p\\:a\\\\ss#?%&w0rd!\n"
    passfile.unlink()
    passfile.parent.rmdir()


def test_no_command_is_refused() -> None:
    argv = [sys.executable, *database_url.ENTRY_POINT[1:]]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert done.returncode == 1 and "no command to run" in done.stderr


def test_the_task_definition_starts_it_ahead_of_the_apps_entry_point() -> None:
    plain = container_definition(Settings())
    assert plain["entryPoint"] == ["bin/flask-run.sh"]  # nothing changes without the setting
    wrapped = container_definition(Settings().replace("app", database_env="DATABASE_URL"))
    assert wrapped["entryPoint"] == [*database_url.ENTRY_POINT, "bin/flask-run.sh"]
    assert {"name": database_url.URL_ENV, "value": "DATABASE_URL"} in wrapped["environment"]
    assert wrapped["secrets"] == plain["secrets"]  # the password still only through `secrets`
    assert database_env.passfile_line("u", "a:b") == "*:*:*:u:a\\:b\n"


def test_parts_are_checked_and_a_password_part_is_refused_with_why() -> None:
    good = Settings().replace("app", database_parts={"host": "PGHOST_X", "port": "PORT_X"})
    assert not [e for e in validate(good) if e.field == "database_parts"]
    for parts, says in (
        ({"password": "DB_PASSWORD"}, "goes stale when RDS rotates"),
        ({"hostname": "H"}, "the parts are host, port, name, user"),
        ({"host": "1X"}, "a variable name is letters"),
        ({"host": "X", "user": "X"}, "more than once"),
    ):
        errors = validate(Settings().replace("app", database_parts=parts))
        assert any(e.field == "database_parts" and says in e.rule for e in errors), errors
