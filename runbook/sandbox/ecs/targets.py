"""The load balancer's side of a task: its address registered in target groups, checked,
drained and forgotten, both in the emulator (the API) and in the sandbox's own health checks.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any, Protocol

from runbook.sandbox.ecs.records import Records
from runbook.sandbox.load_balancer import Target, TargetGroup


class TargetGroups(Protocol):
    """The region's target groups, shared with its load balancers (which forward to them)."""

    def target_group(self, arn: str) -> TargetGroup: ...

    def deregistration_delay(self, arn: str) -> float: ...


class Targets:
    def __init__(self, groups: TargetGroups, elbv2: Callable[[], Any], records: Records) -> None:
        self._groups, self._elbv2, self._records = groups, elbv2, records

    def register(self, group_arn: str, address: str, port: int) -> None:
        self._elbv2().register_targets(
            TargetGroupArn=group_arn, Targets=[{"Id": address, "Port": port}]
        )
        self._groups.target_group(group_arn).register(address, port)

    def health(self, group_arn: str, address: str) -> Target | None:
        """The target's health as the group's checks last judged it (None: not registered)."""
        return self._groups.target_group(group_arn).state_of(address)

    def drain(self, group_arn: str, address: str) -> float:
        """Begin deregistering; how long the group drains it (its deregistration delay)."""
        self._groups.target_group(group_arn).drain(address)
        return self._groups.deregistration_delay(group_arn)

    def forget(self, group_arn: str, address: str, port: int) -> None:
        with contextlib.suppress(Exception):  # the group may be gone already
            self._elbv2().deregister_targets(
                TargetGroupArn=group_arn, Targets=[{"Id": address, "Port": port}]
            )
        self._groups.target_group(group_arn).forget(address)
        self._records.forget_target(group_arn, address)
