"""`runbook plan [--json] [--offline] [--full]`: every call a deploy would make now, checked
against botocore's models and AWS's documented rules, and every setting that differs."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

from runbook.cli.codes import BAD_INPUT, FAILED, OK

if TYPE_CHECKING:
    from rich.console import Console

    from runbook.engine import Runbook
    from runbook.plan import Action


def run(console: Console, runbook: Runbook, *, as_json: bool, full: bool) -> int:
    from runbook.model_check import check

    actions: list[Action] = []
    changes = []
    for step in runbook.steps:
        actions += runbook.plan(step)
        changes += runbook.differences(step)
    problems = [f"{a.service}.{a.operation}: {p}" for a in actions if (p := check(a))]
    rows = runbook.rows(actions)
    if as_json:
        print(json.dumps(rows, indent=2, default=str))
    else:
        from runbook.cli import render

        where = runbook.aws.label if runbook.aws else "offline: as if nothing exists yet"
        console.print(
            render.plan_table(rows, title=f"Plan ({where})", full=full, width=console.width)
        )
        render.changes(console, changes)
        if not rows and not changes:
            console.print("[green]Nothing to change:[/] everything already matches the settings.")
        elif rows:
            mutating = sum(1 for a in actions if getattr(a, "mutating", False))
            console.print(
                f"{render.count(len(rows), 'step')}, {mutating} of them change something; "
                "every call checked against botocore's service models and AWS's documented "
                "rules. <name.Attr> is a value known only once the call that makes it has run "
                "(checked then)."
            )
    for problem in problems:
        print(f"invalid call: {problem}", file=sys.stderr)
    if _report_refused(console, rows, to_stderr=as_json):
        return BAD_INPUT
    return FAILED if problems else OK


def _report_refused(console: Console, rows: list[dict[str, Any]], *, to_stderr: bool) -> bool:
    """Say which calls AWS would refuse, why and what to do; True if any would be."""
    from rich.console import Console as RichConsole

    from runbook.cli import render

    refused = [row for row in rows if row.get("refused")]
    if refused:
        render.refused(RichConsole(stderr=True) if to_stderr else console, refused)
    return bool(refused)
