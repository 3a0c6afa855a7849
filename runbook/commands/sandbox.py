"""`runbook sandbox start|stop|status`, and what the other commands need from the sandbox."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from runbook import sandbox
from runbook.sandbox.timings import Timings

if TYPE_CHECKING:
    from rich.console import Console

# With instant timings nothing takes long: poll the emulator often, not at AWS's pace.
INSTANT_POLL = 0.25


def poll_sleep(timings: Timings) -> Callable[[float], None]:
    if timings.scale:
        return time.sleep
    return lambda seconds: time.sleep(min(seconds, INSTANT_POLL))


def still_running_note() -> str:
    known = sandbox.running()
    if not known:
        return ""
    return (
        f"The sandbox is still running in the background (pid {known['pid']}, "
        f"{known['url']}): it stops by itself after 30 minutes unused, or now with "
        "`runbook sandbox stop`."
    )


def run(console: Console, action: str, timings: Timings | None) -> int:
    if action == "start":
        try:
            url = sandbox.ensure_running(timings=timings)
        except sandbox.SandboxError as exc:
            console.print(f"[red]✗[/] {exc}")
            return 1
        known = sandbox.running() or {}
        console.print(
            f"The sandbox answers at {url} (timings {known.get('timings', '?')}, "
            f"data in {known.get('folder', '?')}, log in .runbook/sandbox.log); it takes only "
            "calls signed with its own keys (.runbook/sandbox-credentials.json, yours alone)."
        )
    elif action == "status":
        known = sandbox.running()
        if not known:
            console.print("No sandbox is running.")
            return 0
        console.print(
            f"The sandbox answers at {known['url']} (pid {known['pid']}, timings "
            f"{known.get('timings')}), running {len(known.get('pids', []))} processes."
        )
        for dns, url in (known.get("load_balancers") or {}).items():
            console.print(f"  {dns} -> {url}", highlight=False)
    elif sandbox.stop():
        console.print(
            "Stopped the sandbox: its tasks, listeners and databases, and removed its data."
        )
    else:
        console.print("No sandbox was running.")
    return 0
