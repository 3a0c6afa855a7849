"""`runbook status [--json]`: each section's resources and their state, the settings that
matter next to what AWS has, what else carries the deployment's tag, and the targets' health;
with --json, the same for scripts as one JSON object."""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any

from rich.text import Text

from runbook import destroy as tear_down
from runbook.cli.codes import OK

if TYPE_CHECKING:
    from rich.console import Console

    from runbook.engine import Runbook


def state(runbook: Runbook) -> dict[str, Any]:
    """url, targets (id, port, state, reason), the probe, each section's resources and the
    settings that matter, and what carries the deployment's tag under another name."""
    status = tear_down.status(runbook)
    summary = runbook.summary()
    return {
        "target": runbook.aws.label if runbook.aws else "",
        "deployment": runbook.settings.deployment.name,
        "url": summary.url,
        "local_url": summary.local_url,
        "dns_name": summary.dns_name,
        "targets": [dataclasses.asdict(t) for t in summary.targets],
        "probe": dataclasses.asdict(summary.probe) if summary.probe else None,
        "notes": summary.notes,
        "sections": [
            {
                "number": step.number,
                "title": step.title,
                "status": runbook.state.get(step.number).status,
                "resources": [
                    {**dataclasses.asdict(r), "exists": r.exists} for r in seen.resources
                ],
                "settings": [
                    {
                        "label": f.label,
                        "current": f.current,
                        "wanted": f.wanted,
                        "differs": f.differs,
                    }
                    for f in runbook.facts(step)
                ],
            }
            for step, seen in status.sections
        ],
        # Ours by tag, under names the settings no longer give: destroy removes them too.
        "also_ours": [
            {"kind": t.kind, "name": t.name, "id": t.id, "state": t.state} for t in status.leftovers
        ],
        "not_looked_at_by_tag": status.unchecked,
    }


def run_json(runbook: Runbook) -> int:
    print(json.dumps(state(runbook), indent=2, default=str))
    return 0


def run(console: Console, runbook: Runbook) -> int:
    from runbook.cli import render

    status = tear_down.status(runbook)
    console.print(render.status_table(status.sections))
    render.facts(console, [f for step, _ in status.sections for f in runbook.facts(step)])
    render.leftovers(console, status.leftovers, status.unchecked)
    for step, _ in status.sections:
        entry = runbook.state.get(step.number)
        if entry.status == "failed":
            console.print(
                Text.assemble(
                    (f"{step.number}. {step.title} failed last time: ", "red"), entry.error
                ),
                soft_wrap=True,
            )
    render.summary(console, runbook.summary())
    return OK
