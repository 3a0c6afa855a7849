"""`runbook deploy [--yes]`: the preflight's findings, then every section in order, each
confirmed after showing its calls, then the address, the targets' health and a probe.
(`--plain` is the line prompts' walk: runbook/cli/prompts.py.)"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from runbook.cli.codes import BAD_INPUT, FAILED, OK

if TYPE_CHECKING:
    from rich.console import Console

    from runbook.engine import EngineFor, Runbook
    from runbook.plan import Action


def _preflight(console: Console, runbook: Runbook, *, assume_yes: bool) -> int | None:
    """None: go on; else the exit status (2 when what stops it is the person's input)."""
    from rich.prompt import Confirm

    from runbook.cli import render

    found = runbook.preflight()
    render.findings(console, found)
    errors = [f for f in found if f.level == "error"]
    if errors:
        return BAD_INPUT if all(f.bad_input for f in errors) else FAILED
    for finding in found:
        if not (finding.fix and finding.level == "warning"):
            continue
        question = f"Apply the fix: {finding.fix.description}?"
        if assume_yes or Confirm.ask(question, console=console, default=True):
            runbook.use_settings(finding.fix.apply(runbook.settings))
            console.print(f"  [green]applied:[/] {finding.fix.description}")
    return None


def run(console: Console, engine_for: EngineFor, *, assume_yes: bool) -> int:
    from runbook.cli.render import Progress

    progress = Progress(console)
    with engine_for(progress) as runbook:
        return _deploy_with(console, runbook, progress, assume_yes=assume_yes)


def _deploy_with(console: Console, runbook: Runbook, progress: Any, *, assume_yes: bool) -> int:
    from rich.prompt import Confirm

    from runbook.cli import render

    stopped = _preflight(console, runbook, assume_yes=assume_yes)
    if stopped is not None:
        return stopped

    def confirm(step: Any, actions: list[Action]) -> bool:
        if assume_yes:
            return True
        progress.close()
        console.print(
            render.plan_table(
                runbook.rows(actions),
                title=f"{step.number}. {step.title}: calls to make",
                width=console.width,
            )
        )
        render.changes(console, runbook.differences(step))
        return Confirm.ask("Run this section?", console=console, default=True)

    try:
        result = runbook.deploy(confirm)
    finally:
        progress.close()
    render.summary(console, result)
    render.next_steps(console, runbook.next_steps())
    return OK
