"""The engine every front end drives: discover, plan and apply one section at a time."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from runbook import day_two, drift, inputs
from runbook.errors import Problem, RunbookError, problem_from
from runbook.events import (
    Listener,
    Notice,
    StepFailed,
    StepFinished,
    StepStarted,
    ignore,
)
from runbook.image import Build
from runbook.known import Known
from runbook.next_steps import next_steps
from runbook.pause import Pause
from runbook.plan import Action, UnknownValue, Wait, describe
from runbook.section_image import SectionImage
from runbook.settings import Settings, to_record
from runbook.state import StateFile, StateWriteError
from runbook.steps import STEPS, Observed, Step
from runbook.steps.image import is_image_wait
from runbook.steps.load_balancer import load_balancer_active

# What only a run that reaches AWS uses (calls, waits, the summary, preflight's look, the
# image's build) is imported where it is used: an offline plan never loads it.
if TYPE_CHECKING:
    from runbook import preflight as preflight_checks
    from runbook.aws import Aws
    from runbook.executor import Executor
    from runbook.image.job import ImageJob
    from runbook.summary import Summary

Confirm = Callable[[Step, list[Action]], bool]


def yes(_step: Step, _actions: list[Action]) -> bool:
    return True


# Builds the engine whole for a front end, given where the front end wants its events: the
# composition root (the command line, a test) knows the rest.
EngineFor = Callable[[Listener], "Runbook"]


class Runbook:
    """One deployment's engine: its sections, each discovered, planned and applied.

    `aws` is None for a dry run with no credentials. Built whole: what it knows, where its
    events go and how it pauses are given here and never replaced; settings change through
    `use_settings`, and `start_over` forgets. Day two (runbook/day_two_run.py), destroy
    (runbook/destroy.py) and the image (runbook/section_image.py) are their own modules.
    """

    def __init__(
        self,
        settings: Settings,
        aws: Aws | None,
        state: StateFile,
        *,
        emit: Listener = ignore,
        sandbox: bool = False,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        steps: tuple[Step, ...] = STEPS,
        known: dict[str, Any] | None = None,
        profile: str = "",
        account: str = "",
        build: Build | None = None,
    ) -> None:
        self._settings = settings
        self._aws = aws
        self._state = state
        self._emit = emit
        self._sandbox = sandbox
        # Interruptible: close() wakes any wait (a closing app must not hang on a thread).
        self._pause = Pause(sleep)
        self._clock = clock
        self._steps = steps
        self._profile = profile  # as given on the command line, for the next commands to name
        self._account = account  # the AWS account, once a command has looked (names destroy's)
        self._build = build or Build()
        self._known = Known(state.known(), dict(known or {}))
        if aws is not None:
            # AWS's retries back off through the engine's pause: injected in tests, woken at close.
            aws.sleep = self._pause
        # Each section's latest discovery, for its facts and differences.
        self._seen: dict[str, Observed] = {}
        self._image = SectionImage(self._known, self._build, aws, emit, self._pause, clock)
        self._image.derive(settings)

    # -- what it was built with (read-only: nothing outside replaces them) ------------------

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def aws(self) -> Aws | None:
        return self._aws

    @property
    def state(self) -> StateFile:
        return self._state

    @property
    def emit(self) -> Listener:
        return self._emit

    @property
    def sleep(self) -> Callable[[float], None]:
        return self._pause

    @property
    def clock(self) -> Callable[[], float]:
        return self._clock

    @property
    def steps(self) -> tuple[Step, ...]:
        return self._steps

    @property
    def known(self) -> Mapping[str, Any]:
        """Every value known so far (read-only: discovery and the calls add to it)."""
        return MappingProxyType(self._known.values)

    @property
    def sandbox(self) -> bool:
        return self._sandbox

    @property
    def profile(self) -> str:
        return self._profile

    @property
    def account(self) -> str:
        return self._account

    @property
    def build(self) -> Build:
        return self._build

    @property
    def version(self) -> str:
        """The app's version, from its source: the image's tag."""
        return self._image.version

    def use_settings(self, settings: Settings) -> None:
        """The person's edited (and validated) settings: what every later plan is made from."""
        self._settings = settings

    def start_over(self, fresh: Settings) -> None:
        """Forget progress and settings (back to `fresh`); keep the deployment's name, region
        and password. What exists in AWS is found again by name when a section runs."""
        self._known.forget(self._state.known())
        self._state.reset()
        keep = self._settings
        self._settings = dataclasses.replace(
            fresh.replace("deployment", name=keep.deployment.name, region=keep.deployment.region),
            master_password=keep.master_password,
        )

    def to_do_again(self, numbers: list[str]) -> None:
        """Sections the state file calls done whose resources are gone: to do once more."""
        for number in numbers:
            self._state.record(number, "to do", outputs={})

    # -- looking -------------------------------------------------------------------------

    def step(self, key: str) -> Step:
        """A step by section number (I..VI) or settings key."""
        for step in self.steps:
            if key in (step.number, step.key):
                return step
        raise KeyError(key)

    def preflight(self) -> list[preflight_checks.Finding]:
        from runbook import preflight as preflight_checks

        if self.aws is None:
            return [preflight_checks.check_instance_class(None, self.settings)]
        findings, known = preflight_checks.run(
            self.aws, self.settings, sandbox=self.sandbox, build=self.build, version=self.version
        )
        self._learn(known)
        return findings

    def discover(self, step: Step) -> Observed:
        assert self.aws is not None, "discovery needs AWS access"
        # Discovery builds only on what this run has seen, never on state-file hints.
        seen = step.discover(self.aws, self.settings, self._known.seen_this_run())
        # What the state file said of this section gives way to what exists now.
        self._known.forget(step.output_keys(self.settings))
        self._learn(seen.known)
        # A plan may need any earlier section's values, not only its own.
        seen.known = dict(self._known.values)
        self._seen[step.number] = seen
        return seen

    def plan(self, step: Step, *, offline: bool = False) -> list[Action]:
        """What apply would do now: from discovery, or from nothing when offline."""
        seen = None if offline or self.aws is None else self.discover(step)
        return self._image.with_how(step.plan(self.settings, seen), self.settings)

    def preview(self, step: Step, settings: Settings | None = None) -> list[dict[str, Any]]:
        """Offline plan rows for a form's current values: no AWS call, fast enough per key."""
        settings = settings or self.settings
        return self.rows(self._image.with_how(step.plan(settings, None), settings))

    def rows(self, actions: list[Action]) -> list[dict[str, Any]]:
        """Plan rows, each with the AWS rules it breaks (empty: AWS would take it)."""
        from runbook.aws_rules import check

        known = self._known.values
        rows = [
            {
                **describe(a, known),
                "refused": [
                    r.as_dict() for r in check(a, known, region=self.settings.deployment.region)
                ],
            }
            for a in actions
        ]
        for row in rows:
            if "wait" in row:  # a wait's text may name a value known since it was planned
                row["wait"] = inputs.fill(row["wait"], known)
        return rows

    def facts(self, step: Step) -> list[drift.Fact]:
        """The settings that matter, next to what the latest discovery found."""
        found = drift.facts(step, self.settings, self._seen.get(step.number))
        return day_two.after_rollback(found, self.state.day_two.get("rollback"))

    def differences(self, step: Step) -> list[drift.Fact]:
        """Where what exists differs from the settings: applied in place, or explained."""
        return [f for f in self.facts(step) if f.differs]

    def next_steps(self) -> list[tuple[str, str]]:
        """The commands to run next, spelled for this deployment's target and state file."""
        return next_steps(sandbox=self.sandbox, state=self.state.path, profile=self.profile)

    def remember(self) -> None:
        """Record the settings with the deployment's state (never the password)."""
        self.state.record_settings(to_record(self.settings))

    # -- doing ---------------------------------------------------------------------------

    def apply(self, step: Step, confirm: Confirm = yes) -> bool:
        """Discover, plan and (once confirmed) carry out one section. False if declined.

        Every value the section needs from earlier sections is checked before its first
        call: a section refuses whole, it never stops half-way for a reason it could see.
        """
        started = self.clock()
        if not step.enabled(self.settings):
            self.state.record(step.number, "skipped")
            self.emit(StepFinished(step.number, "skipped"))
            return True
        self.emit(StepStarted(step.number, step.title))
        try:
            self._image.refresh(self.settings)
            self._image_job(step)
            actions = self.plan(step)
            self.check_inputs(step, actions)
            for warning in day_two.rolls_forward(self.differences(step)):
                self.emit(Notice(step.number, warning, "warning"))
            if actions and not confirm(step, actions):
                # Nothing was done: the section keeps the status it had.
                self.emit(StepFinished(step.number, "declined"))
                return False
            self.remember()
            self.state.record(step.number, "running")
            self._run(step, actions)
            # What the calls returned is as fresh as discovery.
            self._known.confirmed(key for action in actions for key in action.captures)
            self._image.derive(self.settings)
            # The repository may exist now (section III): the image can be built meanwhile.
            self._image_job(step)
        except StateWriteError:
            raise  # the state file cannot record the failure either; it says so itself
        except Exception as exc:  # any failure ends as a Problem a person can act on
            from runbook.explain import explain

            problem = self._needs_earlier(exc) or problem_from(exc)
            details = tuple(
                getattr(exc, "details", ()) or explain(self.aws, self.settings, problem.code)
            )
            self.state.record(step.number, "failed", error=f"{problem.code}: {problem.message}")
            self.emit(
                StepFailed(
                    step.number, problem.code, problem.message, problem.advice, tuple(details)
                )
            )
            raise RunbookError(problem, details) from exc
        for fact in self.differences(step):
            if not fact.in_place:  # what the calls could not change is said, never dropped
                self.emit(Notice(step.number, fact.explain(), "warning"))
        known = self._known.values
        outputs = {k: known[k] for k in step.output_keys(self.settings) if k in known}
        self.state.record(step.number, "done", outputs)
        self.emit(StepFinished(step.number, "done", outputs, round(self.clock() - started, 1)))
        return True

    def check_inputs(self, step: Step, actions: list[Action]) -> None:
        """Every value the plan takes from earlier sections is known, or NeedsEarlierSection.

        A value only the state file remembers is looked up again first (read-only): it is a
        hint, and the resource may be gone.
        """
        wanted = inputs.needed(step, self.settings, actions)
        unsure = self._known.unsure(wanted)
        producers = {inputs.producer(k, self.steps, self.settings) for k in unsure}
        for earlier in self.steps:
            if earlier in producers and earlier is not step and earlier.enabled(self.settings):
                self.discover(earlier)
        missing = self._known.missing(wanted)
        if missing:
            problem = inputs.missing_problem(step, missing, self.steps, self.settings)
            raise RunbookError(problem)
        self._check_not_blocked(step)

    def _check_not_blocked(self, step: Step) -> None:
        """An earlier section's setting that cannot change in place, and this one builds on."""
        for key in drift.BLOCKED_BY.get(step.key, ()):
            earlier = self.step(key)
            seen = self._seen.get(earlier.number) or self.discover(earlier)
            for fact in drift.differences(earlier, self.settings, seen):
                if step.key in fact.blocks:
                    raise RunbookError(
                        Problem(
                            "NotChangeableInPlace",
                            f"Section {earlier.number}: {fact.explain()}. Section "
                            f"{step.number} would build on the new value while the old one "
                            "stays. Nothing was called.",
                            f"Set the {fact.label} back to {fact.current!r}, or make section "
                            f"{earlier.number} anew, then run section {step.number} again.",
                        )
                    )

    def deploy(self, confirm: Confirm = yes) -> Summary:
        """Every section in order, then the summary; stops at the first failure."""
        for step in self.steps:
            self.apply(step, confirm)
        return self.summary(wait=True)

    def summary(self, *, wait: bool = False) -> Summary:
        from runbook.summary import summarise

        assert self.aws is not None
        known = self._known.values
        if wait and self.settings.load_balancer.name + ".LoadBalancerArn" in known:
            self.executor().wait(load_balancer_active(self.settings, "end"))
        return summarise(self.aws, self.settings, known, sleep=self.sleep)

    def __enter__(self) -> Runbook:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop what runs in the background (an image build) and wake any wait (it raises
        Stopped): the runbook is closing."""
        self._pause.stop()
        self._image.close()

    # -- inside ---------------------------------------------------------------------------

    def executor(self, listener: Listener | None = None) -> Executor:
        """Carries out calls and waits on what this run knows; its events go to the engine's
        listener (or one that passes them on, as destroy's does)."""
        from runbook.executor import Executor

        assert self.aws is not None
        return Executor(
            self.aws,
            self._known.values,
            listener or self.emit,
            sleep=self.sleep,
            clock=self.clock,
        )

    def _run(self, step: Step, actions: list[Action]) -> None:
        executor = self.executor()
        for action in actions:
            if isinstance(action, Wait) and is_image_wait(action):
                self._image.await_image(action, self._image_job(step, retry=True))
            executor.run([action])

    def _image_job(self, step: Step, *, retry: bool = False) -> ImageJob | None:
        return self._image.job(self.settings, step, self.steps, self.discover, retry=retry)

    def _needs_earlier(self, exc: Exception) -> Problem | None:
        """A value from a section not run yet is the person's next step, not a bug."""
        if not isinstance(exc, UnknownValue):
            return None
        key = exc.args[0]
        producer = next((s for s in self.steps if key in s.output_keys(self.settings)), None)
        if producer is None:
            return None
        return Problem(
            "NeedsEarlierSection",
            f"This section needs {key}, which section {producer.number} ({producer.title}) "
            "makes, and it is not known yet.",
            f"Run section {producer.number} first, then run this one again.",
        )

    def _learn(self, values: dict[str, Any]) -> None:
        self._known.learn(values)
        self._image.derive(self.settings)
