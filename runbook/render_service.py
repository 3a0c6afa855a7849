"""The running service as text lines: deployments, tasks, events (the CLI and the app share them).

Plain lines, not tables: a stopped task's reason or an event's message wraps under its row at
any width, 60 columns included. Times are UTC, as `runbook logs` prints them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from rich.text import Text

from runbook.service_status import ServiceStatus

# A line that belongs to the row above: Textual drops a wrapped line's leading spaces.
UNDER = "\u00a0\u00a0↳ "
ROLLOUT_STYLE = {"COMPLETED": "green", "IN_PROGRESS": "yellow", "FAILED": "bold red"}
TASK_STYLE = {"RUNNING": "green", "STOPPED": "dim", "DEACTIVATING": "yellow", "STOPPING": "yellow"}
HEALTH_STYLE = {"healthy": "green", "unhealthy": "red", "initial": "yellow", "draining": "yellow"}


def clock(when: datetime | None) -> str:
    if when is None:
        return "--:--:--"
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%H:%M:%S")


def headline(status: ServiceStatus) -> Text:
    """flask-todo-service · ACTIVE · 2 of 2 running · flask-todo:5"""
    if not status.exists:
        return Text(f"{status.name}: no service yet (section VI makes it)", style="dim")
    text = Text(status.name, style="bold")
    text.append(f" · {status.status} · {status.running} of {status.desired} running")
    if status.pending:
        text.append(f", {status.pending} pending", style="yellow")
    text.append(f" · {status.revision}")
    return text


def _one_a_line(lines: list[Text]) -> Text:
    """Each on a line of its own (folded, never cut off), or a dim "none"."""
    text = Text(overflow="fold")
    for line in lines:
        text.append_text(line)
        text.append("\n")
    if not lines:
        text.append("none", style="dim")
    text.rstrip()
    return text


def deployments(status: ServiceStatus) -> Text:
    """status, revision, rollout state, then the counts: the state never wraps away."""
    lines: list[Text] = []
    width = max((len(d.revision) for d in status.deployments), default=0)
    for d in status.deployments:
        line = Text(f"{d.status:<7} {d.revision:<{width}} ")
        line.append(f"{d.rollout or '?':<11}", style=ROLLOUT_STYLE.get(d.rollout, ""))
        line.append(f" {d.running}/{d.desired} running")
        if d.pending:
            line.append(f", {d.pending} pending")
        if d.failed:
            line.append(f", {d.failed} failed", style="red")
        if d.reason and d.rollout != "COMPLETED":
            line.append(f"\n{UNDER}{d.reason}", style="dim")
        lines.append(line)
    return _one_a_line(lines)


def tasks(status: ServiceStatus) -> Text:
    """id, revision, last status, health, started (or stopped) at; why a stopped one stopped."""
    lines: list[Text] = []
    for t in status.tasks:
        revision = ":" + t.revision.rpartition(":")[2] if ":" in t.revision else t.revision
        line = Text(f"{t.id[:8]:<8} {revision:<4} ")
        line.append(f"{t.last_status:<12}", style=TASK_STYLE.get(t.last_status, "yellow"))
        line.append(f" {t.health or '-':<9}", style=HEALTH_STYLE.get(t.health, "dim"))
        if t.last_status == "STOPPED":
            line.append(f" stopped {clock(t.stopped)}", style="dim")
            if t.stopped_reason:
                line.append(f"\n{UNDER}{t.stopped_reason}", style="dim")
        else:
            line.append(f" since {clock(t.started)}" if t.started else " starting")
        lines.append(line)
    return _one_a_line(lines)


def events(status: ServiceStatus, limit: int | None = None) -> Text:
    """Newest first, as the console shows them."""
    return _one_a_line(
        [Text.assemble((f"{clock(e.at)} ", "dim"), e.message) for e in status.events[:limit]]
    )
