"""`runbook logs [--follow] [--since 10m]`: the app's output from CloudWatch Logs (AWS or sandbox).

Reads the group and stream prefix the task definition's awslogs settings name, through
filter_log_events with paging, so it works the same against AWS and the sandbox.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from rich.console import Console

    from runbook.aws import Aws
    from runbook.settings import Settings

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
FOLLOW_EVERY = 2.0


class SinceError(ValueError):
    pass


def parse_since(text: str, now: float | None = None) -> int:
    """`10m`, `2h`, `1d`, `30s`, or an ISO time: milliseconds since the epoch."""
    now = time.time() if now is None else now
    found = re.fullmatch(r"(\d+)([smhd])", text.strip())
    if found:
        return int((now - int(found.group(1)) * UNITS[found.group(2)]) * 1000)
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise SinceError(
            f"--since {text!r}: use a duration (30s, 10m, 2h, 1d) or a time (2025-01-31T12:00)"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)


def events(aws: Aws, s: Settings, start_ms: int) -> Iterator[dict[str, Any]]:
    """Every event of the app's streams since start_ms, page by page, oldest first."""
    params: dict[str, Any] = {
        "logGroupName": s.cluster.log_group,
        "logStreamNamePrefix": f"{s.task_definition.container_name}/",
        "startTime": start_ms,
    }
    while True:
        page = aws.call("logs", "filter_log_events", **params)
        yield from page.get("events", [])
        if not page.get("nextToken"):
            return
        params["nextToken"] = page["nextToken"]


def line(event: dict[str, Any]) -> str:
    when = datetime.fromtimestamp(event["timestamp"] / 1000, UTC).strftime("%H:%M:%S")
    task = event.get("logStreamName", "").rsplit("/", 1)[-1][:8]
    return f"{when} {task} {event['message']}"


def run(
    console: Console,
    aws: Aws,
    s: Settings,
    *,
    since: str,
    follow: bool,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    try:
        start = parse_since(since)
    except SinceError as exc:
        console.print(f"[red]✗[/] {exc}")
        return 2
    seen: set[str] = set()
    while True:
        try:
            for event in events(aws, s, start):
                if event.get("eventId") in seen:
                    continue
                seen.add(event.get("eventId", ""))
                start = max(start, event["timestamp"])
                console.print(line(event), markup=False, highlight=False, soft_wrap=True)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            console.print(
                f"No log group {s.cluster.log_group} yet: section III (ECS cluster) makes it."
            )
            return 1
        if not follow:
            return 0
        sleep(FOLLOW_EVERY)
