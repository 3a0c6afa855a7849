"""Schema migrations: fresh, repeated (a no-op) and concurrent (one applied set, no error)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import psycopg2
from flask.testing import FlaskCliRunner
from todo_helpers import at_once, migrate

from todo_app.migrations import MIGRATIONS, current_version, upgrade

ALL_VERSIONS = [migration.version for migration in MIGRATIONS]


def ledger(dsn: str) -> list[tuple[int, str]]:
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT version, name FROM schema_migrations ORDER BY version")
            return cur.fetchall()
    finally:
        conn.close()


def test_a_fresh_database_gets_every_migration_and_a_usable_todos_table(
    empty_database: str,
) -> None:
    assert migrate(empty_database) == ALL_VERSIONS
    assert ledger(empty_database) == [(m.version, m.name) for m in MIGRATIONS]
    conn = psycopg2.connect(empty_database)
    try:
        assert current_version(conn) == ALL_VERSIONS[-1]
        with conn.cursor() as cur:
            cur.execute("INSERT INTO todos (title) VALUES ('x') RETURNING completed, position")
            assert cur.fetchone() == (False, None)
    finally:
        conn.close()


def test_applying_again_is_a_no_op(empty_database: str) -> None:
    migrate(empty_database)
    before = ledger(empty_database)
    assert migrate(empty_database) == []
    assert ledger(empty_database) == before


def test_an_unmigrated_database_has_no_version(empty_database: str) -> None:
    conn = psycopg2.connect(empty_database)
    try:
        assert current_version(conn) is None
    finally:
        conn.close()


def test_threads_applying_at_once_apply_each_migration_exactly_once(empty_database: str) -> None:
    results: list[list[int]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def run() -> None:
        try:
            conn = psycopg2.connect(empty_database)
            try:
                start.wait()
                results.append(upgrade(conn))
            finally:
                conn.close()
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)

    at_once(run, 6)
    assert errors == []
    assert sorted(results) == [[]] * 5 + [ALL_VERSIONS]
    assert [version for version, _ in ledger(empty_database)] == ALL_VERSIONS


def test_tasks_starting_together_all_succeed_with_one_applied_set(empty_database: str) -> None:
    env = {**os.environ, "DATABASE_URL": empty_database}
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "todo_app.migrate"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outcomes = [(process.wait(timeout=30), *process.communicate()) for process in processes]
    assert [code for code, _, _ in outcomes] == [0] * 4, outcomes
    messages = [err for _, _, err in outcomes]
    assert sum("migrate: applied" in message for message in messages) == 1, messages
    assert sum("already at version" in message for message in messages) == 3, messages
    assert [version for version, _ in ledger(empty_database)] == ALL_VERSIONS


def test_migrate_fails_clearly_when_the_database_stays_unreachable(free_port: int) -> None:
    env = {**os.environ, "DATABASE_URL": f"host=127.0.0.1 port={free_port} dbname=x user=x"}
    result = subprocess.run(
        [sys.executable, "-m", "todo_app.migrate", "--wait", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert "cannot reach the database" in result.stderr


def test_the_flask_command_says_up_to_date_on_a_migrated_database(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["db-upgrade"])
    assert result.exit_code == 0, result.output
    assert "Up to date." in result.output


def test_the_flask_command_migrates_a_fresh_database(empty_database: str, make_app: object) -> None:
    app = make_app(empty_database)  # type: ignore[operator]
    result = app.test_cli_runner().invoke(args=["db-upgrade"])
    assert result.exit_code == 0, result.output
    assert f"Applied migrations: {', '.join(map(str, ALL_VERSIONS))}." in result.output
    assert [version for version, _ in ledger(empty_database)] == ALL_VERSIONS
