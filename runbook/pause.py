"""How the engine pauses: the given sleep, made interruptible so a closing front end never hangs."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

Sleep = Callable[[float], None]


class Stopped(BaseException):
    """The runbook is closing: a wait stops where it is.

    A BaseException so the engine does not record it as a failure: the state file keeps
    "running", and the next session re-discovers what AWS finished meanwhile.
    """


class Pause:
    """The engine's sleep: the one it was given, until `stop()`; then every wait raises Stopped.

    time.sleep itself becomes a wait on an event, so stopping wakes a wait at once; an injected
    sleep (tests, the sandbox's short polls) is called as it is, and checked after.
    """

    def __init__(self, sleep: Sleep = time.sleep) -> None:
        self._sleep = sleep
        self._stopping = threading.Event()

    def __call__(self, seconds: float) -> None:
        if self._sleep is time.sleep:
            if self._stopping.wait(seconds):
                raise Stopped
        else:
            self._sleep(seconds)
        if self._stopping.is_set():
            raise Stopped

    @property
    def stopped(self) -> bool:
        return self._stopping.is_set()

    def stop(self) -> None:
        self._stopping.set()
