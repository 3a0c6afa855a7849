"""How long each of the runbook's waits usually takes on AWS, so a front end can show progress.

Matched on the wait's own words (the steps write them); a wait not listed here, or one that
depends on the person (the image push), has no typical length: only its elapsed time shows.
"""

from __future__ import annotations

import re

# (pattern on Wait.what, (usually at least, usually at most) in seconds)
TYPICAL: tuple[tuple[re.Pattern[str], tuple[int, int]], ...] = (
    (re.compile(r"^database .* to be available"), (300, 600)),
    (re.compile(r"^database .* to take the change"), (300, 900)),
    (re.compile(r"^database .* to be deleted"), (240, 600)),
    (re.compile(r"^load balancer .* to be active"), (60, 180)),
    (re.compile(r"^load balancer .* to be deleted"), (10, 60)),
    (re.compile(r"^service .* to be stable"), (60, 300)),
    (re.compile(r"^service .* to be deleted"), (30, 300)),
    (re.compile(r"^ACM to publish"), (5, 60)),
    (re.compile(r"^the certificate .* to be issued"), (60, 1800)),
)


def typical(what: str) -> tuple[int, int] | None:
    """(usually at least, usually at most) seconds, or None when nobody can say."""
    return next((span for pattern, span in TYPICAL if pattern.search(what)), None)


def spoken(span: tuple[int, int]) -> str:
    """(300, 600) -> "usually 5 to 10 min"; (10, 60) -> "usually 10 s to 1 min"."""
    low, high = span
    if low % 60 == 0 and high % 60 == 0:
        return f"usually {low // 60} to {high // 60} min"
    return f"usually {_words(low)} to {_words(high)}"


def _words(seconds: int) -> str:
    return f"{seconds // 60} min" if seconds % 60 == 0 else f"{seconds} s"
