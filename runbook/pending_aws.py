"""Clients for a target still being reached (the sandbox starting behind the app's first screen).

The engine is built whole at once with this in place of its Aws: what it is told now (region,
label, how to pause) it keeps, and anything that needs the target itself waits here, in the
worker that asked, until the target answers; then every use goes to the real clients. A target
that cannot be reached raises its error in each such worker. A front end draws at once and
never waits on the target in its own thread.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from runbook.pause import Stopped

if TYPE_CHECKING:
    from runbook.aws import Aws

# How often a wait looks whether the engine is closing (its pause stopped).
LOOK_EVERY = 0.1
# Set on the pending object itself, never passed on: the rest goes to the real clients.
OWN = frozenset({"region", "label"})


class PendingAws:
    """Stands in for `Aws` until `arrived` (or `failed`); duck-typed, so the composition root
    gives it to the engine as an Aws."""

    def __init__(self, region: str, label: str) -> None:
        object.__setattr__(self, "region", region)
        object.__setattr__(self, "label", label)
        object.__setattr__(self, "_ready", threading.Event())
        object.__setattr__(self, "_aws", None)
        object.__setattr__(self, "_error", None)
        # What the engine set before the target answered (its sleep): given to it on arrival.
        object.__setattr__(self, "_later", {})

    @property
    def ready(self) -> bool:
        """The target answered (or failed): using it no longer waits."""
        return self._ready.is_set()

    def arrived(self, aws: Aws) -> None:
        for name, value in self._later.items():
            setattr(aws, name, value)
        object.__setattr__(self, "_aws", aws)
        self._ready.set()

    def failed(self, error: BaseException) -> None:
        object.__setattr__(self, "_error", error)
        self._ready.set()

    def wait(self) -> Aws:
        """The real clients, once the target answers; its error if it cannot be reached; and
        Stopped when the engine closes meanwhile (its pause stopped)."""
        while not self._ready.wait(LOOK_EVERY):
            if getattr(self._later.get("sleep"), "stopped", False):
                raise Stopped
        if self._error is not None:
            raise self._error
        assert self._aws is not None
        return self._aws

    def __getattr__(self, name: str) -> Any:
        # Only what is not the pending object's own: the real clients' methods and counters.
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.wait(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in OWN:
            object.__setattr__(self, name, value)
        elif self._aws is not None:
            setattr(self._aws, name, value)
        else:
            self._later[name] = value
