"""The task definition's side of database_env.py: its source, given to `python -c` ahead of
the app's entry point, and the variable naming the URL's variable."""

from __future__ import annotations

from pathlib import Path

SOURCE = (Path(__file__).parent / "database_env.py").read_text()
# `--` ends python's own options: what follows is the app's command line.
ENTRY_POINT = ("python", "-c", SOURCE, "--")
URL_ENV = "RUNBOOK_DATABASE_URL_ENV"
