"""The app's output from CloudWatch Logs (AWS or sandbox): every line since a time, and the new
ones as they come; what `runbook logs` prints and the app's log view shows.

Reads the group and stream prefix the task definition's awslogs settings name, through
filter_log_events with paging, so it works the same against AWS and the sandbox.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
        # AWS returns a page sorted by timestamp, then ingestion time (FilterLogEvents, API
        # Reference); the emulator returns it stream by stream. Sorting costs nothing on AWS
        # and keeps two tasks' lines interleaved as they happened everywhere.
        yield from sorted(
            page.get("events", []),
            key=lambda e: (e.get("timestamp", 0), e.get("ingestionTime", 0)),
        )
        if not page.get("nextToken"):
            return
        params["nextToken"] = page["nextToken"]


def line(event: dict[str, Any]) -> str:
    when = datetime.fromtimestamp(event["timestamp"] / 1000, UTC).strftime("%H:%M:%S")
    task = event.get("logStreamName", "").rsplit("/", 1)[-1][:8]
    return f"{when} {task} {event['message']}"


class Tail:
    """The app's new lines since a time, each once: what --follow prints, and the app's log view.

    Each poll asks from the newest timestamp seen (CloudWatch may deliver late events with an
    equal timestamp), and forgets the IDs of events older than that: memory stays small
    however long it follows.
    """

    def __init__(self, aws: Aws, s: Settings, start_ms: int) -> None:
        self.aws, self.s, self.start = aws, s, start_ms
        self._seen: dict[str, int] = {}

    def poll(self) -> Iterator[str]:
        """New lines, oldest first, page by page. ClientError as AWS answers it (no log group
        yet, say)."""
        for event in events(self.aws, self.s, self.start):
            event_id = event.get("eventId", "")
            if event_id in self._seen:
                continue
            self._seen[event_id] = event["timestamp"]
            self.start = max(self.start, event["timestamp"])
            yield line(event)
        self._seen = {k: v for k, v in self._seen.items() if v >= self.start}


def no_log_group(s: Settings) -> str:
    return f"No log group {s.cluster.log_group} yet: section III (ECS cluster) makes it."
