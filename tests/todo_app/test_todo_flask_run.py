"""bin/flask-run.sh starts the app from the container's folder layout and stops cleanly on SIGTERM.

The Dockerfile copies the package to /app/src/todo_app and bin/ to /app/bin, sets
PYTHONPATH=/app/src and runs bin/flask-run.sh from /app; this builds the same tree in a
temp folder (no Docker engine needed) and runs the script as ECS would.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from health_wait import wait_for_health


def container_env(app_root: Path, database: str, port: int, flask_env: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DB_", "DATABASE_", "FLASK_", "GUNICORN_", "PYTHON"))
    }
    env.update(
        PYTHONPATH=str(app_root / "src"),
        DATABASE_URL=database,
        FLASK_APP="todo_app",
        FLASK_ENV=flask_env,
        HOST="127.0.0.1",
        PORT=str(port),
        # The interpreter running the tests, first on PATH, as `python` is in the image.
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    return env


def request(port: int, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=data,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=5) as answer:
        return answer.status, json.load(answer)


# Starts bin/flask-run.sh on a database, with a FLASK_ENV; the server and its port.
FlaskRun = Callable[[str, str], tuple[subprocess.Popen[str], int]]


@pytest.fixture
def flask_run(
    app_root: Path, free_port: int, spawn: Callable[..., subprocess.Popen[str]]
) -> FlaskRun:
    """The script as ECS runs it in the container, on a free port (stopped after the test)."""

    def start(database: str, flask_env: str) -> tuple[subprocess.Popen[str], int]:
        env = container_env(app_root, database, free_port, flask_env)
        return spawn([str(app_root / "bin" / "flask-run.sh")], env=env, cwd=app_root), free_port

    return start


def test_the_package_is_imported_from_the_container_layout(app_root: Path, database: str) -> None:
    env = container_env(app_root, database, 5000, "production")
    found = subprocess.run(
        [sys.executable, "-c", "import todo_app; print(todo_app.__file__)"],
        env=env,
        cwd=app_root,
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(found.stdout.strip()) == app_root / "src" / "todo_app" / "__init__.py"


def test_production_runs_gunicorn_logs_json_and_exits_0_on_sigterm(
    empty_database: str, flask_run: FlaskRun
) -> None:
    server, free_port = flask_run(empty_database, "production")

    # The script migrated the empty database before serving.
    assert wait_for_health(free_port, server) == {"status": "ok"}
    status, todo = request(free_port, "POST", "/todos", {"title": "from the container"})
    assert status == 201
    assert todo["url"] == f"http://127.0.0.1:{free_port}/todos/{todo['id']}"
    assert request(free_port, "GET", "/todos")[1] == [todo]

    server.send_signal(signal.SIGTERM)  # what ECS sends first when it stops a task
    stdout, stderr = server.communicate(timeout=25)
    assert server.returncode == 0, stderr
    assert "migrate: applied" in stderr
    assert "Booting worker" in stderr  # gunicorn, not the development server

    access = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    assert {(entry["method"], entry["path"], entry["status"]) for entry in access} >= {
        ("GET", "/healthz", 200),
        ("POST", "/todos", 201),
        ("GET", "/todos", 200),
    }
    assert all(isinstance(entry["duration_ms"], float) for entry in access)


def test_development_runs_flasks_own_server_and_stops_on_sigterm(
    database: str, flask_run: FlaskRun
) -> None:
    server, free_port = flask_run(database, "development")
    assert wait_for_health(free_port, server)["status"] == "ok"
    server.send_signal(signal.SIGTERM)
    _, stderr = server.communicate(timeout=15)
    assert server.returncode == 0, stderr
    assert "Restarting with stat" in stderr  # the development server's reloader


def test_an_unknown_flask_env_refuses_to_start(app_root: Path, database: str) -> None:
    env = container_env(app_root, database, 5000, "staging")
    result = subprocess.run(
        [str(app_root / "bin" / "flask-run.sh")],
        env=env,
        cwd=app_root,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0
    assert "FLASK_ENV must be production or development" in result.stderr
