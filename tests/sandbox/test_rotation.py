"""RDS's rotation of the managed master password, in the sandbox as on AWS: RotateSecret (by a
person, or on the secret's schedule under --timings) puts a new password in the secret and
the local PostgreSQL's master user takes it; the old one is refused from then on. The Todo
API serves through it: its open connections stay, and new ones log in with the new password
(it reads the secret again when the old one is refused)."""

from __future__ import annotations

import http.client
import json
import os
import threading
import time

import psycopg2
import pytest

from runbook import destroy as tear_down
from runbook import one_off
from runbook.aws import Aws
from runbook.sandbox import Timings
from runbook.sandbox.account import DEFAULT_ACCOUNT
from runbook.settings import Settings
from tests.sandbox.conftest import account_aws

# The secret's 7-day schedule scaled to about 20 s; everything else is as good as instant.
SCALE = 20 / (7 * 24 * 3600)


@pytest.fixture
def timings() -> Timings:
    return Timings(SCALE)


def get(url: str, path: str) -> int:
    host, _, port = url.removeprefix("http://").partition(":")
    connection = http.client.HTTPConnection(host, int(port or 80), timeout=30)
    try:
        connection.request("GET", path, headers={"Host": "localhost"})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def password(aws, arn: str) -> str:
    value = aws.call("secretsmanager", "get_secret_value", SecretId=arn)["SecretString"]
    return str(json.loads(value)["password"])


def login(plane, identifier: str, user: str, secret: str) -> psycopg2.extensions.connection:
    """As the app does: to the instance's endpoint, over TLS."""
    world = next(w for w in plane._snapshot() if w.databases and identifier in w.databases.local)
    local = world.databases.local[identifier]
    return psycopg2.connect(
        host=local.address,
        port=local.port,
        user=user,
        password=secret,
        dbname=local.db_name,
        sslmode="require",
        connect_timeout=5,
    )


def refused(plane, identifier: str, user: str, secret: str) -> bool:
    try:
        login(plane, identifier, user, secret).close()
    except psycopg2.OperationalError as exc:
        return "password authentication failed" in str(exc)
    return False


def move_clock(plane, seconds: float) -> None:
    """Move the data plane's clock on by `seconds` (as its own tests do, instead of waiting):
    what it schedules falls due as if that much time had passed."""
    clock = plane.clock
    plane.clock = lambda: clock() + seconds
    plane.wake()


def until(check, seconds: float = 30.0) -> bool:
    ends = time.monotonic() + seconds
    while time.monotonic() < ends:
        if check():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def default_aws(data_plane_emulator) -> Aws:
    """The emulator's default account: the one a task's own AWS calls reach (the Todo API
    reads its secret again with them), as a task's role belongs to its account on AWS."""
    data_plane_emulator.data_plane.watch(DEFAULT_ACCOUNT)
    return account_aws(data_plane_emulator, DEFAULT_ACCOUNT)


def test_the_app_serves_through_rotations_by_hand_and_on_schedule(
    default_aws, full_runbook, tmp_path, data_plane_emulator
) -> None:
    full_aws, plane = default_aws, data_plane_emulator.data_plane
    # A name of its own: the default account may hold what other tests in this process left.
    name = f"rot{os.getpid() % 100000}"
    settings = Settings.for_deployment(name).replace("database", instance_class="db.t4g.micro")
    make = full_runbook

    def full_runbook(**overrides):  # type: ignore[no-redef]
        return make(aws=full_aws, settings=settings, **overrides)

    identifier, user = settings.database.identifier, settings.database.master_username
    try:
        summary = full_runbook().deploy()
        assert summary.probe is not None and summary.probe.ok, summary
        url = full_aws.url_for(summary.url)
        db = full_aws.call("rds", "describe_db_instances", DBInstanceIdentifier=identifier)
        arn = db["DBInstances"][0]["MasterUserSecret"]["SecretArn"]

        statuses: list[int] = []
        stop = threading.Event()

        def serve() -> None:  # a person using the app all along
            while not stop.is_set():
                try:
                    statuses.append(get(url, "/todos"))
                except OSError as exc:  # counted as a failure, and the person goes on
                    statuses.append(repr(exc))  # type: ignore[arg-type]
                time.sleep(0.05)

        user_thread = threading.Thread(target=serve, daemon=True)
        user_thread.start()
        assert until(lambda: len(statuses) >= 3)  # the person is using it already

        # By hand: RotateSecret on the managed secret, as `aws secretsmanager rotate-secret`.
        old = password(full_aws, arn)
        full_aws.call("secretsmanager", "rotate_secret", SecretId=arn)
        new = password(full_aws, arn)
        assert new != old
        assert until(lambda: refused(plane, identifier, user, old))
        login(plane, identifier, user, new).close()
        versions = full_aws.call("secretsmanager", "list_secret_version_ids", SecretId=arn)
        stages = sorted(tuple(v["VersionStages"]) for v in versions["Versions"])
        # Older versions keep no stage (as on AWS): the ~20 s schedule, counted from the
        # database's start, may have rotated it once already when the deploy after it was slow.
        assert [s for s in stages if s] == [("AWSCURRENT",), ("AWSPREVIOUS",)], stages

        # The app's open connections end (as after a database restart, or a pool's recycling):
        # it must log in again, and the password ECS injected at its start is refused now.
        with login(plane, identifier, user, new) as admin, admin.cursor() as cur:
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE usename = %s AND pid <> pg_backend_pid()",
                (user,),
            )
        admin.close()
        time.sleep(1.0)
        # As the RDS console's "rotate now": ModifyDBInstance RotateMasterUserPassword.
        full_aws.call(
            "rds",
            "modify_db_instance",
            DBInstanceIdentifier=identifier,
            RotateMasterUserPassword=True,
            ApplyImmediately=True,
        )
        assert password(full_aws, arn) != new
        assert until(lambda: refused(plane, identifier, user, new))
        new = password(full_aws, arn)
        login(plane, identifier, user, new).close()
        after_hand = len(statuses)

        # On schedule: RDS's 7 days, scaled to about 20 s here, and those 20 s passed on the
        # data plane's clock rather than waited for; no call rotates it.
        move_clock(plane, Timings(SCALE).seconds("secret_rotation"))
        assert until(lambda: password(full_aws, arn) != new, seconds=40)
        assert until(lambda: refused(plane, identifier, user, new))
        time.sleep(2.0)
        stop.set()
        user_thread.join(30)

        assert len(statuses) > after_hand + 5  # and went on using it until the end
        assert statuses[after_hand:] == [200] * len(statuses[after_hand:])
        failed = [s for s in statuses if s != 200]
        assert failed == [], f"{len(failed)} of {len(statuses)} requests failed: {failed[:5]}"
    finally:
        tear_down.run(full_runbook(), tear_down.plan(full_runbook()))


# A stock app's way: the URL read once at start, a new connection for each piece of work.
# It works until the test has seen enough and stops it (StopTask): it ends well then, as a
# server ends on ECS's SIGTERM.
STOCK_APP = """
import os, signal, sys, time, psycopg2
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
url = os.environ["DATABASE_URL"]
assert ":" not in url.split("@")[0].removeprefix("postgresql://"), "a password in the URL"
assert "DB_PWD" not in os.environ
ends = time.monotonic() + 60
while time.monotonic() < ends:
    try:
        psycopg2.connect(url, connect_timeout=5).close()
        print("ok", flush=True)
    except psycopg2.OperationalError as exc:
        print("refused" if "password" in str(exc) else f"failed {exc}", flush=True)
    time.sleep(0.5)
"""


def enough(lines: list) -> bool:
    """More than 20 logins seen since the rotation."""
    return lines[lines.index("rotated") + 1 :].count("ok") > 20


def test_a_stock_app_reading_database_url_once_lives_through_a_rotation(
    default_aws, full_runbook, data_plane_emulator
) -> None:
    aws = default_aws
    name = f"url{os.getpid() % 100000}"
    settings = (
        Settings.for_deployment(name)
        .replace("database", instance_class="db.t4g.micro")
        .replace("app", database_env="DATABASE_URL")
    )
    runbook = full_runbook(aws=aws, settings=settings)
    try:
        summary = runbook.deploy()  # the Todo API too, behind the same wrapper
        assert summary.probe is not None and summary.probe.ok, summary
        db = aws.call("rds", "describe_db_instances", DBInstanceIdentifier=f"{name}-db")
        arn = db["DBInstances"][0]["MasterUserSecret"]["SecretArn"]
        svc = one_off.the_service(aws, settings)
        params = one_off.request(
            settings,
            svc["taskDefinition"],
            svc["networkConfiguration"],
            ["python", "-c", STOCK_APP],
            one_off.STARTED_BY,
        )
        # Its password file looked at every second here (every 30 s by default).
        params["overrides"]["containerOverrides"][0]["environment"] = [
            {"name": "RUNBOOK_PASSWORD_REFRESH_SECONDS", "value": "1"}
        ]
        task = one_off.start(aws, params)
        definition = aws.call(
            "ecs", "describe_task_definition", taskDefinition=svc["taskDefinition"]
        )
        lines: list = []
        stopped = False
        for item in one_off.follow(
            aws, settings, task, definition["taskDefinition"], sleep=time.sleep, poll=0.5, settle=0
        ):
            lines.append(item)
            if lines.count("ok") == 8 and not any(x == "rotated" for x in lines):
                aws.call("secretsmanager", "rotate_secret", SecretId=arn)
                lines.append("rotated")
            elif not stopped and "rotated" in lines and enough(lines):
                one_off.stop(aws, settings, task, "seen enough")
                stopped = True
        end = lines.pop()
        assert end.exit_code == 0, lines
        after = lines[lines.index("rotated") + 1 :]
        # libpq reads the file at each login: after a rotation (this one, and the schedule's
        # every ~20 s here) only the refresher's second may see a refusal, never a run of them.
        runs = "".join("r" if x == "refused" else "." for x in after).split(".")
        assert after.count("ok") > 20 and max(len(r) for r in runs) <= 3, lines
        assert not [x for x in lines if x.startswith("failed")], lines
    finally:
        tear_down.run(
            full_runbook(aws=aws, settings=settings),
            tear_down.plan(full_runbook(aws=aws, settings=settings)),
        )
