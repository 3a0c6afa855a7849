"""`runbook export [--output FILE] [--format yaml|json]`: write the template, or say why not."""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console

from runbook.cli import render
from runbook.cli.codes import BAD_INPUT, OK
from runbook.engine import Runbook
from runbook.export import dump, offline_plan, template


def run(console: Console, runbook: Runbook, *, output: Path | None, fmt: str) -> int:
    settings = runbook.settings
    actions = offline_plan(settings)
    refused = [row for row in runbook.rows(actions) if row["refused"]]
    if refused:
        # As `runbook plan` does: the template would hold calls AWS refuses.
        render.refused(Console(stderr=True), refused, "no template was written")
        return BAD_INPUT
    text = dump(template(settings, actions, runbook.version), fmt)
    if output is None:
        sys.stdout.write(text)
        return OK
    output.write_text(text)
    name = settings.deployment.name
    console.print(
        f"Wrote {output}: the {name} deployment as a CloudFormation template (no secret in it). "
        "Create the stack with:",
        highlight=False,
    )
    params = "VpcId=<vpc-id> Subnets=<subnet-a>,<subnet-b>"
    if settings.domain.name:
        params += " HostedZoneId=<zone-id>"
    if settings.master_password is not None:
        params += " DBPassword=<your password>"
    console.print(
        f"  aws cloudformation deploy --template-file {output} --stack-name {name} "
        f"--capabilities CAPABILITY_NAMED_IAM --parameter-overrides {params}",
        highlight=False,
        soft_wrap=True,
    )
    return OK
