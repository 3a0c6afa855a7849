"""`todo-api` runs the API locally: on an embedded PostgreSQL, or on the configured database."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from health_wait import wait_for_health


@pytest.fixture
def pgdata() -> Iterator[Path]:
    # Outside pytest's tmp_path, which pytest keeps 0700: a folder a person picks for data
    # kept between runs must be one the server's user (root runs it as `pgserver`) reaches.
    folder = Path(tempfile.mkdtemp(prefix="todo-test-local-"))
    folder.chmod(0o755)
    yield folder / "pgdata"
    shutil.rmtree(folder, ignore_errors=True)


def local_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "DATABASE_URL"))}
    return {**env, **extra}


def post_todo(port: int, title: str) -> int:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/todos",
        data=json.dumps({"title": title}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=5) as answer:
        return answer.status


def test_runs_on_an_embedded_postgresql_and_stops_it_on_exit(
    pgdata: Path,
    free_port: int,
    spawn: Callable[..., subprocess.Popen[str]],
) -> None:
    command = [sys.executable, "-m", "todo_app.local", "--port", str(free_port)]
    server = spawn([*command, "--pgdata", str(pgdata)], env=local_env())
    assert wait_for_health(free_port, server)["status"] == "ok"
    assert post_todo(free_port, "local") == 201

    server.send_signal(signal.SIGTERM)
    stdout, stderr = server.communicate(timeout=20)
    assert server.returncode == 0, stderr
    assert f"Serving on http://127.0.0.1:{free_port}/todos" in stdout
    assert f"embedded PostgreSQL in {pgdata}" in stdout
    assert (pgdata / "PG_VERSION").exists()
    assert not (pgdata / "postmaster.pid").exists(), "the embedded server was left running"


def test_runs_on_the_configured_database_when_one_is_set(
    database: str,
    pgdata: Path,
    free_port: int,
    spawn: Callable[..., subprocess.Popen[str]],
) -> None:
    command = [sys.executable, "-m", "todo_app.local", "--port", str(free_port)]
    env = local_env(DATABASE_URL=database)
    server = spawn([*command, "--pgdata", str(pgdata)], env=env)
    wait_for_health(free_port, server)
    assert post_todo(free_port, "configured") == 201
    server.send_signal(signal.SIGTERM)
    stdout, _ = server.communicate(timeout=20)
    assert server.returncode == 0
    assert "on the configured database" in stdout
    assert not pgdata.exists(), "no embedded server should have been made"


@pytest.mark.skipif(os.geteuid() != 0, reason="as root, PostgreSQL runs as its own user")
def test_a_data_folder_the_servers_user_cannot_reach_is_refused_and_left_closed(
    free_port: int,
) -> None:
    closed = Path(tempfile.mkdtemp(prefix="todo-test-closed-"))  # 0700, root's
    try:
        command = [sys.executable, "-m", "todo_app.local", "--port", str(free_port)]
        ran = subprocess.run(
            [*command, "--pgdata", str(closed / "pgdata")],
            env=local_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert ran.returncode == 2
        assert ran.stderr.startswith("todo-api: PostgreSQL runs as the system user 'pgserver'")
        assert f"which cannot reach {closed}" in ran.stderr
        assert (closed.stat().st_mode & 0o777) == 0o700, "nothing may open it"
        assert list(closed.iterdir()) == []
    finally:
        shutil.rmtree(closed, ignore_errors=True)
