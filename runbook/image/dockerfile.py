"""A Dockerfile read as Docker reads it: instructions with their lines, both forms, variables.

Only the reading: what each instruction says (the sandbox's build follows them, `runbook init`
looks for the port in them).
Docker's rules kept here (docs.docker.com/reference/dockerfile/): a backslash ends a line that
continues; `#` starts a comment only at the start of a line; parser directives (`# syntax=`)
are comments to us; JSON arrays are the exec form, anything else the shell form; `$NAME`,
`${NAME}`, `${NAME:-word}` and `${NAME:+word}` are replaced in ENV, ARG, WORKDIR, COPY, ADD,
USER, EXPOSE and FROM (never in RUN, CMD or ENTRYPOINT: the shell does that).
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

KNOWN = frozenset(
    {
        "FROM", "RUN", "COPY", "ADD", "WORKDIR", "ENV", "ARG", "USER", "EXPOSE", "CMD",
        "ENTRYPOINT", "LABEL", "HEALTHCHECK", "VOLUME", "SHELL", "STOPSIGNAL", "ONBUILD",
        "MAINTAINER",
    }
)  # fmt: skip
# Instructions whose arguments Docker expands variables in.
EXPANDED = frozenset({"ENV", "ARG", "WORKDIR", "COPY", "ADD", "USER", "EXPOSE", "FROM", "LABEL"})
VARIABLE = re.compile(r"\\\$|\$(?:\{(\w+)(?::([-+])([^}]*))?\}|(\w+))")


class DockerfileError(Exception):
    """An instruction that cannot be read, with its line (BuildKit's words where it has them)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"Dockerfile line {line}: {message}")
        self.line = line


@dataclass(frozen=True)
class Instruction:
    line: int  # where it starts, 1-based, as a person finds it in an editor
    keyword: str
    text: str  # everything after the keyword, continuation lines joined
    flags: dict[str, str] = field(default_factory=dict)  # --from=..., --chown=...

    @property
    def exec_form(self) -> list[str] | None:
        """The JSON array, when the instruction is in the exec form."""
        if not self.text.startswith("["):
            return None
        try:
            value = json.loads(self.text)
        except ValueError:
            return None  # Docker runs a malformed array as a shell command
        return [str(v) for v in value] if isinstance(value, list) else None

    def command(self) -> list[str]:
        """CMD, ENTRYPOINT or RUN as the argv Docker starts (the shell form via /bin/sh -c)."""
        form = self.exec_form
        return form if form is not None else ["/bin/sh", "-c", self.text]

    def __str__(self) -> str:
        shown = " ".join([*(f"--{k}={v}" for k, v in self.flags.items()), self.text])
        return f"{self.keyword} {shown}"


def read(path: Path) -> list[Instruction]:
    """Every instruction, in order, with the line it starts on; DockerfileError if unknown."""
    found: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and not pending):
            continue  # comments and blank lines, also inside a continued instruction
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending.append(stripped[:-1].strip())
            continue
        pending.append(stripped)
        found.append(_instruction(start, " ".join(p for p in pending if p)))
        pending = []
    if pending:
        found.append(_instruction(start, " ".join(p for p in pending if p)))
    return found


def _instruction(line: int, whole: str) -> Instruction:
    keyword, _, rest = whole.partition(" ")
    keyword = keyword.upper()
    if keyword not in KNOWN:
        raise DockerfileError(line, f"unknown instruction: {keyword}")
    rest = rest.strip()
    flags: dict[str, str] = {}
    if keyword in ("COPY", "ADD", "RUN", "FROM"):
        # Flags come first: --from=builder, --chown=app:app, --chmod=755, --platform=...
        while rest.startswith("--"):
            word, _, rest = rest.partition(" ")
            name, _, value = word[2:].partition("=")
            flags[name] = value
            rest = rest.strip()
    return Instruction(line, keyword, rest, flags)


def expand(text: str, values: Mapping[str, str]) -> str:
    """$NAME, ${NAME}, ${NAME:-default} and ${NAME:+alternative}, as Docker replaces them."""

    def one(match: re.Match[str]) -> str:
        if match.group(0) == "\\$":
            return "$"
        braced, operator, word, bare = match.groups()
        value = values.get(braced or bare, "")
        if operator == "-":
            return value or word
        if operator == "+":
            return word if value else ""
        return value

    return VARIABLE.sub(one, text)


def pairs(text: str, line: int) -> dict[str, str]:
    """ENV's or LABEL's name=value pairs (quoted as the shell quotes), or ENV's old `NAME value`."""
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise DockerfileError(line, f"cannot read {text!r}: {exc}") from exc
    if words and "=" not in words[0]:
        if len(words) < 2:
            raise DockerfileError(line, f"ENV {text} names a variable without a value")
        return {words[0]: text.split(None, 1)[1].strip()}
    found = {}
    for word in words:
        name, equals, value = word.partition("=")
        if not equals:
            raise DockerfileError(line, f"{word!r} is not NAME=value")
        found[name] = value
    return found


def sources_and_destination(instruction: Instruction) -> tuple[list[str], str]:
    """COPY's or ADD's sources and destination, in either form."""
    words = instruction.exec_form
    if words is None:
        try:
            words = shlex.split(instruction.text)
        except ValueError as exc:
            raise DockerfileError(instruction.line, str(exc)) from exc
    if len(words) < 2:
        raise DockerfileError(
            instruction.line, f"{instruction.keyword} requires at least two arguments"
        )
    return words[:-1], words[-1]
