"""`runbook status --json`: the deployment's state for scripts, as one JSON object."""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runbook.engine import Runbook


def state(runbook: Runbook) -> dict[str, Any]:
    """url, targets (id, port, state, reason), the probe, and each section's resources."""
    observed = runbook.status()
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
            }
            for step, seen in observed
        ],
    }


def run(runbook: Runbook) -> int:
    print(json.dumps(state(runbook), indent=2, default=str))
    return 0
