"""What the background sandbox starts before its slow imports: PostgreSQL's template.

Importing moto and the data plane takes the sandbox about two seconds of CPU before it can
answer; initdb takes about two more, in a process of its own. Started first, initdb runs on
the other core while the sandbox imports, and the first database of a deploy waits for it
less (or not at all).
"""

from __future__ import annotations

from runbook.sandbox.database import Template
from todo_app.server_home import ServerHome

DEFAULT_MAJOR = 16  # the runbook's engine_version: its template is made ahead of time


def start_template(home: ServerHome, major: int = DEFAULT_MAJOR) -> Template:
    """The template of `major` in `home`, its initdb started now."""
    template = Template(home, major)
    template.prepare_in_background()
    return template


def abandon(home: ServerHome, template: Template) -> None:
    """Nothing will use them (the sandbox failed, the tests ended): end initdb, remove the
    folder."""
    template.cancel()
    home.remove()
