"""Every pattern a rule holds a value to is one an engine here compiles.

Rules compile their patterns at the first value they judge (runbook/rules/kinds.py), not when
they are made, so a pattern no engine takes would otherwise surface only when a plan first
had a value for it."""

from __future__ import annotations

from runbook.resources.registry import operations
from runbook.rules import kinds


def test_each_rule_pattern_compiles() -> None:
    operations()  # makes every kind's rules, and so records their patterns
    assert len(kinds.PATTERNS) > 20, sorted(kinds.PATTERNS)
    for pattern in sorted(kinds.PATTERNS):
        assert kinds._compiled(pattern) is not None, pattern
