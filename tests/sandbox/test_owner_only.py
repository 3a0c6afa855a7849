"""The sandbox answers only its owner, tried as an attacker would, against a running background
sandbox: unsigned, wrongly signed, stale, cross-origin and wrong-Host requests are refused and
change nothing; another local user reads none of its files; starts at once leave one sandbox;
`sandbox stop` signals nothing it did not start."""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from runbook.sandbox import credentials, ensure_running, stop
from runbook.sandbox.account import new_credentials
from runbook.sandbox.background import gone, read_info
from runbook.sandbox.signature import sign
from todo_app.process_identity import start_ticks

TASK = {
    "family": "planted",
    "containerDefinitions": [
        {"name": "x", "image": "busybox", "memory": 64, "entryPoint": ["sh", "-c", "id"]}
    ],
}
ECS_TARGET = "AmazonEC2ContainerServiceV20141113.RegisterTaskDefinition"
SECRET = "the-owner's-secret-value"


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    """A folder any local user may enter (as a project folder often is)."""
    folder = Path(tempfile.mkdtemp(prefix="runbook-owner-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def sandbox(workdir: Path) -> Iterator[dict[str, Any]]:
    """A running background sandbox, with a secret of its owner's in it."""
    info = workdir / ".runbook" / "sandbox.json"
    url = ensure_running(info)
    keys = credentials(info)
    client = boto3.client("secretsmanager", "us-east-1", endpoint_url=url, **keys)
    client.create_secret(Name="owners", SecretString=SECRET)
    try:
        yield {"url": url, "info": info, "keys": keys, **(read_info(info) or {})}
    finally:
        stop(info)


def send(url: str, method: str, headers: dict[str, str], body: bytes = b"") -> tuple:
    """One raw request: (status, headers by lower-case name, body)."""
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.putrequest(method, "/", skip_host=True, skip_accept_encoding=True)
        for name, value in {"Content-Length": str(len(body)), **headers}.items():
            connection.putheader(name, value)
        connection.endheaders(body)
        answer = connection.getresponse()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
    finally:
        connection.close()


def ecs_headers(url: str, keys: dict[str, str] | None, **options: Any) -> dict[str, str]:
    headers = {
        "Host": url.removeprefix("http://"),
        "X-Amz-Target": ECS_TARGET,
        "Content-Type": "application/x-amz-json-1.1",
    }
    if keys is None:
        return headers
    return sign("POST", url + "/", keys, service="ecs", headers=headers, **options)


def registered(sandbox: dict[str, Any]) -> list[str]:
    ecs = boto3.client("ecs", "us-east-1", endpoint_url=sandbox["url"], **sandbox["keys"])
    return list(ecs.list_task_definitions()["taskDefinitionArns"])


def wrong_secret(keys: dict[str, str]) -> dict[str, str]:
    return {**keys, "aws_secret_access_key": new_credentials()["aws_secret_access_key"]}


BODY = json.dumps(TASK).encode()
# name -> (keys to sign with, minutes from now it is signed at, expected status, expected code)
REFUSED = {
    "unsigned": (None, 0, 403, "MissingAuthenticationTokenException"),
    "another key": ("other", 0, 403, "UnrecognizedClientException"),
    "the key with a wrong secret": ("wrong secret", 0, 403, "InvalidSignatureException"),
    "signed 16 minutes ago": ("owner", -16, 400, "RequestExpired"),
    "signed 16 minutes ahead": ("owner", 16, 400, "RequestExpired"),
}


@pytest.mark.parametrize("case", REFUSED)
def test_a_request_not_signed_with_its_keys_registers_nothing(
    sandbox: dict[str, Any], case: str
) -> None:
    signer, minutes, status, code = REFUSED[case]
    keys = {
        None: None,
        "other": new_credentials(),
        "wrong secret": wrong_secret(sandbox["keys"]),
        "owner": sandbox["keys"],
    }[signer]
    when = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)
    headers = ecs_headers(sandbox["url"], keys, body=BODY, when=when)
    got, answer_headers, body = send(sandbox["url"], "POST", headers, BODY)
    assert (got, json.loads(body)["__type"]) == (status, code), body
    assert answer_headers["x-amzn-errortype"] == code
    assert registered(sandbox) == []


def test_a_body_changed_after_signing_is_refused(sandbox: dict[str, Any]) -> None:
    headers = ecs_headers(sandbox["url"], sandbox["keys"], body=b'{"family": "innocent"}')
    got, _, body = send(sandbox["url"], "POST", headers, BODY)
    assert (got, json.loads(body)["__type"]) == (403, "InvalidSignatureException")
    assert registered(sandbox) == []


def test_the_owners_keys_register_and_read(sandbox: dict[str, Any]) -> None:
    """The control: signed with its keys, the same request is taken (then undone)."""
    headers = ecs_headers(sandbox["url"], sandbox["keys"], body=BODY)
    got, _, body = send(sandbox["url"], "POST", headers, BODY)
    assert got == 200, body
    ecs = boto3.client("ecs", "us-east-1", endpoint_url=sandbox["url"], **sandbox["keys"])
    (arn,) = registered(sandbox)
    ecs.deregister_task_definition(taskDefinition=arn)
    ecs.delete_task_definitions(taskDefinitions=[arn])


@pytest.mark.parametrize(
    ("service", "call", "code", "status"),
    [
        ("secretsmanager", "get_secret_value", "UnrecognizedClientException", 403),
        ("ec2", "describe_vpcs", "AuthFailure", 401),
        ("iam", "list_roles", "InvalidClientTokenId", 403),
        ("rds", "describe_db_instances", "InvalidClientTokenId", 403),
    ],
)
def test_each_protocol_answers_an_unknown_key_as_aws_does(
    sandbox: dict[str, Any], service: str, call: str, code: str, status: int
) -> None:
    client = boto3.client(service, "us-east-1", endpoint_url=sandbox["url"], **new_credentials())
    params = {"SecretId": "owners"} if service == "secretsmanager" else {}
    with pytest.raises(ClientError) as refused:
        getattr(client, call)(**params)
    error = refused.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == (code, status)
    assert SECRET not in str(error)


def test_a_wrong_secret_reads_no_secret(sandbox: dict[str, Any]) -> None:
    url = sandbox["url"]
    client = boto3.client(
        "secretsmanager", "us-east-1", endpoint_url=url, **wrong_secret(sandbox["keys"])
    )
    with pytest.raises(ClientError) as refused:
        client.get_secret_value(SecretId="owners")
    assert refused.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert SECRET not in str(refused.value.response)


def test_a_web_page_gets_no_answer_and_no_cors_grant(sandbox: dict[str, Any]) -> None:
    url = sandbox["url"]
    host = url.removeprefix("http://")
    preflight = {
        "Host": host,
        "Origin": "https://attacker.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "x-amz-target,content-type",
    }
    status, headers, _ = send(url, "OPTIONS", preflight)
    assert status == 403
    assert not [name for name in headers if name.startswith("access-control-")]
    # Even a signed request is refused when a page sends it (browsers add Origin).
    signed = ecs_headers(url, sandbox["keys"], body=BODY)
    status, headers, _ = send(url, "POST", {**signed, "Origin": "https://attacker.example"}, BODY)
    assert status == 403 and registered(sandbox) == []
    assert not [name for name in headers if name.startswith("access-control-")]
    # moto grants CORS on every answer: the owner's own answers carry none either.
    listing = {
        **ecs_headers(url, None),
        "X-Amz-Target": ECS_TARGET.replace("RegisterTaskDefinition", "ListClusters"),
    }
    status, headers, _ = send(
        url,
        "POST",
        sign("POST", url + "/", sandbox["keys"], service="ecs", headers=listing, body=b"{}"),
        b"{}",
    )
    assert status == 200
    assert not [name for name in headers if name.startswith("access-control-")]


def test_a_rebound_host_name_is_refused(sandbox: dict[str, Any]) -> None:
    """DNS rebinding: a page's own name, resolved to 127.0.0.1, keeps its name in Host."""
    url = sandbox["url"]
    port = url.rsplit(":", 1)[1]
    rebound = f"http://rebind.attacker.example:{port}"
    headers = sign(
        "POST",
        rebound + "/",
        sandbox["keys"],
        service="ecs",
        headers={**ecs_headers(url, None), "Host": f"rebind.attacker.example:{port}"},
        body=BODY,
    )
    status, _, body = send(url, "POST", headers, BODY)
    assert status == 421 and b"answers only as" in body
    assert registered(sandbox) == []


def test_its_files_are_its_owners_alone(sandbox: dict[str, Any], workdir: Path) -> None:
    folder = sandbox["info"].parent
    assert (folder.stat().st_mode & 0o777) == 0o700
    for file in folder.iterdir():
        assert (file.stat().st_mode & 0o777) == 0o600, file
    engine = Path(sandbox["folder"]) / "engine"  # the stand-in's keys, in the data folder
    assert (engine.stat().st_mode & 0o777) == 0o700
    assert ((engine / "credentials.json").stat().st_mode & 0o777) == 0o600
    assert sandbox["keys"]["aws_secret_access_key"] not in (folder / "sandbox.log").read_text()


@pytest.fixture
def intruder() -> Iterator[str]:
    """A second local user, made for the test."""
    if os.geteuid() != 0 or not shutil.which("useradd"):
        pytest.skip("making a second local user needs root and useradd")
    name = f"rbintruder{secrets.token_hex(3)}"
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
        check=True,
    )
    try:
        yield name
    finally:
        subprocess.run(["userdel", name], check=False)


def test_another_local_user_reads_none_of_it(
    sandbox: dict[str, Any], workdir: Path, intruder: str
) -> None:
    def reads(path: Path) -> bool:
        tried = subprocess.run(["cat", str(path)], user=intruder, capture_output=True)
        return tried.returncode == 0

    readable = workdir / "README.txt"  # the control: the folder itself is open to them
    readable.write_text("anyone may read this")
    readable.chmod(0o644)
    assert reads(readable)
    folder = sandbox["info"].parent
    for name in ("sandbox-credentials.json", "sandbox.json", "sandbox.log"):
        assert not reads(folder / name), name
    assert not reads(Path(sandbox["folder"]) / "engine" / "credentials.json")
    listed = subprocess.run(["ls", str(folder)], user=intruder, capture_output=True)
    assert listed.returncode != 0


def _serving(folder: Path) -> list[int]:
    """The sandbox processes (python -m runbook.sandbox serve) started in `folder`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            ours = b"runbook.sandbox" in argv and b"serve" in argv
            if ours and not gone(int(entry.name)) and Path(os.readlink(entry / "cwd")) == folder:
                found.append(int(entry.name))
    return found


def test_starts_at_the_same_time_leave_one_sandbox(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "runbook.cli", "sandbox", "start"]
    starts = [
        subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, text=True) for _ in range(3)
    ]
    try:
        said = [start.communicate(timeout=120)[0] for start in starts]
        assert [start.returncode for start in starts] == [0, 0, 0], said
        url = (read_info(tmp_path / ".runbook" / "sandbox.json") or {})["url"]
        assert all(url in line for line in said), said
        assert len(_serving(tmp_path)) == 1
    finally:
        subprocess.run([*command[:-1], "stop"], cwd=tmp_path, check=False)
    assert _serving(tmp_path) == []


def test_stop_signals_no_process_it_did_not_start(tmp_path: Path) -> None:
    stranger = subprocess.Popen(["sleep", "120"])
    data = tmp_path / "precious"
    data.mkdir()
    try:
        ticks = start_ticks(stranger.pid)
        info = tmp_path / ".runbook" / "sandbox.json"
        info.parent.mkdir()
        for fake in (
            # a sandbox.json naming it as the sandbox, its start time right
            {"pid": stranger.pid, "process_start": ticks, "folder": str(data)},
            # ... or as a process the sandbox started, the sandbox itself long gone
            {
                "pid": 999_999_999,
                "process_start": 1,
                "pids": [stranger.pid],
                "process_starts": {str(stranger.pid): (ticks or 0) + 1},
                "folder": str(data),
                "folder_token": "guessed",
            },
        ):
            info.write_text(json.dumps(fake))
            stop(info, timeout=1)
            assert stranger.poll() is None, fake
            assert data.exists()
    finally:
        stranger.send_signal(signal.SIGKILL)
        stranger.wait()


def test_a_sandbox_that_dies_while_starting_is_reported_with_its_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "runbook.sandbox.background.SERVE",
        ["-c", "import sys; print('initdb failed: no such user'); sys.exit(3)"],
    )
    from runbook.sandbox import SandboxError

    with pytest.raises(SandboxError) as failed:
        ensure_running(tmp_path / ".runbook" / "sandbox.json", timeout=600)
    message = str(failed.value)
    assert "stopped while starting (exit 3)" in message
    assert "initdb failed: no such user" in message


def test_the_log_stays_within_its_size(tmp_path: Path) -> None:
    from runbook.sandbox.sandbox_log import RotatingLog

    log = RotatingLog(tmp_path / "sandbox.log", limit=1000, backups=2)
    for number in range(100):
        log.write(f"line {number:03d} {'x' * 40}\n".encode())
    log.close()
    kept = sorted(p.name for p in tmp_path.iterdir())
    assert kept == ["sandbox.log", "sandbox.log.1", "sandbox.log.2"]
    assert all((tmp_path / name).stat().st_size <= 1000 for name in kept)
    assert "line 099" in (tmp_path / "sandbox.log").read_text()
    assert "line 000" not in "".join((tmp_path / name).read_text() for name in kept)


HOSTILE = 'it\'s a "dir" $(touch PWNED) `touch PWNED2` ; touch PWNED3'


def test_no_character_of_a_path_in_a_shim_runs(tmp_path: Path) -> None:
    from runbook.sandbox.container_engine import install
    from runbook.sandbox.task_environment import python_shim
    from runbook.sandbox.timings import Timings

    folder = tmp_path / HOSTILE
    folder.mkdir()
    interpreter = folder / "python3"
    interpreter.symlink_to(sys.executable)
    shim = python_shim(folder / "bin", str(interpreter))
    ran = subprocess.run(
        [str(shim / "python"), "-c", "print('ran')"], cwd=tmp_path, capture_output=True, text=True
    )
    assert ran.stdout == "ran\n", ran.stderr
    engine = install(folder / "engine-bin", "http://127.0.0.1:9", folder / "store", Timings())
    refused = subprocess.run([str(engine), "pull"], cwd=tmp_path, capture_output=True, text=True)
    assert "is not a docker command" in refused.stderr
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith("PWNED")]


def test_the_engine_gets_no_secret_of_the_runbooks(monkeypatch: pytest.MonkeyPatch) -> None:
    from runbook.image.process import Command

    monkeypatch.setenv("RUNBOOK_DB_PASSWORD", "db-password-value")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIARUNBOOKS")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "runbooks-secret")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "runbooks-token")
    monkeypatch.setenv("DOCKER_HOST", "unix:///run/docker.sock")
    seen: list[str] = []
    script = "import json, os; print(json.dumps(sorted(os.environ)))"
    done = Command([sys.executable, "-c", script]).run(seen.append)
    names = json.loads("".join(seen))
    assert done.returncode == 0
    assert "DOCKER_HOST" in names and "PATH" in names
    assert not [n for n in names if n.startswith(("AWS_", "RUNBOOK_"))], names
