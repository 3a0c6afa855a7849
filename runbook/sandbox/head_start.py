"""What the background sandbox starts before its slow imports: PostgreSQL's template.

Importing moto and the data plane takes the sandbox about two seconds of CPU before it can
answer; initdb takes about two more, in a process of its own. Started first, initdb runs on
the other core while the sandbox imports, and the first database of a deploy waits for it
less (or not at all).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from runbook.sandbox.database import Template

DEFAULT_MAJOR = 16  # the runbook's engine_version: its template is made ahead of time


def data_folder() -> Path:
    """A new folder for the sandbox's data, its owner's alone (0700)."""
    return Path(tempfile.mkdtemp(prefix="runbook-sandbox-"))


def template_in(folder: Path, major: int = DEFAULT_MAJOR) -> Template:
    """The template of `major` in the data folder: where the data plane keeps it."""
    return Template(folder / f"postgres-{major}", major)


def start_template(folder: Path) -> Template:
    """The default template, its initdb started now."""
    template = template_in(folder)
    template.prepare_in_background()
    return template


def abandon(folder: Path, template: Template) -> None:
    """The sandbox failed before its data plane took them over: end initdb, remove the folder."""
    template.cancel()
    shutil.rmtree(folder, ignore_errors=True)
