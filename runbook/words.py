"""How the runbook words things: counts ("1 task", "2 tasks", never "task(s)"), and a
section's explanation in the settings' own values."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from runbook.settings import Settings


def count(n: int, word: str) -> str:
    """1 step, 2 steps: never "1 steps" or "call(s)"."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def explained(text: str, s: Settings) -> str:
    """A section's explanation, which names the guide's ports, with the settings' ports.

    The explanations are written with the guide's defaults (port 5000, 5432, HTTP:80);
    after the app's port was set to 8080 they must not still say 5000.
    """
    from runbook.settings import SecurityGroups, TaskDefinition

    guide, now = SecurityGroups(), s.security_groups
    container = TaskDefinition().container_name
    ports = {
        rf"\bport {guide.app_port}\b": f"port {now.app_port}",
        rf"\b{container}:{guide.app_port}\b": f"{s.task_definition.container_name}:{now.app_port}",
        rf"\btakes {guide.db_port}\b": f"takes {now.db_port}",
        rf"\bHTTP:{guide.listener_port}\b": f"HTTP:{now.listener_port}",
    }
    if s.app.folder:
        # The person's own app ([app], runbook init): its image says how it starts.
        ports[r"started by bin/flask-run\.sh"] = "started by its image's ENTRYPOINT and CMD"
        ports[r"\(the git commit of todo_app/,"] = f"(the git commit of {s.app.folder},"
    for pattern, value in ports.items():
        text = re.sub(pattern, value, text)
    return text
