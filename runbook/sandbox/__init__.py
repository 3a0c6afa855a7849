"""The sandbox: moto's emulator as AWS's control plane and a local data plane beside it.

One module per AWS part it stands in for: emulator (the APIs), dataplane (the reconcile
loop), database (RDS), ecs (ECS), load_balancer (ELB), logs (CloudWatch Logs), image
(the image store ECR's manifests point into), container_engine (docker's command line, for
building and pushing into it), and moto_state, the one place that touches moto's internals.
"""

from typing import Any

from runbook.sandbox.account import CREDENTIALS
from runbook.sandbox.timings import Timings, TimingsError

# Imported when asked for: the emulator and the data plane load moto, which the command line
# itself never needs; the background sandbox's helpers load the Todo API's package (Flask),
# which the container engine stand-in, started three times a deploy, never needs.
_LAZY = {
    "Emulator": "runbook.sandbox.emulator",
    "EMULATOR_ENV": "runbook.sandbox.emulator",
    "PARTS": "runbook.sandbox.dataplane",
    **dict.fromkeys(
        (
            "INFO_FILE",
            "SandboxError",
            "credentials",
            "engine_path",
            "ensure_running",
            "local_url",
            "running",
            "stop",
        ),
        "runbook.sandbox.background",
    ),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)


# Its own names and every lazy one: a name added to _LAZY is exported with it.
__all__ = ["CREDENTIALS", "Timings", "TimingsError", *_LAZY]
