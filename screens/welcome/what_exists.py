"""Which sections a saved run records as done that no longer exist (a reset sandbox, say).

Looked up as the engine discovers resources, by name and tag; the state file is only a hint.
"""

from __future__ import annotations

from runbook.engine import Runbook


def sections_gone(runbook: Runbook) -> list[str]:
    """The sections recorded done of which nothing of ours exists any more, in order.

    Each recorded-done section is discovered in the guide's order (a later section's lookup
    builds on an earlier one's). A section with something of ours still there is not gone:
    what it lacks is the engine's to fix when it runs, as on any resume.
    """
    if runbook.aws is None:
        return []
    gone = []
    for step in runbook.steps:
        if runbook.state.get(step.number).status != "done":
            continue
        seen = runbook.discover(step)
        if seen.resources and not any(r.exists and r.ours for r in seen.resources):
            gone.append(step.number)
    return gone
