"""Releases in the sandbox, for real: a code change is built, pushed, registered and rolled
out, and the new code answers through the load balancer; a release that crashes at start is
stopped by the circuit breaker, rolled back, and explained, while the previous one serves."""

from __future__ import annotations

import http.client
import json
import shutil
from pathlib import Path

import pytest

from runbook import destroy as tear_down
from runbook.errors import RunbookError
from runbook.events import Rollout
from runbook.image import Build
from runbook.sandbox.image import SOURCE


def openapi_version(url: str) -> str:
    host, _, port = url.removeprefix("http://").partition(":")
    connection = http.client.HTTPConnection(host, int(port or 80), timeout=30)
    try:
        connection.request("GET", "/openapi.json", headers={"Host": "localhost"})
        return json.loads(connection.getresponse().read())["info"]["version"]
    finally:
        connection.close()


def test_a_code_change_rolls_out_and_a_crashing_one_is_rolled_back(
    full_runbook, full_aws, sandbox_engine, tmp_path: Path
) -> None:
    app = tmp_path / "todo_app"
    shutil.copytree(SOURCE, app, ignore=shutil.ignore_patterns("__pycache__"))
    openapi = app / "openapi.py"
    events: list = []

    def release(**overrides):
        return full_runbook(build=Build(app, sandbox_engine), emit=events.append, **overrides)

    try:
        first = release()
        summary = first.deploy()
        assert summary.probe is not None and summary.probe.ok, summary
        url = full_aws.url_for(summary.url)
        assert openapi_version(url) == "1.0.0"

        openapi.write_text(openapi.read_text().replace('"version": "1.0.0"', '"version": "1.1.0"'))
        events.clear()
        second = release()
        second.deploy()
        assert second.version != first.version
        assert openapi_version(url) == "1.1.0"  # the new code, through the load balancer
        rollouts = [e for e in events if isinstance(e, Rollout)]
        both = [r for r in rollouts if len(r.deployments) == 2]
        assert both, "the rollout showed old and new tasks side by side"
        assert [d.task_definition for d in both[0].deployments] == ["flask-todo:2", "flask-todo:1"]
        assert rollouts[-1].deployments[0].rollout == "COMPLETED"

        entry = app / "bin" / "flask-run.sh"  # a release that dies as it starts
        entry.write_text(entry.read_text().replace("set -eu\n", "set -eu\nexit 3\n", 1))
        third = release()
        with pytest.raises(RunbookError) as failed:
            third.deploy()
        problem = failed.value.problem
        assert problem.code == "ServiceNotStable"
        assert "circuit breaker" in problem.message
        assert "rolled the service back to flask-todo:2, which is running again" in problem.message
        assert any(
            "Essential container in task exited; todo-api: 3" in line
            for line in failed.value.details
        )
        assert openapi_version(url) == "1.1.0"  # the previous release serves on
        images = full_aws.call("ecr", "describe_images", repositoryName="flask-todo")
        tags = {t for i in images["imageDetails"] for t in i.get("imageTags", [])}
        assert tags == {first.version, second.version, third.version}  # none overwritten
    finally:
        tear_down.run(full_runbook(), tear_down.plan(full_runbook()))
