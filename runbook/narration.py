"""The engine's events in words: the one narration the app's log, the plain prompts and the
command line all print, so a call, a wait or a section's end reads the same everywhere.

A Narrator is fed each event in order and gives the lines it adds (rich Text: the words and
their colour). It keeps what it needs to say each thing once: the wait under way, a rollout's
deployments and events already told, the calls and warnings of the section running. How a
front end shows a wait live (a spinner, a ticking bar) is its own; its words are here too.
"""

from __future__ import annotations

from rich.text import Text

from runbook.day_two import SECTION as DAY_TWO
from runbook.events import (
    CallMade,
    Event,
    ImageProgress,
    Notice,
    Rollout,
    StepFailed,
    StepFinished,
    StepStarted,
    Waiting,
)
from runbook.executor import SENDING_AGAIN
from runbook.operation_names import operation_name
from runbook.steps import STEPS
from runbook.typical_waits import spoken, typical

IMAGE_RUNNING = ("login", "build", "push")
TITLES = {step.number: step.title for step in STEPS}


def clock(seconds: float) -> str:
    """m:ss"""
    seconds = int(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"


def call_line(event: CallMade) -> Text:
    """→ a call that changes something (? one that only reads; ↻ one met by a fault and sent
    again), its outcome, its time."""
    outcome = event.outcome
    again = outcome.endswith(SENDING_AGAIN)
    if again:
        line = Text("  ↻ ", style="yellow")
    else:
        line = Text("  → " if event.mutating else "  ? ", style="cyan")
    line.append(f"{event.service} {operation_name(event.service, event.operation)}")
    line.append(
        f"  {outcome}",
        style="green"
        if outcome == "ok"
        else "dim"
        if outcome == "already done"
        else "yellow"
        if again
        else "red",
    )
    line.append(f"  {event.seconds:.2f} s", style="dim")
    return line


def waiting_now(what: str, elapsed: float, detail: str = "") -> str:
    """What a live line says while a wait goes on: waiting for X … 12s (its source's news)."""
    text = f"waiting for {what} … {elapsed:.0f}s"
    return text + (f" ({detail})" if detail and detail != "done" else "")


def image_now(event: ImageProgress) -> str:
    """What a live line says while the image builds or pushes."""
    return f"image {event.phase}: {event.message}"


class Narrator:
    """Feed it every event, in order; it gives the lines each adds (often none)."""

    def __init__(self) -> None:
        self.waiting = ""  # the wait under way, if any
        self._title = ""  # a day-two action's, which its end repeats
        self._calls = 0
        self._changes = 0  # calls that change something
        self._warnings = 0
        self._deployments: dict[str, str] = {}
        self._events: set[str] = set()

    def __call__(self, event: Event) -> list[Text]:
        if isinstance(event, StepStarted):
            self._calls = self._changes = self._warnings = 0
            if event.section == DAY_TWO:
                self._title = event.title  # a front end shows it as a heading
                return []
            return [Text(f"Section {event.section}: looking at what exists…", style="bold")]
        if isinstance(event, CallMade):
            self._calls += 1
            self._changes += event.mutating
            return [call_line(event)]
        if isinstance(event, Waiting):
            return self._wait(event)
        if isinstance(event, ImageProgress):
            return self._image(event)
        if isinstance(event, Rollout):
            return self._rollout(event)
        if isinstance(event, Notice):
            warning = event.level == "warning"
            self._warnings += warning
            return [
                Text(f"  {'! ' if warning else ''}{event.message}", "yellow" if warning else "")
            ]
        if isinstance(event, StepFinished):
            self.waiting = ""
            return [self._finished(event)]
        if isinstance(event, StepFailed):
            self.waiting = ""
            lines = [Text(f"✗ {event.code}: {event.message}", style="bold red")]
            # The why: RDS's events, stopped tasks' reasons.
            lines += [Text(f"  {line}", style="red") for line in event.details]
            if event.advice:
                lines.append(Text(f"  What to do: {event.advice}"))
            return lines
        return []

    def _finished(self, event: StepFinished) -> Text:
        if event.section == DAY_TWO:
            if event.status == "declined":
                return Text(f"- {self._title}: not run; nothing changed", style="dim")
            if self._changes:
                return Text(f"✓ {self._title}: done in {event.seconds} s", style="green")
            return Text(f"✓ {self._title}: nothing to change", style="green")
        if event.status == "done":
            return Text(
                f"✓ Section {event.section} done in {event.seconds} s{self._outcome()}",
                style="green",
            )
        if event.status == "declined":
            return Text(
                f"- Section {event.section} not run: you cancelled; nothing changed", style="dim"
            )
        # No StepStarted came before: the section's title goes with the note.
        title = TITLES.get(event.section)
        named = f"{event.section} · {title}" if title else event.section
        return Text(f"- Section {named} is off with these settings: nothing to do")

    def _outcome(self) -> str:
        if self._calls:
            return ""
        if self._warnings:
            return " (no call could change what differs: see above)"
        return " (nothing to change: it all matches the settings)"

    def _wait(self, event: Waiting) -> list[Text]:
        if event.detail == "done":
            self.waiting = ""
            after = f" after {clock(event.elapsed)}" if event.elapsed >= 1 else ""
            return [Text(f"  ✓ {event.what}: ready{after}", style="green")]
        if event.what == self.waiting:
            return []
        self.waiting = event.what
        span = typical(event.what)
        usual = f" ({spoken(span)})" if span else ""
        return [Text(f"  ⏳ waiting for {event.what}{usual}", style="yellow")]

    def _image(self, event: ImageProgress) -> list[Text]:
        """The background build's steps; its counts are a live line's, not the log's."""
        if not event.milestone:
            return []
        style = {"failed": "red", "pushed": "green", "present": "green"}.get(event.phase, "")
        return [Text(f"  ⬆ image {event.phase}: {event.message}", style=style)]

    def _rollout(self, event: Rollout) -> list[Text]:
        """Each deployment's counts when they change (old and new tasks), then ECS's events."""
        lines = []
        for d in event.deployments:
            text = d.line()
            if self._deployments.get(d.id) != text:
                self._deployments[d.id] = text
                lines.append(Text(f"  ↻ {text}", style="red" if d.rollout == "FAILED" else "cyan"))
        for e in reversed(event.events):  # oldest first, as they happened
            if e.id not in self._events:
                self._events.add(e.id)
                lines.append(Text(f"      {e.message}", style="dim"))
        return lines
