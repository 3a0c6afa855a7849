"""The engine every front end drives: plan and apply one section at a time, status, destroy."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from runbook import preflight as preflight_checks
from runbook.aws import Aws
from runbook.errors import Problem, RunbookError, problem_from
from runbook.events import Listener, Notice, StepFailed, StepFinished, StepStarted, ignore
from runbook.executor import Executor
from runbook.plan import Action, UnknownValue, describe
from runbook.settings import Settings
from runbook.state import StateFile
from runbook.steps import STEPS, Observed, Step
from runbook.steps.load_balancer import load_balancer_active
from runbook.summary import Summary, summarise

Confirm = Callable[[Step, list[Action]], bool]


def yes(_step: Step, _actions: list[Action]) -> bool:
    return True


@dataclass
class Runbook:
    """One deployment's engine. `aws` is None for a dry run with no credentials."""

    settings: Settings
    aws: Aws | None
    state: StateFile
    emit: Listener = ignore
    sandbox: bool = False
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    steps: tuple[Step, ...] = STEPS
    known: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Recorded outputs are hints for previews; discovery replaces them with the truth.
        given, hints = self.known, self.state.known()
        self.known = {**hints, **given}
        self._hints = set(hints) - set(given)
        self._lock = threading.Lock()
        if self.aws is not None:
            # AWS's retries back off through the engine's sleep: injected in tests, and
            # interruptible in the app (which replaces it after construction, hence the lambda).
            self.aws.sleep = lambda seconds: self.sleep(seconds)

    # -- looking -------------------------------------------------------------------------

    def step(self, key: str) -> Step:
        """A step by section number (I..VI) or settings key."""
        for step in self.steps:
            if key in (step.number, step.key):
                return step
        raise KeyError(key)

    def preflight(self) -> list[preflight_checks.Finding]:
        if self.aws is None:
            return [preflight_checks.check_instance_class(None, self.settings)]
        findings, known = preflight_checks.run(self.aws, self.settings, sandbox=self.sandbox)
        self._learn(known)
        return findings

    def discover(self, step: Step) -> Observed:
        assert self.aws is not None, "discovery needs AWS access"
        # Discovery builds only on what this run has seen, never on state-file hints.
        with self._lock:
            seen_this_run = {k: v for k, v in self.known.items() if k not in self._hints}
        seen = step.discover(self.aws, self.settings, seen_this_run)
        with self._lock:
            # What the state file said of this section gives way to what exists now.
            for key in step.output_keys(self.settings):
                self.known.pop(key, None)
        self._learn(seen.known)
        # A plan may need any earlier section's values, not only its own.
        seen.known = dict(self.known)
        return seen

    def plan(self, step: Step, *, offline: bool = False) -> list[Action]:
        """What apply would do now: from discovery, or from nothing when offline."""
        seen = None if offline or self.aws is None else self.discover(step)
        return step.plan(self.settings, seen)

    def preview(self, step: Step, settings: Settings | None = None) -> list[dict[str, Any]]:
        """Offline plan rows for a form's current values: no AWS call, fast enough per key."""
        return [describe(a, self.known) for a in step.plan(settings or self.settings, None)]

    def rows(self, actions: list[Action]) -> list[dict[str, Any]]:
        """Plan rows, each with the AWS rules it breaks (empty: AWS would take it)."""
        from runbook.rules import check

        return [
            {**describe(a, self.known), "refused": [r.as_dict() for r in check(a, self.known)]}
            for a in actions
        ]

    # -- doing ---------------------------------------------------------------------------

    def apply(self, step: Step, confirm: Confirm = yes) -> bool:
        """Discover, plan and (once confirmed) carry out one section. False if declined."""
        started = self.clock()
        if not step.enabled(self.settings):
            self.state.record(step.number, "skipped")
            self.emit(StepFinished(step.number, "skipped"))
            return True
        self.emit(StepStarted(step.number, step.title))
        try:
            actions = self.plan(step)
            if actions and not confirm(step, actions):
                self.state.record(step.number, "skipped")
                self.emit(StepFinished(step.number, "skipped"))
                return False
            self.state.record(step.number, "running")
            self._executor().run(actions)
            with self._lock:  # what the calls returned is as fresh as discovery
                self._hints -= {key for action in actions for key in action.captures}
        except Exception as exc:  # any failure ends as a Problem a person can act on
            problem = self._needs_earlier(exc) or problem_from(exc)
            details = tuple(getattr(exc, "details", ()) or self._explain(step, problem.code))
            self.state.record(step.number, "failed", error=f"{problem.code}: {problem.message}")
            self.emit(
                StepFailed(
                    step.number, problem.code, problem.message, problem.advice, tuple(details)
                )
            )
            raise RunbookError(problem, details) from exc
        outputs = {k: self.known[k] for k in step.output_keys(self.settings) if k in self.known}
        self.state.record(step.number, "done", outputs)
        self.emit(StepFinished(step.number, "done", outputs, round(self.clock() - started, 1)))
        return True

    def deploy(self, confirm: Confirm = yes) -> Summary:
        """Every section in order, then the summary; stops at the first failure."""
        for step in self.steps:
            self.apply(step, confirm)
        return self.summary(wait=True)

    def summary(self, *, wait: bool = False) -> Summary:
        assert self.aws is not None
        if wait and self.settings.load_balancer.name + ".LoadBalancerArn" in self.known:
            self._executor().wait(load_balancer_active(self.settings, "end"))
        return summarise(self.aws, self.settings, self.known, sleep=self.sleep)

    # -- looking back and undoing ----------------------------------------------------------

    def status(self) -> list[tuple[Step, Observed]]:
        return [(step, self.discover(step)) for step in self.steps]

    def destroy_plan(self) -> list[Action]:
        """Deletes for what carries our tag, last section first."""
        observed = self.status()
        return [a for step, seen in reversed(observed) for a in step.teardown(self.settings, seen)]

    def destroy(self, actions: list[Action]) -> None:
        try:
            self._executor().run(actions)
        except RunbookError as exc:
            self.emit(
                StepFailed("destroy", exc.problem.code, exc.problem.message, exc.problem.advice)
            )
            raise
        self.state.reset()
        self.emit(Notice("destroy", "everything this deployment made is deleted"))

    # -- inside ---------------------------------------------------------------------------

    def _executor(self) -> Executor:
        assert self.aws is not None
        return Executor(self.aws, self.known, self.emit, sleep=self.sleep, clock=self.clock)

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
        with self._lock:
            self.known.update(values)
            self._hints -= set(values)

    def _explain(self, step: Step, code: str) -> list[str]:
        """For a service that did not stabilise: why its tasks stopped, in ECS's words."""
        if code != "ServiceNotStable" or self.aws is None:
            return []
        cluster = self.settings.cluster.name
        try:
            arns = self.aws.call(
                "ecs",
                "list_tasks",
                cluster=cluster,
                serviceName=self.settings.service.name,
                desiredStatus="STOPPED",
            )["taskArns"][:5]
            if not arns:
                return []
            tasks = self.aws.call("ecs", "describe_tasks", cluster=cluster, tasks=arns)["tasks"]
        except Exception:  # explaining a failure must not hide it
            return []
        return [
            f"task {t['taskArn'].rsplit('/', 1)[-1]} stopped: {t.get('stoppedReason', '?')}"
            + "".join(
                f"; {c['name']}: {c.get('reason', c.get('exitCode', ''))}"
                for c in t.get("containers", [])
                if c.get("reason") or c.get("exitCode")
            )
            for t in tasks
        ]
