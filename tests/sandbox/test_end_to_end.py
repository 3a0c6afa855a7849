"""The sandbox runs the deployment for real, end to end, through the command line.

`runbook deploy --yes --sandbox` starts the background sandbox (emulator and data plane) and
ends with healthy targets and a 200 through the local URL; the Todo API's contract holds
there; a redeploy with a changed setting replaces the tasks; a release whose task exits
trips the circuit breaker, rolls back and is explained; destroy and `runbook sandbox stop`
leave no process and no data behind.
"""

from __future__ import annotations

import http.client
import inspect
import json
import time
from pathlib import Path
from typing import Any

import pytest

from runbook import sandbox
from runbook.aws import Aws
from runbook.cli import main
from runbook.cli.target import poll_sleep
from runbook.engine import Runbook
from runbook.errors import RunbookError
from runbook.sandbox.background import gone, read_info
from runbook.sandbox.timings import Timings
from runbook.settings import load
from runbook.state import StateFile
from tests.todo_app import test_todo_contract as contract

CONFIG = '[database]\ninstance_class = "db.t4g.micro"\n'
BIGGER = CONFIG + '[task_definition]\ncpu = "512"\nmemory = "1024"\n'


class Answer:
    """What the contract tests read of a response (as Flask's test client gives it)."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status_code, self.headers, self._body = status, headers, body

    def get_json(self) -> Any:
        return json.loads(self._body) if self._body else None

    def get_data(self, as_text: bool = False) -> Any:
        return self._body.decode() if as_text else self._body


class ThroughTheLoadBalancer:
    """The Todo API's clients, unchanged, sending real HTTP to the sandbox's listener.

    Host is `localhost` as in Flask's test client, so the URLs the API builds (from the Host
    the load balancer passes on) are the ones the contract tests expect.
    """

    def __init__(self, url: str) -> None:
        self.host, _, port = url.removeprefix("http://").partition(":")
        self.port = int(port or 80)

    def open(self, method: str, path: str, **kwargs: Any) -> Answer:
        headers = {"Host": "localhost", **kwargs.get("headers", {})}
        body = kwargs.get("data")
        if "json" in kwargs:
            body = json.dumps(kwargs["json"]).encode()
            headers["Content-Type"] = "application/json"
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return Answer(response.status, dict(response.getheaders()), response.read())
        finally:
            connection.close()

    def get(self, path: str, **kwargs: Any) -> Answer:
        return self.open("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Answer:
        return self.open("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Answer:
        return self.open("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Answer:
        return self.open("DELETE", path, **kwargs)


def contract_tests() -> list[Any]:
    """The contract's tests that take only a client, except the one that plays a proxy
    sending X-Forwarded-Proto itself (the load balancer sets that header, as ALB does)."""
    return [
        test
        for name, test in inspect.getmembers(contract, inspect.isfunction)
        if name.startswith("test_")
        and list(inspect.signature(test).parameters) == ["client"]
        and "scheme_and_host" not in name
    ]


def run(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> tuple[int, str]:
    code = main([*args, "--sandbox", "--config", str(config)])
    return code, capsys.readouterr().out


def service(aws: Aws) -> dict[str, Any]:
    return aws.call(
        "ecs", "describe_services", cluster="flask-todo-cluster", services=["flask-todo-service"]
    )["services"][0]


def running_tasks(aws: Aws) -> set[str]:
    arns = aws.call("ecs", "list_tasks", cluster="flask-todo-cluster", desiredStatus="RUNNING")
    return set(arns["taskArns"])


def databases_left(folder: Path) -> list[Path]:
    """PostgreSQL servers still running in the sandbox's folder (their postmaster.pid)."""
    while True:
        try:
            return list(folder.rglob("postmaster.pid"))
        except FileNotFoundError:
            # A data folder removed while the walk was in it: destroy is still tidying up.
            time.sleep(0.1)


def test_deploy_serve_redeploy_fail_and_leave_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # the background sandbox's info file lives here
    config = tmp_path / "runbook.toml"
    config.write_text(CONFIG)
    started: set[int] = set()
    try:
        code, out = run(capsys, config, "deploy", "--yes", "--log", "events.jsonl")
        assert code == 0, out
        assert "HTTP 200" in out
        info = read_info(tmp_path / sandbox.INFO_FILE)
        assert info is not None
        started |= {info["pid"]}
        lines = [json.loads(x) for x in (tmp_path / "events.jsonl").read_text().splitlines()]
        assert {"StepStarted", "CallMade", "Waiting", "StepFinished"} <= {x["event"] for x in lines}

        code, out = run(capsys, config, "deploy", "--yes")  # again: it only looks
        assert code == 0 and "create_" not in out, out

        code, out = run(capsys, config, "status", "--json")
        state = json.loads(out)
        assert state["probe"]["ok"] and state["local_url"].startswith("http://127.")
        assert [t["state"] for t in state["targets"]] == ["healthy"]
        assert {"id", "port", "state", "reason"} <= set(state["targets"][0])
        assert all(r["exists"] for s in state["sections"][:6] for r in s["resources"])

        client = ThroughTheLoadBalancer(state["local_url"])
        for test in contract_tests():
            assert client.delete("/todos").status_code == 204
            test(client)
        kept = client.post("/todos", json={"title": "kept across releases"}).get_json()

        aws = Aws(
            "us-east-1",
            endpoint_url=info["url"],
            credentials=sandbox.credentials(tmp_path / sandbox.INFO_FILE),
            load_balancer_url=lambda host: sandbox.local_url(host, tmp_path / sandbox.INFO_FILE),
        )
        first = running_tasks(aws)
        started |= set(read_info(tmp_path / sandbox.INFO_FILE)["pids"])

        config.write_text(BIGGER)  # a changed setting: a new revision, new tasks
        code, out = run(capsys, config, "deploy", "--yes")
        assert code == 0, out
        assert service(aws)["taskDefinition"].endswith(":2")
        assert running_tasks(aws).isdisjoint(first)
        assert client.get(f"/todos/{kept['id']}").status_code == 200  # the data stayed
        started |= set(read_info(tmp_path / sandbox.INFO_FILE)["pids"])

        # FLASK_ENV=staging passes no validation of the CLI's; the engine takes it, and
        # bin/flask-run.sh refuses it (exit 2), as a broken release would.
        broken = load(config).replace("task_definition", flask_env="staging")
        engine = Runbook(
            broken,
            aws,
            StateFile(tmp_path / "broken-state.json"),
            sandbox=True,
            sleep=poll_sleep(Timings()),
        )
        with pytest.raises(RunbookError) as failed:
            engine.deploy()
        assert failed.value.problem.code == "ServiceNotStable"
        assert "circuit breaker" in failed.value.problem.message
        assert any(
            "Essential container in task exited; todo-api: 2" in line
            for line in failed.value.details
        )
        svc = service(aws)
        assert svc["taskDefinition"].endswith(":2")  # rolled back to the last good one
        assert any("rolling back" in e["message"] for e in svc["events"])
        deadline = time.monotonic() + 60
        while service(aws)["deployments"][0]["rolloutState"] != "COMPLETED":
            assert time.monotonic() < deadline, "the rollback never completed"
            time.sleep(0.2)
        assert client.get("/healthz").status_code == 200

        code, out = run(capsys, config, "logs", "--since", "10m")
        assert code == 0
        assert "FLASK_ENV must be production or development, not 'staging'" in out
        assert '"path":"/todos"' in out.replace(" ", "")
        started |= set(read_info(tmp_path / sandbox.INFO_FILE)["pids"])

        code, out = run(capsys, config, "destroy", "--dry-run")
        assert code == 0 and "DeleteService" in out, out
        code, out = run(capsys, config, "destroy", "--yes")
        assert code == 0, out
        assert "Deleted everything" in out
        serve = info["pid"]
        deadline = time.monotonic() + 30
        while not all(gone(pid) for pid in started - {serve}):
            assert time.monotonic() < deadline, "destroy left tasks or databases running"
            time.sleep(0.1)
        assert not databases_left(Path(info["folder"]))
        code, out = run(capsys, config, "status")
        # Only ECS's service-linked role remains: it belongs to the account, not to us.
        assert out.count("exists") == 1 and "(not ours)" in out, out
        assert "available" not in out and "ACTIVE" not in out
    finally:
        main(["sandbox", "stop"])
    assert all(gone(pid) for pid in started)
    assert not Path(info["folder"]).exists()
    assert sandbox.running(tmp_path / sandbox.INFO_FILE) is None
