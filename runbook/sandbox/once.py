"""Patches to moto that must be made once per process, whoever asks first and however often."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable


def once(install: Callable[[], None]) -> Callable[[], None]:
    """`install`, run by the first caller; the others wait until it is done, then do nothing."""
    lock = threading.Lock()
    done = False

    @functools.wraps(install)
    def install_once() -> None:
        nonlocal done
        with lock:
            if not done:
                install()
                done = True

    return install_once
