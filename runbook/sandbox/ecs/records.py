"""ECS's records in the emulator for one account and region: what describe_* answers (and
what describe_target_health no longer says of a stopped task).

The scheduler and the tasks write here what ECS would report (states, counts, events), through
moto_state, the one module that touches moto's internals.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from runbook.sandbox import moto_state


class Detached:
    """Stands in for a task record the emulator no longer has: writes to it go nowhere."""

    containers: list[Any] = []
    attachments: list[Any] = []


@dataclass(frozen=True)
class Records:
    account: str
    region: str

    def service(self, cluster: str, name: str) -> Any:
        """The service's record (a stand-in that keeps nothing once the service is gone)."""
        return moto_state.service(self.account, self.region, cluster, name)

    def task(self, cluster: str, arn: str) -> Any:
        """The task's record; KeyError if the emulator no longer has it."""
        return moto_state.task(self.account, self.region, cluster, arn)

    def task_or_detached(self, cluster: str, arn: str) -> Any:
        try:
            return self.task(cluster, arn)
        except KeyError:  # its cluster is gone from the emulator: stop it all the same
            return Detached()

    def event(self, cluster: str, service: str, message: str) -> None:
        """An event in the service's list, newest first, as describe_services shows it."""
        moto_state.add_service_event(self.service(cluster, service), message)

    def forget_target(self, group_arn: str, address: str) -> None:
        """describe_target_health no longer reports the address (moto's own answer again)."""
        moto_state.set_target_health(self.account, self.region, group_arn, address, None)
