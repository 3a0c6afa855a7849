"""awslogs as the sandbox ships it, and `runbook logs` reading it back through the API."""

from __future__ import annotations

import io
import subprocess
import time

import pytest
from rich.console import Console

from runbook.cli.commands.logs import run as logs_command
from runbook.log_tail import SinceError, parse_since
from runbook.sandbox.logs import LogSetupError, LogShipper, stream_name

OPTIONS = {"awslogs-group": "/ecs/flask-todo", "awslogs-stream-prefix": "todo-api"}


def test_the_stream_is_prefix_container_task() -> None:
    assert stream_name(OPTIONS, "todo-api", "abc") == "todo-api/todo-api/abc"
    assert stream_name({"awslogs-group": "g"}, "todo-api", "abc") == "abc"


def test_a_missing_group_stops_the_task_unless_it_may_be_created(aws) -> None:
    with pytest.raises(LogSetupError, match="ResourceInitializationError"):
        LogShipper(aws.client("logs"), OPTIONS, "todo-api", "t1").open()
    LogShipper(
        aws.client("logs"), {**OPTIONS, "awslogs-create-group": "true"}, "todo-api", "t1"
    ).open()
    assert aws.call("logs", "describe_log_streams", logGroupName="/ecs/flask-todo")["logStreams"]


def test_output_reaches_cloudwatch_in_order_and_logs_reads_it(aws, settings) -> None:
    aws.call("logs", "create_log_group", logGroupName=settings.cluster.log_group)
    shipper = LogShipper(aws.client("logs"), OPTIONS, "todo-api", "task1234abcd")
    shipper.open()
    process = subprocess.Popen(
        ["sh", "-c", "for i in 1 2 3; do echo line $i; done; echo oops >&2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    shipper.follow(process.stdout)
    process.wait()
    shipper.close()
    events = aws.call(
        "logs",
        "get_log_events",
        logGroupName="/ecs/flask-todo",
        logStreamName="todo-api/todo-api/task1234abcd",
        startFromHead=True,
    )["events"]
    assert [e["message"] for e in events] == ["line 1", "line 2", "line 3", "oops"]
    out = io.StringIO()
    assert logs_command(Console(file=out, width=200), aws, settings, since="5m", follow=False) == 0
    lines = out.getvalue().splitlines()
    assert [line.split(" ", 2)[2] for line in lines] == ["line 1", "line 2", "line 3", "oops"]
    assert all(line.split(" ")[1] == "task1234" for line in lines)


def test_logs_without_a_group_says_which_section_makes_it(aws, settings) -> None:
    out = io.StringIO()
    assert logs_command(Console(file=out), aws, settings, since="1h", follow=False) == 1
    assert "section III" in out.getvalue()


def test_since_takes_durations_and_times() -> None:
    now = 1_700_000_000.0
    assert parse_since("10m", now) == int((now - 600) * 1000)
    assert parse_since("2h", now) == int((now - 7200) * 1000)
    assert parse_since("2023-11-14T22:13:20+00:00", now) == 1_700_000_000_000
    with pytest.raises(SinceError, match="30s, 10m, 2h, 1d"):
        parse_since("yesterday", time.time())
