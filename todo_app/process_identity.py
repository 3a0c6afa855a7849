"""Which process a pid really is: its start time and command line, as /proc has them.

A pid in a file may since have ended and been reused by anything; signalling it then hits a
stranger. The start time (in clock ticks since boot) tells a process from a later one with
the same pid; the command line tells the sandbox from anything else.
"""

from __future__ import annotations

import contextlib
from pathlib import Path


def start_ticks(pid: int) -> int | None:
    """When the process started (clock ticks since boot), or None if there is no such process."""
    try:
        stat = Path(f"/proc/{int(pid)}/stat").read_text()
    except (OSError, ValueError):
        return None
    # The command name (field 2) may hold spaces and parentheses: count from its last ')'.
    fields = stat.rsplit(")", 1)[-1].split()
    with contextlib.suppress(IndexError, ValueError):
        return int(fields[19])  # field 22, starttime
    return None


def command_line(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{int(pid)}/cmdline").read_bytes()
    except (OSError, ValueError):
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def is_same(pid: object, ticks: object) -> bool:
    """The process `pid` is the very one that had started at `ticks` (both as recorded)."""
    if not isinstance(pid, int) or not isinstance(ticks, int) or pid <= 1:
        return False
    return start_ticks(pid) == ticks
