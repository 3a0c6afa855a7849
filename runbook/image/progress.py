"""What the engine's own output says of its progress: build steps, layers pushed, bytes.

docker prints a push's byte counts only to a terminal (its jsonmessage package drops progress
bars otherwise), redrawing lines with carriage returns and ANSI cursor moves; the runbook
gives it a pseudo-terminal and reads the fragments between them. Both docker's and podman's
wording are read; a line neither matches changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_SIZE = r"[\d.]+\s?[kKMGT]?i?B"
# BuildKit's plain output, the legacy builder's, podman's (buildah's).
_BUILD_STEP = re.compile(
    r"^(?:#\d+ \[(?:[\w.-]+ )?(?P<a>\d+)/(?P<b>\d+)\]|Step (?P<c>\d+)/(?P<d>\d+) :"
    r"|STEP (?P<e>\d+)/(?P<f>\d+):) ?(?P<text>.*)$"
)
_DOCKER_LAYER = re.compile(
    r"^(?P<id>[0-9a-f]{12}): (?P<status>Preparing|Waiting|Pushing|Pushed|Layer already exists"
    r"|Mounted from \S+|Retrying in \d+ seconds?)"
    rf"(?:\s*\[[=> ]*\]\s*(?P<cur>{_SIZE})/(?P<tot>{_SIZE}))?"
)
_PODMAN_BLOB = re.compile(
    r"^Copying blob (?:sha256:)?(?P<id>[0-9a-f]{12})[0-9a-f]*"
    rf"(?:.*?(?P<cur>{_SIZE}) / (?P<tot>{_SIZE}))?"
    r"(?P<end>.*(?:done|skipped: already exists))?"
)
_DIGEST = re.compile(r": digest: (?P<digest>sha256:[0-9a-f]{64}) size: \d+")
_UNITS = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}


def fragments(chunk: str) -> list[str]:
    """Terminal output -> the text between carriage returns, newlines and cursor moves."""
    return [f.strip() for f in re.split(r"[\r\n]+", _ANSI.sub("\n", chunk)) if f.strip()]


def size(text: str) -> int:
    """49.15kB, 4.335MB, 512B (docker: powers of 1000), 12.3MiB (podman: of 1024)."""
    found = re.fullmatch(r"([\d.]+)\s?([kKMGT]?)(i?)B", text.strip())
    if not found:
        return 0
    number, unit, binary = found.groups()
    scale = 1024 ** "kmgt".index(unit.lower()) * 1024 if binary and unit else 0
    return int(float(number) * (scale or _UNITS[unit.lower()]))


@dataclass(frozen=True)
class BuildStep:
    number: int
    total: int
    text: str


def build_step(line: str) -> BuildStep | None:
    found = _BUILD_STEP.match(line.strip())
    if not found:
        return None
    number = found["a"] or found["c"] or found["e"]
    total = found["b"] or found["d"] or found["f"]
    return BuildStep(int(number), int(total), found["text"].strip())


@dataclass
class Layer:
    state: str = "Preparing"
    done: int = 0
    total: int = 0

    @property
    def finished(self) -> bool:
        return self.state in ("Pushed", "Layer already exists") or self.state.startswith(
            "Mounted from"
        )


@dataclass
class Push:
    """A push as its output tells it: each layer's state and bytes, and the digest at the end."""

    layers: dict[str, Layer] = field(default_factory=dict)
    digest: str = ""

    def read(self, line: str) -> bool:
        """Take one fragment; True if it changed what the push shows."""
        if found := _DIGEST.search(line):
            self.digest = found["digest"]
            return True
        found = _DOCKER_LAYER.match(line) or _PODMAN_BLOB.match(line)
        if not found:
            return False
        new = found["id"] not in self.layers
        layer = self.layers.setdefault(found["id"], Layer())
        before = None if new else (layer.state, layer.done, layer.total)
        status = found.groupdict().get("status")
        if status is None:  # podman
            end = found["end"] or ""
            status = (
                "Layer already exists"
                if "already exists" in end
                else "Pushed"
                if "done" in end
                else "Pushing"
            )
        if not layer.finished:
            layer.state = status
        if found["tot"]:
            layer.done, layer.total = size(found["cur"]), size(found["tot"])
        if layer.state == "Pushed" and layer.total:
            layer.done = layer.total
        return (layer.state, layer.done, layer.total) != before

    @property
    def layers_done(self) -> int:
        return sum(layer.finished for layer in self.layers.values())

    @property
    def bytes_done(self) -> int:
        return sum(layer.done for layer in self.layers.values())

    @property
    def bytes_total(self) -> int:
        return sum(layer.total for layer in self.layers.values())


def megabytes(count: int) -> str:
    return f"{count / 1e6:.1f} MB"
