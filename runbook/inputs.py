"""What a section takes from earlier sections, checked before its first call.

A plan names values it does not have yet as references (`<flask-todo-elb-sg.GroupId>`). Each
is produced either by an earlier call of the same plan, or by an earlier section; a section
whose inputs are not all known refuses before it calls anything, naming the section to run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from runbook.errors import Problem
from runbook.plan import Action, Ref
from runbook.settings import Settings
from runbook.steps.base import Step

_PLACEHOLDER = re.compile(r"<([\w./:-]+)>")


def references(value: Any) -> Iterator[str]:
    """Every reference key in a call's parameters, in order."""
    if isinstance(value, Ref):
        yield value.key
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from references(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from references(item)


def needed(step: Step, s: Settings, actions: Sequence[Action]) -> list[str]:
    """The keys this plan takes from outside itself: not captured by one of its earlier calls."""
    made_here: set[str] = set()
    wanted: dict[str, None] = {}
    for action in actions:
        for key in references(action.params):
            if key not in made_here:
                wanted[key] = None
        made_here |= set(action.captures)
    wanted.update(dict.fromkeys(step.needs(s)))
    return list(wanted)


def producer(key: str, steps: Sequence[Step], s: Settings) -> Step | None:
    return next((step for step in steps if key in step.output_keys(s)), None)


def missing_problem(
    step: Step, missing: Sequence[str], steps: Sequence[Step], s: Settings
) -> Problem:
    """NeedsEarlierSection, naming the first section to run and every value that is missing."""
    makers = [producer(key, steps, s) for key in missing]
    first = next((m for m in makers if m is not None), None)
    where = f"section {first.number} ({first.title})" if first else "an earlier section"
    listed = ", ".join(missing)
    return Problem(
        "NeedsEarlierSection",
        f"Section {step.number} needs {listed}, which {where} makes, and it is not known yet "
        "(or no longer exists). Nothing was called.",
        f"Run {where.split(' (')[0]} first, then run section {step.number} again.",
    )


def fill(text: str, known: Mapping[str, Any]) -> str:
    """A wait's text with the <key> it names replaced, once that value is known."""
    return _PLACEHOLDER.sub(lambda m: str(known.get(m.group(1), m.group(0))), text)
