"""The data plane in this process, for one account: AWS's slow parts on request, and tasks
replaced as ECS replaces them."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from runbook import destroy as tear_down
from runbook.events import Waiting
from runbook.sandbox import Timings


def service(aws: Any) -> dict[str, Any]:
    return aws.call(
        "ecs", "describe_services", cluster="flask-todo-cluster", services=["flask-todo-service"]
    )["services"][0]


def until(condition: Any, seconds: float = 60) -> Any:
    deadline = time.monotonic() + seconds
    while not (found := condition()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
    return found


@pytest.mark.parametrize("timings", [Timings.parse("aws:0.01")])
def test_aws_timings_make_the_slow_parts_slow(full_runbook, full_aws, timings) -> None:
    """With aws:0.01, RDS creates for about 4 s and the load balancer provisions for 1.5 s:
    the engine sees the states AWS shows, and waits, visibly."""
    events: list[Any] = []
    runbook = full_runbook(emit=events.append)
    for number in ("I", "II"):
        runbook.apply(runbook.step(number))
    lb = full_aws.call("elbv2", "describe_load_balancers", Names=["flask-todo-elb"])
    assert lb["LoadBalancers"][0]["State"]["Code"] == "provisioning"
    runbook.apply(runbook.step("III"))
    started = time.monotonic()
    runbook.apply(runbook.step("IV"))
    waited = time.monotonic() - started
    assert waited >= timings.seconds("db_creating") * 0.9
    waits = [e for e in events if isinstance(e, Waiting) and e.section == "IV"]
    assert len(waits) >= 2 and waits[-1].detail == "done" and waits[-1].elapsed >= 3
    lb = full_aws.call("elbv2", "describe_load_balancers", Names=["flask-todo-elb"])
    assert lb["LoadBalancers"][0]["State"]["Code"] == "active"


def test_a_task_that_dies_is_replaced_and_the_reason_shows(full_runbook, full_aws) -> None:
    summary = full_runbook().deploy()
    assert summary.probe is not None and summary.probe.ok, summary
    ecs = full_aws.client("ecs")
    (first,) = ecs.list_tasks(cluster="flask-todo-cluster", desiredStatus="RUNNING")["taskArns"]
    task = ecs.describe_tasks(cluster="flask-todo-cluster", tasks=[first])["tasks"][0]
    assert task["lastStatus"] == "RUNNING" and task["group"] == "service:flask-todo-service"
    address = task["containers"][0]["networkInterfaces"][0]["privateIpv4Address"]
    assert address.startswith("127.")
    pid = next(int(p) for p in os.listdir("/proc") if p.isdigit() and _is_task(int(p), first))
    environ = dict(
        line.split("=", 1)
        for line in Path(f"/proc/{pid}/environ").read_bytes().decode().split("\0")
        if "=" in line
    )
    folder = os.readlink(f"/proc/{pid}/cwd").removesuffix("/app")
    # The image's own code and CA bundle, inside the task's folder, not this checkout's.
    assert environ["PYTHONPATH"] == f"{folder}/app/src"
    assert environ["DB_SSLROOTCERT"] == f"{folder}/app/certs/rds-global-bundle.pem"
    assert environ["HOST"] == address and environ["PGHOSTADDR"].startswith("127.")
    os.kill(pid, signal.SIGKILL)  # the container dies
    stopped = until(
        lambda: [
            t
            for t in ecs.describe_tasks(cluster="flask-todo-cluster", tasks=[first])["tasks"]
            if t["lastStatus"] == "STOPPED"
        ]
    )[0]
    assert stopped["stoppedReason"] == "Essential container in task exited"
    assert stopped["containers"][0]["exitCode"] == 137
    replaced = until(
        lambda: [
            t
            for t in ecs.list_tasks(cluster="flask-todo-cluster", desiredStatus="RUNNING")[
                "taskArns"
            ]
            if t != first
        ]
    )
    assert replaced
    until(lambda: service(full_aws)["runningCount"] == 1)
    messages = [e["message"] for e in service(full_aws)["events"]]
    assert any(
        f"has started 1 tasks: (task {replaced[0].rsplit('/', 1)[-1]})" in m for m in messages
    )
    tear_down.run(full_runbook(), tear_down.plan(full_runbook()))


def _is_task(pid: int, task_arn: str) -> bool:
    """The task's main process: its working folder is the task's own."""
    try:
        return os.readlink(f"/proc/{pid}/cwd").endswith(
            f"tasks/{task_arn.rsplit('/', 1)[-1]}/app"
        ) and (os.getpgid(pid) == pid)
    except OSError:
        return False
