"""`runbook status --json`: the deployment's state for scripts, as one JSON object."""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any

from runbook import destroy as tear_down

if TYPE_CHECKING:
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


def run(runbook: Runbook) -> int:
    print(json.dumps(state(runbook), indent=2, default=str))
    return 0
