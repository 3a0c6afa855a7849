"""`runbook sandbox start|stop|status`: the background local AWS that --sandbox runs in."""

from __future__ import annotations

from typing import TYPE_CHECKING

from runbook.cli import target

if TYPE_CHECKING:
    from rich.console import Console

    from runbook.cli.target import Timings


def run(console: Console, action: str, timings: Timings | None) -> int:
    if action == "start":
        try:
            url, known = target.start_sandbox(timings)
        except target.SandboxError as exc:
            console.print(f"[red]✗[/] {exc}")
            return 1
        console.print(
            f"The sandbox answers at {url} (timings {known.get('timings', '?')}, "
            f"data in {known.get('folder', '?')}, log in .runbook/sandbox.log); it takes only "
            "calls signed with its own keys (.runbook/sandbox-credentials.json, yours alone)."
        )
    elif action == "status":
        running = target.running_sandbox()
        if not running:
            console.print("No sandbox is running.")
            return 0
        console.print(
            f"The sandbox answers at {running['url']} (pid {running['pid']}, timings "
            f"{running.get('timings')}), running {len(running.get('pids', []))} processes."
        )
        for dns, url in (running.get("load_balancers") or {}).items():
            console.print(f"  {dns} -> {url}", highlight=False)
    elif target.stop_sandbox():
        console.print(
            "Stopped the sandbox: its tasks, listeners and databases, and removed its data."
        )
    else:
        console.print("No sandbox was running.")
    return 0
