"""What ECS's service scheduler and its tasks see of their account and region (not the
whole data plane): the ECS API, ECS's records, the target groups, the clock, the addresses."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from runbook.sandbox.ecs.records import Records
from runbook.sandbox.ecs.targets import Targets
from runbook.sandbox.timings import Timings


class Addresses(Protocol):
    """The loopback block tasks take their addresses from, and give them back to."""

    def take(self) -> str: ...

    def give_back(self, address: str) -> None: ...


@dataclass(frozen=True)
class Region:
    ecs: Callable[[], Any]  # the emulator's ECS API, as the account
    records: Records
    targets: Targets
    addresses: Addresses
    folder: Path  # where tasks' files go, one folder each
    clock: Callable[[], float]  # the data plane's (tests move it instead of waiting)
    timings: Timings
    log: Callable[[str], None]
    wake: Callable[[], None]  # look at the services again soon (a task finished)
