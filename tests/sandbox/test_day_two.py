"""Day two with the data plane: a rollback serves the old revision's tasks again, through the
load balancer; a redeploy whose tasks cannot start is reversed by the circuit breaker, and
explained."""

from __future__ import annotations

import argparse
import http.client
import io
from functools import partial

import pytest
from rich.console import Console

from runbook import day_two, day_two_run
from runbook import destroy as tear_down
from runbook.aws import Aws
from runbook.cli.commands import day_two as day_two_command
from runbook.errors import RunbookError
from tests.sandbox.test_dataplane import service, until

CLUSTER, SERVICE = "flask-todo-cluster", "flask-todo-service"


def get(url: str, path: str) -> tuple[int, str]:
    """Status and the app's server of a GET through the load balancer's local listener."""
    host, _, port = url.removeprefix("http://").partition(":")
    connection = http.client.HTTPConnection(host, int(port or 80), timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        # The listener names itself (awselb/2.0) beside the app's own Server header.
        servers = response.getheader("Server", "").split(", ")
        app = next((s for s in servers if not s.startswith("awselb")), "")
        return response.status, app.split("/")[0]
    finally:
        connection.close()


def serving(aws: Aws) -> tuple[set[str], set[str]]:
    """The revisions of the running tasks, and whether the healthy targets are exactly them."""
    ecs = aws.client("ecs")
    arns = ecs.list_tasks(cluster=CLUSTER, desiredStatus="RUNNING")["taskArns"]
    tasks = ecs.describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"] if arns else []
    running = [t for t in tasks if t["lastStatus"] == "RUNNING"]
    revisions = {t["taskDefinitionArn"].rsplit("/", 1)[-1] for t in running}
    addresses = {t["containers"][0]["networkInterfaces"][0]["privateIpv4Address"] for t in running}
    (lb,) = service(aws)["loadBalancers"]
    health = aws.call("elbv2", "describe_target_health", TargetGroupArn=lb["targetGroupArn"])
    healthy = {
        d["Target"]["Id"]
        for d in health["TargetHealthDescriptions"]
        if d["TargetHealth"]["State"] == "healthy"
    }
    return revisions, healthy ^ addresses  # empty: the targets are those tasks


def test_a_rollback_serves_the_old_revision_and_a_failed_redeploy_is_explained(
    full_runbook, full_aws, settings
) -> None:
    summary = full_runbook().deploy()
    assert summary.probe is not None and summary.probe.ok, summary
    url = summary.local_url
    assert get(url, "/healthz") == (200, "gunicorn")  # flask-todo:1, production

    # A release: flask-todo:2 runs Flask's development server.
    development = settings.replace("task_definition", flask_env="development")
    runbook = full_runbook(settings=development)
    for section in ("V", "VI"):
        runbook.apply(runbook.step(section))
    assert until(lambda: serving(full_aws) == ({"flask-todo:2"}, set()))
    assert get(url, "/healthz") == (200, "Werkzeug")

    # `runbook rollback --yes`, as the command line runs it: the rollout is shown as it goes.
    console = Console(file=io.StringIO(), width=120, highlight=False)
    args = argparse.Namespace(command="rollback", yes=True)
    # The command builds its own engine, printing the rollout as it goes.
    engine_for = partial(full_runbook, settings=development)
    assert day_two_command.run(console, lambda listener: engine_for(emit=listener), args) == 0
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert "Roll flask-todo-service back to flask-todo:1" in out
    assert "deployments:" in out and "IN_PROGRESS" in out  # seen rolling, not only the end
    assert "has reached a steady state" in out
    assert service(full_aws)["taskDefinition"].endswith("flask-todo:1")
    # The old revision's tasks are the load balancer's targets again, and they answer.
    assert serving(full_aws) == ({"flask-todo:1"}, set())
    assert get(url, "/healthz") == (200, "gunicorn")
    assert full_runbook().state.day_two["rollback"]["to"].endswith("flask-todo:1")  # as recorded

    # A redeploy whose new tasks cannot start (the secret they need is gone): the circuit
    # breaker fails it and rolls back; the runbook says why, in ECS's words.
    (db,) = full_aws.call("rds", "describe_db_instances")["DBInstances"]
    full_aws.call(
        "secretsmanager",
        "delete_secret",
        SecretId=db["MasterUserSecret"]["SecretArn"],
        ForceDeleteWithoutRecovery=True,
    )
    with pytest.raises(RunbookError) as failed:
        day_two_run.run(runbook, day_two.plan(runbook.aws, runbook.settings, "redeploy"))
    assert failed.value.problem.code == "ServiceNotStable"
    assert "circuit breaker" in failed.value.problem.message
    assert any("unable to pull secrets" in line for line in failed.value.details)
    # The tasks that were serving kept serving.
    assert get(url, "/healthz") == (200, "gunicorn")
    assert serving(full_aws)[0] == {"flask-todo:1"}
    teardown = full_runbook()
    tear_down.run(teardown, tear_down.plan(teardown))
