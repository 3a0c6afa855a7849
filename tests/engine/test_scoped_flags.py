"""Java's mid-pattern `(?i)` (cfn-lint's Fargate size patterns) read by Python's re as a scoped
flag group (runbook/rules/core.py scoped_flags), so a plan need not import the regex package:
every such pattern cfn-lint ships for Fargate gives the regex package's own answer."""

from __future__ import annotations

import re

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from runbook.rules import fargate
from runbook.rules.core import compiled, scoped_flags

PATTERNS = sorted(
    {s.cpu_pattern for s in fargate.sizes()} | {s.memory_pattern for s in fargate.sizes()}
)
WORDS = st.text(alphabet=" .0123456789vVcCpPuUgGbB\n", max_size=10)


def test_the_fargate_patterns_need_the_rewrite_and_compile_in_re() -> None:
    flagged = [p for p in PATTERNS if "(?i)" in p and not p.startswith("(?i)")]
    assert flagged, "cfn-lint no longer writes mid-pattern flags: this test proves nothing"
    for pattern in flagged:
        assert isinstance(compiled(pattern), re.Pattern), pattern


@pytest.mark.parametrize("pattern", PATTERNS)
@settings(max_examples=120, deadline=None)
@given(text=WORDS)
def test_each_gives_the_regex_package_s_answer(pattern: str, text: str) -> None:
    ours, theirs = compiled(pattern), regex.compile(pattern)
    assert bool(ours.search(text)) == bool(theirs.search(text)), (pattern, text)


def test_only_a_top_level_flag_group_is_rewritten() -> None:
    assert scoped_flags("^\\.5\\s*(?i)vCpu$") == "^\\.5\\s*(?i:vCpu$)"
    assert scoped_flags("(?i)^GB$") == "(?i)^GB$"  # at the start: Python's re takes it
    assert scoped_flags("^(a(?i)b)c$") == "^(a(?i)b)c$"  # inside a group: left as it is
    assert scoped_flags("^[(?i)]x(?s)y") == "^[(?i)]x(?s:y)"  # in a class: literal characters
    assert scoped_flags("^\\(?i)x") == "^\\(?i)x"  # an escaped '(' opens no group
