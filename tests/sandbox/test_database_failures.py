"""A sandbox database that cannot start: failed once with its reason, tried again with backoff,
what each try took given back, and available once the cause goes; and its master password,
made for it alone. The data plane's database part runs here on a clock the test moves (no
loop, no waiting): each `settle` is one reconcile and the tries it started."""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from rich.console import Console

from runbook import destroy as tear_down
from runbook.aws import Aws
from runbook.cli import render
from runbook.cli.commands import status as status_json
from runbook.errors import RunbookError
from runbook.events import StepFailed
from runbook.sandbox import Emulator, Timings, moto_state, template_cache
from runbook.sandbox.backoff import CAP, Backoff
from runbook.sandbox.dataplane import DataPlane, World

IDENTIFIER = "flask-todo-db"
FIXED = "P@55w0rd!"  # moto's one password for every managed secret


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Rds:
    """One account's database part, its clock, and what it said."""

    def __init__(
        self, emulator: Emulator, aws: Aws, account: str, timings: Timings | None = None
    ) -> None:
        self.aws, self.clock, self.lines = aws, Clock(), []
        self.folder = Path(tempfile.mkdtemp(prefix="runbook-sandbox-test-"))
        self.plane = DataPlane(
            emulator.url,
            parts={"database"},
            folder=self.folder / "data",
            announce=self.lines.append,
            clock=self.clock,
            timings=timings,
        )
        self.account = account
        self.plane.watch(account)
        self.world = World(self.plane, account, "us-east-1")
        # Where the servers' data lives (the sandbox's PostgreSQL folder, made now).
        self.data = self.plane.postgres_home.path
        assert self.world.databases is not None
        self.databases = self.world.databases

    def settle(self) -> None:
        self.databases.reconcile()
        for thread in list(self.databases._threads):
            thread.join(120)

    def status(self) -> str:
        found = self.aws.call("rds", "describe_db_instances", DBInstanceIdentifier=IDENTIFIER)
        return str(found["DBInstances"][0]["DBInstanceStatus"])

    def said(self, words: str) -> list[str]:
        return [line for line in self.lines if words in line]

    def secret(self) -> dict[str, str]:
        db = self.aws.call("rds", "describe_db_instances", DBInstanceIdentifier=IDENTIFIER)
        arn = db["DBInstances"][0]["MasterUserSecret"]["SecretArn"]
        value = self.aws.call("secretsmanager", "get_secret_value", SecretId=arn)
        return dict(json.loads(value["SecretString"]))

    def connect(self, password: str, user: str = "todo_user") -> Any:
        local = self.databases.local[IDENTIFIER]
        return psycopg2.connect(
            host=local.hostname,
            hostaddr=local.address,
            port=local.port,
            dbname="todo",
            user=user,
            password=password,
            sslmode="verify-full",
            sslrootcert=str(self.plane.ca.bundle),
            connect_timeout=10,
        )

    def close(self) -> None:
        self.plane.stopped.set()  # a start still waiting ends; then its server goes
        self.world.close()
        self.plane.stop()
        moto_state.unwatch(self.account)
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def rds(emulator: Emulator, aws: Aws, account: str) -> Iterator[Rds]:
    found = Rds(emulator, aws, account)
    yield found
    found.close()


def create(aws: Aws, master_user: str = "todo_user") -> None:
    aws.call(
        "rds",
        "create_db_instance",
        DBInstanceIdentifier=IDENTIFIER,
        DBInstanceClass="db.t4g.micro",
        Engine="postgres",
        EngineVersion="16",
        DBName="todo",
        MasterUsername=master_user,
        ManageMasterUserPassword=True,
        AllocatedStorage=20,
    )


def server_processes(folder: Path) -> list[int]:
    """PostgreSQL servers whose data folder is under this one."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if (
            command
            and command[0].endswith(b"postgres")
            and str(folder).encode() in b" ".join(command)
        ):
            found.append(int(pid))
    return found


def test_backoff_doubles_from_a_second_to_a_minute() -> None:
    backoff, now, delays = Backoff(), 0.0, []
    for _ in range(9):
        assert backoff.failed("port taken", now) == (backoff.tries == 1)
        delays.append(backoff.next_at - now)
        assert not backoff.due(backoff.next_at - 0.001) and backoff.due(backoff.next_at)
        now = backoff.next_at
    assert delays == [1, 2, 4, 8, 16, 32, CAP, CAP, CAP]
    assert backoff.failed("another reason", now)  # a new reason is said again


def test_one_server_per_instance_while_it_is_creating(
    emulator: Emulator, aws: Aws, account: str
) -> None:
    """With AWS's timings a started server waits minutes before the instance is available:
    looking again meanwhile starts no second one."""
    rds = Rds(emulator, aws, account, Timings(1.0))
    try:
        create(rds.aws)
        rds.databases.reconcile()
        deadline = time.monotonic() + 120
        while not rds.said("up in"):
            assert time.monotonic() < deadline, rds.lines
            time.sleep(0.05)
        rds.databases.reconcile()
        rds.databases.reconcile()
        assert len([t for t in rds.databases._threads if t.is_alive()]) == 1
        assert rds.status() == "creating"
        assert len(server_processes(rds.data)) >= 1
    finally:
        rds.close()  # ends the wait; the server goes with the sandbox
    assert len(rds.said("up in")) == 1
    assert not server_processes(rds.data)


def occupy(rds: Rds) -> socket.socket:
    """Something else listens on the database's port at the address it gets (the first)."""
    taken = socket.socket()
    taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    taken.bind((f"{rds.plane.block.prefix}.2", 5432))
    taken.listen()
    return taken


def test_a_database_that_cannot_start_fails_once_backs_off_and_recovers(rds: Rds) -> None:
    taken = occupy(rds)
    address = taken.getsockname()[0]
    try:
        create(rds.aws)
        rds.settle()
        assert rds.status() == "failed"
        (line,) = rds.said("failed to start")
        assert f"at {address}" in line and "in use" in line and "try 1" in line
        # What the try took is given back: its server, its data, its address.
        assert not server_processes(rds.data)
        assert not (rds.data / f"{rds.world.folder.name}-db-{IDENTIFIER}").exists()
        assert rds.databases.next_due() == rds.clock.now + 1
        # The reason is where AWS puts it: an RDS event, in the failure category.
        events = rds.aws.call(
            "rds",
            "describe_events",
            SourceIdentifier=IDENTIFIER,
            SourceType="db-instance",
        )["Events"]
        failures = [e for e in events if "failure" in e["EventCategories"]]
        assert len(failures) == 1 and "in use" in failures[0]["Message"]

        # Not before its time: no try, no line.
        rds.clock.now += 0.99
        rds.settle()
        rds.settle()
        assert len(rds.said("failed to start")) == 1
        rds.clock.now += 0.01
        rds.settle()
        second = rds.said("failed to start")[1:]
        assert len(second) == 1 and f"at {address}" in second[0] and "try 2" in second[0]
        assert rds.databases.next_due() == rds.clock.now + 2
        rds.clock.now += 1.5
        rds.settle()
        assert len(rds.said("failed to start")) == 2
        # The same reason is not said again where the person looks.
        events = rds.aws.call(
            "rds", "describe_events", SourceIdentifier=IDENTIFIER, SourceType="db-instance"
        )["Events"]
        assert sum("failure" in e["EventCategories"] for e in events) == 1
    finally:
        taken.close()

    # The cause goes: the next try starts it, at the address the failed tries gave back.
    rds.clock.now += 0.5
    rds.settle()
    assert rds.status() == "available"
    (up,) = rds.said("up in")
    assert f"at {address}:5432" in up and "after 2 failed tries" in up
    assert rds.databases.next_due() is None
    its_password_alone_opens_it(rds)


def test_a_failed_initdb_is_tried_again_from_nothing(
    rds: Rds, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(template_cache.CACHE_ENV, "off")  # initdb itself runs, and fails
    # Something that is not ours sits where initdb writes its password file.
    in_the_way = rds.data / "pwfile-template-16"
    in_the_way.mkdir()
    create(rds.aws)
    rds.settle()
    assert rds.status() == "failed"
    (line,) = rds.said("failed to start")
    assert "initdb failed" in line and "Is a directory" in line
    in_the_way.rmdir()
    rds.clock.now += 1
    rds.settle()
    assert rds.status() == "available", rds.lines


def its_password_alone_opens_it(rds: Rds) -> None:
    """The master password is the managed secret's, made for this instance, never written."""
    secret = rds.secret()
    # As RDS's managed secret: the instance's master user, a password made for it.
    assert secret["username"] == "todo_user"
    password = secret["password"]
    assert password != FIXED and len(password) >= 16
    assert not set('/"@ ') & set(password)  # RDS's rule for master passwords
    conn = rds.connect(password)
    with conn.cursor() as cur:
        cur.execute("SELECT current_user")
        assert cur.fetchone() == ("todo_user",)
    conn.close()
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        rds.connect(FIXED)
    # Never written down by the sandbox: not in its log, not in any file of its data.
    assert not [line for line in rds.lines if password in line]
    for path in [*rds.plane.folder.rglob("*"), *rds.data.rglob("*")]:
        if path.is_file() and not path.is_symlink():
            assert password.encode() not in path.read_bytes(), path


def test_postgres_as_the_master_user_takes_the_secrets_password(rds: Rds) -> None:
    """`postgres` is a valid RDS master user: here the server's own administrator."""
    create(rds.aws, master_user="postgres")
    rds.settle()
    assert rds.status() == "available", rds.lines
    secret = rds.secret()
    assert secret["username"] == "postgres"
    rds.connect(secret["password"], user="postgres").close()
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        rds.connect(FIXED, user="postgres")


def test_two_databases_get_two_passwords(emulator: Emulator, aws: Aws, account: str) -> None:
    moto_state.watch(account, {"database"})
    try:
        for name in ("one", "two"):
            aws.call(
                "rds",
                "create_db_instance",
                DBInstanceIdentifier=name,
                DBInstanceClass="db.t4g.micro",
                Engine="postgres",
                MasterUsername="postgres",
                ManageMasterUserPassword=True,
                AllocatedStorage=20,
            )
        arns = [
            db["MasterUserSecret"]["SecretArn"]
            for db in aws.call("rds", "describe_db_instances")["DBInstances"]
        ]
        values = {
            aws.call("secretsmanager", "get_secret_value", SecretId=arn)["SecretString"]
            for arn in arns
        }
        assert len(values) == 2 and not any(FIXED in v for v in values)
    finally:
        moto_state.unwatch(account)


def test_a_failed_database_says_why_where_the_person_looks(
    rds: Rds, make_runbook: Any, events: list[Any]
) -> None:
    """Section IV's wait fails with database advice and RDS's reason; `runbook status` (and
    --json) shows the reason next to the instance; once the cause goes, IV runs to the end."""
    taken = occupy(rds)

    def sleep(seconds: float) -> None:  # the wait's pause is the data plane's time passing
        rds.clock.now += seconds
        rds.settle()

    runbook = make_runbook(sleep=sleep)
    runbook.apply(runbook.step("I"))
    try:
        with pytest.raises(RunbookError) as failed:
            runbook.apply(runbook.step("IV"))
        problem = failed.value.problem
        assert problem.code == "DBInstanceFailed"
        assert "the database is failed" in problem.message
        assert "RDS could not bring the database up" in problem.advice
        assert "service" not in problem.advice  # not the advice for an unhealthy ECS service
        (reason,) = failed.value.details
        assert reason.startswith("RDS event ") and "in use" in reason
        (said,) = [e for e in events if isinstance(e, StepFailed)]
        assert said.details == (reason,) and said.advice == problem.advice

        status = tear_down.status(runbook)
        sections = {step.number: seen for step, seen in status.sections}
        (database,) = [r for r in sections["IV"].resources if r.kind == "database"]
        assert database.state == "failed" and "in use" in database.reason
        console = Console(width=100, file=io.StringIO(), record=True, color_system=None)
        console.print(render.status_table(status.sections))
        shown = " ".join(console.export_text().split())
        assert "failed RDS event" in shown and "in use" in shown  # `runbook status`'s table
        as_json = status_json.state(runbook)
        (iv,) = [s for s in as_json["sections"] if s["number"] == "IV"]
        assert iv["status"] == "failed" and "in use" in iv["resources"][0]["reason"]
    finally:
        taken.close()
    sleep(CAP)
    assert runbook.apply(runbook.step("IV"))
    sections = {step.number: seen for step, seen in tear_down.status(runbook).sections}
    assert [(r.state, r.reason) for r in sections["IV"].resources] == [("available", "")]
