"""What a run knows: values seen in this run, and the state file's hints until they are seen.

Shared by the engine, its executor (which adds what each call captures) and the image's
background build (which names the image), so every change to it holds the one lock.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any


class Known:
    def __init__(self, hints: dict[str, Any], given: dict[str, Any]) -> None:
        # Recorded outputs are hints for previews; discovery replaces them with the truth.
        self.values: dict[str, Any] = {**hints, **given}
        self.hints = set(hints) - set(given)
        self.lock = threading.Lock()

    def learn(self, values: dict[str, Any]) -> None:
        """Seen in this run: true now, hints no more."""
        with self.lock:
            self.values.update(values)
            self.hints -= set(values)

    def confirmed(self, keys: Iterable[str]) -> None:
        """What calls returned is as fresh as discovery."""
        with self.lock:
            self.hints -= set(keys)

    def forget(self, keys: Iterable[str]) -> None:
        with self.lock:
            for key in keys:
                self.values.pop(key, None)

    def seen_this_run(self) -> dict[str, Any]:
        """What discovery may build on: never a state-file hint."""
        with self.lock:
            return {k: v for k, v in self.values.items() if k not in self.hints}

    def unsure(self, keys: Iterable[str]) -> list[str]:
        """Not known, or only a hint."""
        with self.lock:
            return [k for k in keys if k not in self.values or k in self.hints]

    def missing(self, keys: Iterable[str]) -> list[str]:
        with self.lock:
            return [k for k in keys if k not in self.values]

    def sure(self, key: str) -> Any:
        """The value if seen in this run, else None."""
        with self.lock:
            return None if key in self.hints else self.values.get(key)
