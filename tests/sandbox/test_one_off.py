"""One-off commands in the sandbox, for real: `runbook run` starts a task process from the
service's task definition (its image, environment, secrets), prints what it wrote and returns
its exit code; a release command runs before a new revision takes traffic, and a failing one
stops the deploy with the service left as it was."""

from __future__ import annotations

import pytest
from rich.console import Console

from runbook import destroy as tear_down
from runbook import one_off
from runbook.cli.commands import run as run_command
from runbook.errors import RunbookError
from runbook.steps.task_definition import task_definition_key


def run(runbook, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = run_command.run(Console(highlight=False), runbook, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def tasks_of(aws, settings) -> dict[str, str]:
    """The service's running task ARNs -> their revision."""
    arns = aws.call(
        "ecs", "list_tasks", cluster=settings.cluster.name, serviceName=settings.service.name
    )["taskArns"]
    found = aws.call("ecs", "describe_tasks", cluster=settings.cluster.name, tasks=arns)["tasks"]
    return {t["taskArn"]: t["taskDefinitionArn"] for t in found if t["lastStatus"] == "RUNNING"}


def the_service(aws, settings) -> dict:
    return aws.call(
        "ecs",
        "describe_services",
        cluster=settings.cluster.name,
        services=[settings.service.name],
    )["services"][0]


def test_run_prints_the_output_and_returns_the_exit_code_and_a_failing_release_stops_the_deploy(
    full_runbook, full_aws, settings, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        first = full_runbook()
        summary = first.deploy()
        assert summary.probe is not None and summary.probe.ok, summary
        capsys.readouterr()

        code, out, err = run(
            first, capsys, "--", "python", "-c", "import sys; print(42); sys.exit(3)"
        )
        assert (code, out) == (3, "42\n")
        assert "exited with code 3" in err
        # The service's environment and secrets, as its own tasks have them.
        code, out, _ = run(
            first,
            capsys,
            "--",
            "python",
            "-c",
            "import os; print(os.environ['DB_NAME'], len(os.environ['DB_PWD']) > 8)",
        )
        assert (code, out) == (0, "flask_todo True\n")
        # The entry point (bin/flask-run.sh) execs what it is given, as on AWS: a shell's 127.
        code, out, _ = run(first, capsys, "--", "no-such-program-here")
        assert code == 127 and "no-such-program-here" in out
        # Stopped midway (ctrl+c on `runbook run`): StopTask, SIGTERM, as ECS stops a task.
        svc = one_off.the_service(full_aws, settings)
        params = one_off.request(
            settings,
            svc["taskDefinition"],
            svc["networkConfiguration"],
            ["python", "-c", "import time; print('started', flush=True); time.sleep(120)"],
            one_off.STARTED_BY,
        )
        arn = one_off.start(full_aws, params)
        definition = full_aws.call(
            "ecs", "describe_task_definition", taskDefinition=svc["taskDefinition"]
        )["taskDefinition"]
        seen = []
        for item in one_off.follow(full_aws, settings, arn, definition, poll=0.2, settle=0):
            seen.append(item)
            if item == "started":
                one_off.stop(full_aws, settings, arn, "runbook run was interrupted")
        end = seen[-1]
        assert end.exit_code == 143 and "runbook run was interrupted" in end.reason, seen
        one_offs = full_aws.call(
            "ecs", "list_tasks", cluster=settings.cluster.name, desiredStatus="STOPPED"
        )["taskArns"]
        described = full_aws.call(
            "ecs", "describe_tasks", cluster=settings.cluster.name, tasks=one_offs, include=["TAGS"]
        )["tasks"]
        mine = [t for t in described if t.get("startedBy") == "fargate-runbook/run"]
        assert len(mine) == 4
        assert all(
            {"key": "fargate-runbook:deployment", "value": "flask-todo"} in t["tags"] for t in mine
        )

        # A release command that fails: the deploy stops before the service changes.
        before = tasks_of(full_aws, settings)
        revision_before = set(before.values())
        failing = settings.replace(
            "app", release_command=["python", "-c", "import sys; sys.exit(4)"]
        ).replace("task_definition", container_memory_reservation=301)  # a new revision
        second = full_runbook(settings=failing)
        with pytest.raises(RunbookError) as failed:
            second.deploy()
        assert "release command exited with code 4" in failed.value.problem.message
        assert tasks_of(full_aws, settings) == before  # the same tasks serve, untouched
        svc = the_service(full_aws, settings)
        assert {svc["taskDefinition"]} == revision_before
        assert len(svc["deployments"]) == 1

        # One that succeeds: the new revision rolls out after it.
        passing = failing.replace("app", release_command=["python", "-c", "print('migrated')"])
        third = full_runbook(settings=passing)
        third.deploy()
        svc = the_service(full_aws, settings)
        assert svc["taskDefinition"] == third.known[task_definition_key(passing)]
        assert svc["taskDefinition"] not in revision_before
    finally:
        tear_down.run(full_runbook(), tear_down.plan(full_runbook()))
