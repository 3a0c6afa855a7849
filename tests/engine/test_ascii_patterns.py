"""AWS's patterns with Unicode classes (\\p{L}, \\p{Print}) judge ASCII text through Python's re,
so a plan need not import the regex package (runbook/rules/core.py): here every such pattern
of the services the runbook calls gives the regex package's own answer, on any ASCII text,
and text that is not ASCII still goes to the regex package."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from runbook.api_index import index
from runbook.resources.registry import operations
from runbook.rules import cfn
from runbook.rules.core import ASCII_MEMBERS, AsciiFirst, ascii_version, compiled

# The CloudFormation namespaces of every service the runbook calls.
SERVICES = (
    "AWS::EC2::",
    "AWS::ECS::",
    "AWS::ElasticLoadBalancingV2::",
    "AWS::RDS::",
    "AWS::IAM::",
    "AWS::Logs::",
    "AWS::ECR::",
    "AWS::SecretsManager::",
    "AWS::CertificateManager::",
    "AWS::Route53::",
    "AWS::ApplicationAutoScaling::",
)
# Any ASCII, and text made mostly of what these patterns take (so that many examples match).
ASCII = st.text(alphabet=st.characters(max_codepoint=127), max_size=12) | st.text(
    alphabet="aZ09 _.:/=+-@\n\t", max_size=12
)


def _patterns(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str) and "\\p" in value:
                found.add(value)
            else:
                _patterns(value, found)
    elif isinstance(node, list):
        for item in node:
            _patterns(item, found)


def unicode_patterns() -> list[str]:
    """CloudFormation's, and botocore's for every operation a plan can make."""
    found: set[str] = set()
    for resource_type in cfn._providers():
        if resource_type.startswith(SERVICES):
            _patterns(cfn.schema(resource_type), found)
    for service, method in operations():
        _patterns(index().operation(service, method).shapes, found)
    return sorted(found)


PATTERNS = unicode_patterns()


@pytest.mark.parametrize("name", sorted(ASCII_MEMBERS))
def test_each_class_has_exactly_these_ascii_members(name: str) -> None:
    ours = re.compile(f"[{ASCII_MEMBERS[name]}]")
    theirs = regex.compile(f"\\p{{{name}}}")
    for code in range(128):
        char = chr(code)
        assert bool(ours.fullmatch(char)) == bool(theirs.fullmatch(char)), (name, code)


def test_the_services_patterns_with_unicode_classes_are_read_so() -> None:
    assert PATTERNS, "cfn-lint's schemas name no \\p pattern: nothing is tested here"
    taken = [p for p in PATTERNS if isinstance(compiled(p), AsciiFirst)]
    # The tag patterns every resource shares are among them: the plan's common case.
    assert "^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$" in taken, json.dumps(PATTERNS, indent=1)


@pytest.mark.parametrize("pattern", PATTERNS)
@settings(max_examples=150, deadline=None)
@given(text=ASCII)
def test_ascii_text_gets_the_regex_package_s_answer(pattern: str, text: str) -> None:
    ours = compiled(pattern)
    theirs = regex.compile(pattern)
    for method in ("search", "match", "fullmatch"):
        assert bool(getattr(ours, method)(text)) == bool(getattr(theirs, method)(text)), (
            pattern,
            text,
            method,
        )


def test_other_text_goes_to_the_regex_package() -> None:
    tag = compiled("^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$")
    assert isinstance(tag, AsciiFirst)
    assert tag.fullmatch("équipe données 東京 ١٢")  # letters and digits of any script
    assert not tag.fullmatch("équipe\u0007")  # a control character is none of them


def test_a_class_without_known_ascii_members_is_left_to_the_regex_package() -> None:
    assert ascii_version("^\\p{Lu}+$") is None
    assert not isinstance(compiled("^\\p{Lu}+$"), AsciiFirst)
    # A class's bounds and escapes are kept: ']' first in a class is a literal.
    assert ascii_version("[]\\p{L}]+\\.") == "[]A-Za-z]+\\."
    assert ascii_version("\\p{N}[^\\p{Z}]") == "[0-9][^ ]"
