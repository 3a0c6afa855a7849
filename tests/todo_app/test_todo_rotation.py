"""The app rides out RDS's password rotation: it reads the secret again when PostgreSQL refuses.

A real PostgreSQL checking passwords over TCP, the secret in the local AWS emulator (moto),
and the app reading it through boto3's default chain, as a task does with its task role.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from flask import Flask
from health_wait import wait_for_health
from rds_stand_in import Login, Secret, new_password

from todo_app.credentials import Credentials, connect
from todo_app.db import get_credentials
from todo_app.secret import DatabaseSecret


def assert_never_shown(text: str, *passwords: str) -> None:
    for password in passwords:
        assert password not in text, "a password reached a log line or a response"


def test_without_db_pwd_the_password_comes_from_the_secret(
    login: Login,
    secret: Secret,
    aws_env: dict[str, str],
    env_app: Callable[..., Flask],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="todo_app")
    # The task's own region is another: the secret's region comes from its ARN.
    env = {**login.env(), "DB_SECRET_ARN": secret.arn, "AWS_REGION": "eu-west-1"}
    app = env_app({**env, "AWS_DEFAULT_REGION": "eu-west-1"})
    client = app.test_client()
    health = client.get("/healthz")
    assert health.status_code == 200, health.get_json()
    created = client.post("/todos", json={"title": "logged in with the secret's password"})
    assert created.status_code == 201
    assert get_credentials(app).reads == 1
    assert f"read the database password from Secrets Manager secret {secret.arn}" in caplog.text
    assert_never_shown(caplog.text + health.get_data(as_text=True), login.password)


def test_in_the_rotation_window_the_pending_password_is_tried(
    login: Login,
    secret: Secret,
    aws_env: dict[str, str],
    env_app: Callable[..., Flask],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # RDS has set the new password in the database; the secret has it only as AWSPENDING.
    old, new = login.password, new_password()
    secret.put_pending(new)
    login.change_password(new)

    # A task started before the rotation (ECS injected the old password)...
    started_before = env_app({**login.env(), "DB_PWD": old, "DB_SECRET_ARN": secret.arn})
    client = started_before.test_client()
    assert client.get("/healthz").status_code == 200
    assert client.post("/todos", json={"title": "during the rotation"}).status_code == 201
    assert get_credentials(started_before).reads == 1
    assert "the database refused the password; reading secret" in caplog.text

    # ...and one starting now, with no DB_PWD: its first read already holds both versions,
    # so it needs no second one (however slow this machine is: reads 60 s apart at most).
    starting_now = env_app(
        {**login.env(), "DB_SECRET_ARN": secret.arn}, DB_SECRET_REREAD_SECONDS=60
    )
    assert starting_now.test_client().get("/todos").status_code == 200
    assert starting_now.test_client().get("/healthz").status_code == 200
    assert get_credentials(starting_now).reads == 1
    assert_never_shown(caplog.text, old, new)


def test_a_burst_of_refused_logins_reads_the_secret_once(
    login: Login,
    secret: Secret,
    aws_env: dict[str, str],
    env_app: Callable[..., Flask],
) -> None:
    # Reads at least a minute apart: a slow machine must not make a second one due (after
    # 1 s) while the burst is still going; this counts what the burst itself costs.
    app = env_app(
        {**login.env(), "DB_PWD": login.password, "DB_SECRET_ARN": secret.arn},
        DB_POOL_MAX=16,
        DB_SECRET_REREAD_SECONDS=60,
        # 24 SCRAM logins at once on a busy 2-core machine can take over /healthz's 1 s;
        # this test counts secret reads, not the probe's deadline (test_todo_health does).
        HEALTH_TIMEOUT_SECONDS=10.0,
    )
    assert app.test_client().get("/todos").status_code == 200
    new = new_password()
    secret.put(new)
    login.change_password(new)
    assert login.end_sessions() >= 1  # the pool's connections must now be opened anew

    barrier = threading.Barrier(24)
    statuses: list[int] = []
    lock = threading.Lock()

    def request(path: str) -> None:
        client = app.test_client()
        barrier.wait(timeout=10)
        status = client.get(path).status_code
        with lock:
            statuses.append(status)

    paths = ["/todos"] * 16 + ["/healthz"] * 8
    threads = [threading.Thread(target=request, args=(path,)) for path in paths]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert statuses == [200] * 24
    assert get_credentials(app).reads == 1


def test_an_unreadable_secret_answers_503_and_logs_why(
    login: Login,
    secret: Secret,
    aws_env: dict[str, str],
    env_app: Callable[..., Flask],
    health_reason: Callable[[], str],
) -> None:
    missing = secret.arn.replace("rds!db-", "rds!db-gone-")
    app = env_app({**login.env(), "DB_SECRET_ARN": missing})
    client = app.test_client()
    health = client.get("/healthz")
    assert health.get_json() == {"status": "unavailable"}
    assert health.status_code == 503
    error = health_reason()
    assert error.startswith("database password unavailable: Secrets Manager refused")
    assert "ResourceNotFoundException" in error and missing in error
    assert "secretsmanager:GetSecretValue" in error  # what to check
    for response in (client.get("/todos"), client.post("/todos", json={"title": "x"})):
        assert response.status_code == 503
        assert response.get_json()["error"] == "database unavailable, try again shortly"


def test_a_refused_password_and_an_unreachable_secrets_manager_say_both(
    login: Login,
    secret: Secret,
    aws_env: dict[str, str],
    env_app: Callable[..., Flask],
    free_port: int,
    caplog: pytest.LogCaptureFixture,
    health_reason: Callable[[], str],
) -> None:
    stale = login.password
    login.change_password(new_password())
    env = {**login.env(), "DB_PWD": stale, "DB_SECRET_ARN": secret.arn}
    app = env_app({**env, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port}"})
    health = app.test_client().get("/healthz")
    assert health.status_code == 503
    error = health_reason()
    assert error.startswith("database password unavailable: the database refused the password")
    assert "cannot reach Secrets Manager in us-east-1" in error
    assert_never_shown(caplog.text + error, stale, login.password)


def test_a_secret_without_a_password_field_is_named_not_quoted(
    login: Login,
    secret: Secret,
    aws_env: dict[str, str],
    env_app: Callable[..., Flask],
    health_reason: Callable[[], str],
) -> None:
    text = json.dumps({"username": login.user, "pass": login.password})
    secret.client.put_secret_value(SecretId=secret.arn, SecretString=text)
    health = env_app({**login.env(), "DB_SECRET_ARN": secret.arn}).test_client().get("/healthz")
    assert health.status_code == 503
    assert 'holds no "password" field' in health_reason()
    assert_never_shown(health.get_data(as_text=True), login.password)


def test_a_secret_whose_password_is_refused_too_is_named_in_the_log(
    login: Login,
    secret: Secret,
    aws_env: dict[str, str],
    env_app: Callable[..., Flask],
    health_reason: Callable[[], str],
) -> None:
    secret.put(new_password())  # not the role's password
    health = env_app({**login.env(), "DB_SECRET_ARN": secret.arn}).test_client().get("/healthz")
    assert health.status_code == 503
    assert secret.arn not in health.get_data(as_text=True)  # the public hears only "unavailable"
    error = health_reason()
    assert "password authentication failed" in error
    assert f"also with the password in secret {secret.arn}" in error


def test_migrations_at_start_read_the_secret_when_db_pwd_is_stale(
    login: Login, secret: Secret, aws_env: dict[str, str]
) -> None:
    stale, new = login.password, new_password()
    secret.put(new)
    login.change_password(new)
    env = {**login.env(), **aws_env, "DB_PWD": stale, "DB_SECRET_ARN": secret.arn}
    result = subprocess.run(
        [sys.executable, "-m", "todo_app.migrate"],
        env={**_base_env(), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "the database refused the password; reading secret" in result.stderr
    assert "schema already at version" in result.stderr
    assert_never_shown(result.stdout + result.stderr, stale, new)


def _base_env() -> dict[str, str]:
    prefixes = ("DB_", "DATABASE_", "FLASK_", "GUNICORN_", "PYTHON", "AWS_", "PG")
    return {key: value for key, value in os.environ.items() if not key.startswith(prefixes)}


# -- under a steady stream of requests ---------------------------------------------------


@dataclass
class Answer:
    at: float
    path: str
    status: int  # 0: no answer (see error)
    error: str = ""


@dataclass
class Load:
    """A few threads sending requests one after another; every answer is kept."""

    port: int
    threads: int = 4
    answers: list[Answer] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._workers = [threading.Thread(target=self._run, args=(n,)) for n in range(self.threads)]

    def _send(self, path: str, body: dict[str, Any] | None) -> tuple[int, str]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            data=data,
            method="POST" if body is not None else "GET",
            headers={"Content-Type": "application/json"},
        )
        try:
            # ALB waits 60 s (its idle timeout) for a target's answer: a loaded machine may take
            # seconds while gunicorn boots new workers, which is slow, not failed.
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, ""
        except urllib.error.HTTPError as error:
            return error.code, ""
        except OSError as error:
            return 0, repr(error)

    def _run(self, worker: int) -> None:
        plan = [
            ("/todos", None),
            ("/todos", {"title": f"from worker {worker}"}),
            ("/healthz", None),
        ]
        for n in range(5000):  # bounded, whatever happens
            if self._stop.is_set():
                return
            path, body = plan[n % len(plan)]
            status, error = self._send(path, body)
            with self._lock:
                self.answers.append(Answer(time.monotonic(), path, status, error))

    def count(self, path: str, since: float) -> int:
        with self._lock:
            return sum(answer.path == path and answer.at > since for answer in self.answers)

    def wait_until(self, done: Callable[[], bool], seconds: float = 30) -> None:
        """Keep the load on until done() (or fail after `seconds`): counts, not durations,
        so a busy machine only makes this slower."""
        deadline = time.monotonic() + seconds
        while not done():
            assert time.monotonic() < deadline, "the load never got that far"
            time.sleep(0.05)

    def __enter__(self) -> Load:
        for worker in self._workers:
            worker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=10)


def _rotate_secret_then_database(login: Login, secret: Secret, new: str) -> None:
    secret.put(new)
    login.change_password(new)


def _rotate_as_rds_does(login: Login, secret: Secret, new: str) -> None:
    # createSecret, setSecret, (testSecret), finishSecret: the database wants the new
    # password for a while before AWSCURRENT names it.
    version = secret.put_pending(new)
    login.change_password(new)
    time.sleep(0.5)
    secret.finish_rotation(version)


@pytest.mark.parametrize(
    "rotate",
    [_rotate_secret_then_database, _rotate_as_rds_does],
    ids=["secret-then-database", "as-rds-rotates"],
)
def test_serving_under_load_across_a_rotation_no_request_fails(
    rotate: Callable[[Login, Secret, str], None],
    login: Login,
    secret: Secret,
    aws_env: dict[str, str],
    app_root: Path,
    tmp_path: Path,
    free_port: int,
    spawn: Callable[..., subprocess.Popen[str]],
) -> None:
    # The container's entry point (migrations, then gunicorn: 2 workers x 4 threads), with
    # the password ECS injected at start and the secret to read it again from.
    env = {
        **_base_env(),
        **login.env(),
        **aws_env,
        "DB_PWD": login.password,
        "DB_SECRET_ARN": secret.arn,
        "FLASK_APP": "todo_app",
        "FLASK_ENV": "production",
        "PYTHONPATH": str(app_root / "src"),
        "HOST": "127.0.0.1",
        "PORT": str(free_port),
        # The interpreter running the tests, first on PATH, as `python` is in the image.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    stdout, stderr = tmp_path / "stdout.log", tmp_path / "stderr.log"
    with stdout.open("w") as out, stderr.open("w") as err:
        server = spawn(
            [str(app_root / "bin" / "flask-run.sh")], env=env, cwd=app_root, stdout=out, stderr=err
        )
    wait_for_health(free_port, server)

    def booted() -> int:
        return stderr.read_text().count("Booting worker")

    old, new = login.password, new_password()
    with Load(free_port) as load:
        load.wait_until(lambda: load.count("/healthz", since=0) >= 5)
        rotate(login, secret, new)
        changed = time.monotonic()
        # Each /healthz opens a new connection: the workers meet the refusal there first.
        load.wait_until(lambda: load.count("/healthz", since=changed) >= 10)
        # New workers start with the stale DB_PWD, as tasks ECS started before would.
        workers = booted()
        server.send_signal(signal.SIGHUP)
        load.wait_until(lambda: booted() >= workers + 2)
        replaced = time.monotonic()
        load.wait_until(
            lambda: (
                load.count("/healthz", since=replaced) >= 10
                and load.count("/todos", since=replaced) >= 20
            )
        )
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=30)

    failed = [answer for answer in load.answers if answer.status not in (200, 201)]
    assert not failed, f"{len(failed)} of {len(load.answers)} requests failed: {failed[:3]}"
    logs = stdout.read_text() + stderr.read_text()
    assert "the database refused the password; reading secret" in logs
    assert_never_shown(logs, old, new)


def test_a_secret_the_database_keeps_refusing_is_read_ever_less_often(
    login: Login, secret: Secret, aws_env: dict[str, str]
) -> None:
    secret.put("not-the-password")  # a secret that is simply wrong
    now = [0.0]
    credentials = Credentials("also-wrong", DatabaseSecret(secret.arn), clock=lambda: now[0])
    kwargs = login.connect_kwargs()
    del kwargs["password"]
    reads_at: list[float] = []
    for tick in range(40):  # 20 s of refused logins, two a second
        now[0] = tick / 2
        before = credentials.reads
        with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
            connect(kwargs, credentials)
        if credentials.reads > before:
            reads_at.append(now[0])
    # Spaced 1, 2, 4, 8 s apart (doubling up to 30 s), not one read per refused login.
    assert reads_at == [0.0, 1.0, 3.0, 7.0, 15.0]
