"""One ECS task as the sandbox runs it: where it is in ECS's lifecycle, and its clocks.

PROVISIONING -> PENDING -> RUNNING -> (DEACTIVATING -> STOPPING) -> DEPROVISIONING -> STOPPED
(docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle-explanation.html)
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runbook.sandbox.logs import LogShipper

DEFAULT_STOP_TIMEOUT = 30.0  # ECS's, when the container definition sets no stopTimeout


@dataclass
class LocalTask:
    arn: str
    cluster: str
    service: str
    deployment: str
    task_definition: str
    address: str  # its own loopback address: the task's elastic network interface
    folder: Path
    state: str = "PROVISIONING"
    next_at: float = 0.0
    process: subprocess.Popen[bytes] | None = None
    logs: LogShipper | None = None
    targets: list[tuple[str, int]] = field(default_factory=list)  # (target group, port)
    running_since: float = 0.0
    stopping: bool = False
    stop_reason: str = ""
    stop_code: str = ""
    drain_until: float = 0.0
    term_at: float = 0.0
    stop_timeout: float = DEFAULT_STOP_TIMEOUT
    exit_code: int | None = None
    # RunTask's containerOverrides (a one-off's command, say): container name -> override.
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def one_off(self) -> bool:
        """Started by RunTask itself (`runbook run`, a release command), not by a service."""
        return not self.service

    @property
    def id(self) -> str:
        return self.arn.rsplit("/", 1)[-1]
