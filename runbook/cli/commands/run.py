"""`runbook run -- CMD ...`: a command in the deployment, as a one-off ECS task with the
service's image, environment, secrets and network; its output on stdout, its exit code ours.

What the runbook itself says goes to stderr, so `runbook run -- CMD > out` keeps only the
command's output. (The task: runbook/one_off.py.)
"""

from __future__ import annotations

import shlex
import sys
from typing import TYPE_CHECKING

from rich.text import Text

from runbook import one_off
from runbook.cli.codes import BAD_INPUT, INTERRUPTED

if TYPE_CHECKING:
    from rich.console import Console

    from runbook.engine import Runbook

# The command never ran (no image, no secret, no capacity): as `docker run` says it.
NOT_RUN = 125


def command_of(argv: list[str]) -> list[str]:
    """The words after `--` (argparse keeps the `--` itself in a REMAINDER)."""
    return argv[1:] if argv[:1] == ["--"] else argv


def run(console: Console, runbook: Runbook, argv: list[str]) -> int:
    from rich.console import Console

    told = Console(stderr=True, highlight=False)
    command = command_of(argv)
    if not command:
        told.print(
            Text.assemble(
                ("✗ ", "red"),
                "Name the command to run after --, e.g. `runbook run -- python -m app.migrate`.",
            )
        )
        return BAD_INPUT
    aws, s = runbook.aws, runbook.settings
    assert aws is not None
    svc = one_off.the_service(aws, s)
    revision = svc["taskDefinition"]
    definition = aws.call("ecs", "describe_task_definition", taskDefinition=revision)
    params = one_off.request(s, revision, svc["networkConfiguration"], command, one_off.STARTED_BY)
    arn = one_off.start(aws, params)
    told.print(
        Text(
            f"· {shlex.join(command)}: one-off task {arn.rsplit('/', 1)[-1]} of "
            f"{revision.rsplit('/', 1)[-1]}, in {s.service.name}'s network",
            style="dim",
        ),
        soft_wrap=True,
    )
    try:
        for item in one_off.follow(
            aws,
            s,
            arn,
            definition["taskDefinition"],
            sleep=runbook.sleep,
            clock=runbook.clock,
            # The sandbox sends a task's last lines before it reports it STOPPED.
            settle=0.0 if runbook.sandbox else one_off.LOG_SETTLE_SECONDS,
        ):
            if isinstance(item, one_off.Finished):
                return _ended(told, item)
            console.print(item, markup=False, highlight=False, soft_wrap=True)
            sys.stdout.flush()
    except KeyboardInterrupt:
        one_off.stop(aws, s, arn, "runbook run was interrupted")
        told.print(f"\n[yellow]Interrupted:[/] the task {arn.rsplit('/', 1)[-1]} is stopping.")
        return INTERRUPTED
    raise AssertionError("follow() ends with how the task finished")


def _ended(told: Console, end: one_off.Finished) -> int:
    if end.ran:
        if end.exit_code:
            told.print(Text(f"· exited with code {end.exit_code}", style="dim"))
        return int(end.exit_code or 0)
    told.print(
        Text.assemble(("✗ ", "red"), f"The command did not run: {end.reason or 'no reason given'}"),
        soft_wrap=True,
    )
    return NOT_RUN
