"""A part of the data plane that cannot start: why, how often it tried, and when to try next.

A failure is said once (its reason, when it first fails or the reason changes) and tried
again after a delay that doubles with each try, from FIRST up to CAP: never more than once a
second, and a cause that goes away is noticed within a minute. Times are the data plane's
clock, so tests move it instead of waiting.
"""

from __future__ import annotations

from dataclasses import dataclass

FIRST = 1.0  # seconds before the first retry
CAP = 60.0  # the longest wait between two tries


@dataclass
class Backoff:
    reason: str = ""
    tries: int = 0
    next_at: float = 0.0

    def failed(self, reason: str, now: float) -> bool:
        """Count a failed try; True if its reason is new (worth saying where a person looks)."""
        new = reason != self.reason
        self.reason, self.tries = reason, self.tries + 1
        self.next_at = now + self.delay()
        return new

    def delay(self) -> float:
        """The wait after the tries so far: 1, 2, 4, ... 60 s."""
        return min(CAP, FIRST * 2 ** max(0, self.tries - 1))

    def due(self, now: float) -> bool:
        return now >= self.next_at
