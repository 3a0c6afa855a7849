"""The sandbox: moto's emulator as AWS's control plane and a local data plane beside it.

One module per AWS part it stands in for: emulator (the APIs), dataplane (the reconcile
loop), database (RDS), tasks (ECS), load_balancer (ELB), logs (CloudWatch Logs), image
(ECR), and moto_state, the one place that touches moto's internals.
"""

from runbook.sandbox.background import (
    INFO_FILE,
    SandboxError,
    ensure_running,
    local_url,
    running,
    stop,
)
from runbook.sandbox.dataplane import CREDENTIALS, PARTS
from runbook.sandbox.emulator import EMULATOR_ENV, Emulator
from runbook.sandbox.timings import Timings, TimingsError

__all__ = [
    "CREDENTIALS",
    "EMULATOR_ENV",
    "INFO_FILE",
    "PARTS",
    "Emulator",
    "SandboxError",
    "Timings",
    "TimingsError",
    "ensure_running",
    "local_url",
    "running",
    "stop",
]
