"""A rule, a refusal, and how to find the values a rule applies to in a call's parameters."""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from runbook.plan import MASK, Ref, Secret


@functools.cache
def compiled(pattern: str) -> Any:
    """Python's re where it can (fast); the regex package for \\p{L} and the like; else None.

    ASCII: AWS's patterns are Java's (botocore) or ECMA-262's (CloudFormation's schemas),
    where \\w, \\d and \\s are ASCII; Python's own would let 'rôle' through IAM's [\\w+=,.@-]+.
    A \\p pattern whose classes all have known ASCII members matches ASCII text through re
    as well (AsciiFirst): the regex package (about 20 ms to import) then loads only for a
    value that is not ASCII, which a plan's names and tags seldom are.
    """
    pattern = scoped_flags(pattern)
    if "\\p" not in pattern:
        plain_re = _re_compile(pattern)
        if plain_re is not None:
            return plain_re
    else:
        ascii_pattern = ascii_version(pattern)
        ascii_re = _re_compile(ascii_pattern) if ascii_pattern is not None else None
        if ascii_re is not None:
            return AsciiFirst(pattern, ascii_re)
    return _regex_compile(pattern)


def scoped_flags(pattern: str) -> str:
    """Java's mid-pattern `(?i)` (flags from there to the end) as Python's scoped `(?i:...)`.

    cfn-lint's Fargate size patterns write `^\\.5\\s*(?i)vCpu$`; Python's re refuses global
    flags after the start, which left them to the regex package (about 20 ms to import).
    Only a flag group at the top level is rewritten; one inside a group is left as it is.
    """
    depth = 0
    in_class = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            i += 1
            for lead in ("^", "]"):  # a ']' first in a class (or after '^') is a literal
                if pattern.startswith(lead, i):
                    i += 1
            continue
        elif char == ")":
            depth -= 1
        elif char == "(":
            flags = _FLAG_GROUP.match(pattern, i)
            if flags is not None and depth == 0 and i > 0:
                rest = pattern[flags.end() :]
                return f"{pattern[:i]}(?{flags.group(1)}:{scoped_flags(rest)})"
            depth += 1
        i += 1
    return pattern


_FLAG_GROUP = re.compile(r"\(\?([imsx]+)\)")


def _re_compile(pattern: str) -> Any:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # '[' inside a class: literal
            return re.compile(pattern, re.ASCII)
    except re.error:
        return None


def _regex_compile(pattern: str) -> Any:
    import regex  # cfn-lint's own dependency; about 20 ms to import, so only when needed

    try:
        # Not ASCII here: the regex package's ASCII narrows \\p{L} too, and these patterns
        # (tags: letters of any script) mean Unicode letters.
        return regex.compile(pattern)
    except regex.error:
        return None


# The ASCII members of the Unicode classes AWS's patterns use, as a character class's
# ranges: on ASCII text \p{L} is A-Za-z, \p{N} 0-9, \p{Z} the space and \p{Print} space to
# tilde, exactly (tests/engine/test_ascii_patterns.py holds them to the regex package's).
ASCII_MEMBERS = {"L": "A-Za-z", "N": "0-9", "Z": " ", "Print": " -~"}
_PROPERTY = re.compile(r"\\p\{(\w+)\}")


def ascii_version(pattern: str) -> str | None:
    """The pattern as Python's re reads it for ASCII text; None if a class is not known."""
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\":
            prop = _PROPERTY.match(pattern, i)
            if prop is None:
                out.append(pattern[i : i + 2])  # any other escape, as it is
                i += 2
                continue
            members = ASCII_MEMBERS.get(prop.group(1))
            if members is None:
                return None
            out.append(members if in_class else f"[{members}]")
            i = prop.end()
            continue
        if pattern[i] == "[" and not in_class:
            in_class = True
            out.append("[")
            i += 1
            # A ']' first in a class (or after '^') is a literal, not its end.
            for lead in ("^", "]"):
                if pattern.startswith(lead, i):
                    out.append(lead)
                    i += 1
            continue
        if pattern[i] == "]" and in_class:
            in_class = False
        out.append(pattern[i])
        i += 1
    return "".join(out)


class AsciiFirst:
    """A pattern with Unicode classes: ASCII text through re, any other through regex."""

    def __init__(self, pattern: str, ascii_re: re.Pattern[str]) -> None:
        self.pattern = pattern
        self._ascii = ascii_re
        self._full: Any = None

    def _for(self, text: str) -> Any:
        if text.isascii():
            return self._ascii
        if self._full is None:
            self._full = _regex_compile(self.pattern)
        return self._full

    def search(self, text: str) -> Any:
        return self._for(text).search(text)

    def match(self, text: str) -> Any:
        return self._for(text).match(text)

    def fullmatch(self, text: str) -> Any:
        return self._for(text).fullmatch(text)


class Unknown:
    """A value only apply will know (a reference not yet produced): checked when known."""

    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN = Unknown()


# Where a rule comes from: cfn-lint's data, or written by hand from AWS's API reference.
RuleOrigin = Literal["cfn-lint", "by hand"]


@dataclass(frozen=True)
class Rule:
    """One constraint AWS documents, in words, with where we have it from."""

    says: str  # "must be 1-255 characters of a-z A-Z 0-9 ..."
    source: str  # "CloudFormation schema AWS::EC2::SecurityGroup.GroupDescription"
    test: Callable[[Any], bool]
    origin: RuleOrigin = "cfn-lint"  # CloudFormation's schemas and cfn-lint's extensions


@dataclass(frozen=True)
class Refusal:
    """A call AWS would refuse: which parameter, its value, the rule, and the fix."""

    operation: str  # e.g. ec2.CreateSecurityGroup
    param: str
    value: str
    rule: str
    fix: str
    source: str

    def as_dict(self) -> dict[str, str]:
        return {
            "param": self.param,
            "value": self.value,
            "rule": self.rule,
            "fix": self.fix,
            "source": self.source,
        }

    def __str__(self) -> str:
        return f"{self.operation} {self.param} = {self.value}: {self.rule}"


@dataclass(frozen=True)
class Hidden:
    """A secret's value, checked like any other but never shown."""

    value: Any


def known_values(value: Any, known: Mapping[str, Any]) -> Any:
    """References filled where known (else UNKNOWN); secrets kept, wrapped, for masking."""
    if isinstance(value, Ref):
        return value.fill(known[value.key]) if value.key in known else UNKNOWN
    if isinstance(value, Secret):
        return Hidden(value.value)
    if isinstance(value, Mapping):
        return {k: known_values(v, known) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [known_values(v, known) for v in value]
    return value


def at(params: Any, path: str) -> Iterator[tuple[str, Any]]:
    """(concrete path, value) for a pattern: 'A[].B' walks lists, 'tags{}' a map's values,
    'tags{key}' its keys. Missing and unknown values yield nothing: nothing to check yet."""
    yield from _walk(params, _parts(path), "")


@functools.cache
def _parts(path: str) -> tuple[str, ...]:
    parts: list[str] = []
    for piece in path.split("."):
        name, _, rest = piece.partition("[")
        marker = "[" + rest if rest else ""
        if "{" in name:
            name, _, brace = name.partition("{")
            marker = "{" + brace
        if name:
            parts.append(name)
        if marker:
            parts.append(marker)
    return tuple(parts)


def _walk(value: Any, parts: tuple[str, ...], where: str) -> Iterator[tuple[str, Any]]:
    if value is UNKNOWN or value is None:
        return
    if not parts:
        yield where, value
        return
    head, rest = parts[0], parts[1:]
    if head == "[]":
        if isinstance(value, list):
            for n, item in enumerate(value):
                yield from _walk(item, rest, f"{where}[{n}]")
    elif head == "{}":
        if isinstance(value, Mapping):
            for key, item in value.items():
                yield from _walk(item, rest, f"{where}.{key}")
    elif head == "{key}":
        if isinstance(value, Mapping):
            for key in value:
                yield f"{where}{{{key}}}", key
    elif isinstance(value, Mapping) and head in value:
        yield from _walk(value[head], rest, f"{where}.{head}" if where else head)


def shown(value: Any, limit: int = 60) -> str:
    if isinstance(value, Hidden):
        return MASK
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plain(value: Any) -> Any:
    return value.value if isinstance(value, Hidden) else value
