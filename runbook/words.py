"""How the runbook counts things in its sentences: "1 task", "2 tasks", never "task(s)"."""

from __future__ import annotations


def count(n: int, word: str) -> str:
    """1 step, 2 steps: never "1 steps" or "call(s)"."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
