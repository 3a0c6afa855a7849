"""Describe calls that take up to 20 ARNs at a time (ELB's and ECS's), for the tag inventory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from runbook.resources.kind import missing_on

BATCH = 20


def in_twenties(arns: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(arns), BATCH):
        yield arns[start : start + BATCH]


def each_or_all(
    arns: list[str], read: Callable[[list[str]], list[dict[str, Any]]], gone: tuple[str, ...]
) -> list[dict[str, Any]]:
    """ELB answers NotFound for a whole batch if one ARN is gone: then ask one by one."""
    found: list[dict[str, Any]] = []
    for batch in in_twenties(sorted(set(arns))):
        answer = missing_on(gone, lambda batch=batch: read(batch))
        if answer is not None:
            found += answer
            continue
        for arn in batch:
            found += missing_on(gone, lambda arn=arn: read([arn])) or []
    return found
