"""Fargate's task sizes, read from cfn-lint's fargate_cpu_memory extension, in every form ECS takes.

ECS takes cpu as CPU units ("256") or vCPUs (".25 vCPU"), and memory as MiB ("512") or GB
("0.5 GB"), and converts both to numbers when it registers the task definition (ECS
Developer Guide, "Troubleshoot Amazon ECS task definition invalid CPU or memory errors").
The extension states each CPU size's units, the words it may be written in, and the memory
that goes with it (a list, or a range in steps), so nothing here is a copied table.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from runbook.rules import cfn
from runbook.rules.core import compiled

EXTENSION = "aws_ecs_taskdefinition/fargate_cpu_memory"
_GB = re.compile(r"(\d+(?:\.\d+)?)\s*GB", re.IGNORECASE)


@dataclass(frozen=True)
class Size:
    units: str  # "256"
    cpu_pattern: str  # ".25 vCPU" and its other spellings
    memory: tuple[int, ...]  # MiB
    memory_pattern: str  # "0.5 GB", "1GB"

    # Compiled on first use: a plan in CPU units and MiB (the guide's own) needs none of them.
    @property
    def cpu_words(self) -> Any:
        return compiled(self.cpu_pattern)

    @property
    def memory_words(self) -> Any:
        return compiled(self.memory_pattern)


@functools.cache
def sizes() -> tuple[Size, ...]:
    found = []
    for branch in cfn.extension(EXTENSION)["then"]["anyOf"]:
        cpu, memory = branch["properties"]["Cpu"], branch["properties"]["Memory"]
        allowed = memory["then"].get("enum") or range(
            memory["then"]["minimum"], memory["then"]["maximum"] + 1, memory["then"]["multipleOf"]
        )
        for units in cpu["then"]["enum"]:
            found.append(
                Size(
                    str(units),
                    cpu["else"]["pattern"],
                    tuple(int(m) for m in allowed),
                    memory["else"]["pattern"],
                )
            )
    return tuple(found)


def _size(cpu: str) -> Size | None:
    for size in sizes():
        if cpu == size.units or (size.cpu_words is not None and size.cpu_words.search(cpu)):
            return size
    return None


def cpu_units(cpu: str) -> str | None:
    """'256' for '256' or '.25 vCPU'; None for a size Fargate does not have."""
    size = _size(str(cpu))
    return size.units if size else None


def memory_mib(memory: str, cpu: str | None = None) -> int | None:
    """MiB for '512' or '0.5 GB' (ECS's own conversion: GB x 1024); None if neither form.

    With cpu, the GB form must also be one the extension writes for that size."""
    text = str(memory)
    if text.isdigit():
        return int(text)
    words = _GB.fullmatch(text.strip())
    if not words:
        return None
    size = _size(str(cpu)) if cpu is not None else None
    if size is not None and size.memory_words is not None and not size.memory_words.search(text):
        return None
    return round(float(words.group(1)) * 1024)


def _listed(memory: tuple[int, ...]) -> str:
    if len(memory) <= 4:
        return ", ".join(map(str, memory))
    return f"{memory[0]} to {memory[-1]} in steps of {memory[1] - memory[0]}"


def problem(cpu: Any, memory: Any) -> tuple[str, str] | None:
    """('cpu' or 'memory', what Fargate takes) for a pair it does not; None for one it does."""
    size = _size(str(cpu))
    if size is None:
        return "cpu", "Fargate takes cpu " + ", ".join(s.units for s in sizes())
    mib = memory_mib(str(memory), str(cpu))
    if mib is None or mib not in size.memory:
        return "memory", (
            f"Fargate with cpu {size.units} takes memory {_listed(size.memory)} "
            "(MiB; or the same in GB)"
        )
    return None
