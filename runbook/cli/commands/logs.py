"""`runbook logs [--follow] [--since 10m]`: the app's output from CloudWatch Logs (AWS or sandbox).

The lines come from runbook/log_tail.py, which the app's log view reads too.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from runbook.log_tail import FOLLOW_EVERY, SinceError, Tail, no_log_group, parse_since

if TYPE_CHECKING:
    from rich.console import Console

    from runbook.aws import Aws
    from runbook.settings import Settings

__all__ = ["SinceError", "parse_since", "run"]


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
    tail = Tail(aws, s, start)
    while True:
        try:
            for text in tail.poll():
                console.print(text, markup=False, highlight=False, soft_wrap=True)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            console.print(no_log_group(s))
            return 1
        if not follow:
            return 0
        sleep(FOLLOW_EVERY)
