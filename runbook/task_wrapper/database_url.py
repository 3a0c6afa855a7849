"""The task definition's side of database_env.py: its source, given to `python -c` ahead of
the app's entry point, and the variable naming the URL's variable."""

from __future__ import annotations

import json
from pathlib import Path

SOURCE = (Path(__file__).parent / "database_env.py").read_text()
# `--` ends python's own options: what follows is the app's command line.
ENTRY_POINT = ("python", "-c", SOURCE, "--")
URL_ENV = "RUNBOOK_DATABASE_URL_ENV"
PARTS_ENV = "RUNBOOK_DATABASE_PARTS"


def environment(url_env: str, parts: dict[str, str]) -> list[dict[str, str]]:
    """What tells the wrapper where to put the URL and the parts (names only, no secret)."""
    found = [{"name": URL_ENV, "value": url_env}] if url_env else []
    if parts:
        found.append({"name": PARTS_ENV, "value": json.dumps(parts, sort_keys=True)})
    return found
