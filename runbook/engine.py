"""The engine every front end drives: plan and apply one section at a time, status, destroy."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from runbook import day_two, drift, inputs, leftovers, service_status, teardown_order
from runbook import inventory as tag_inventory
from runbook import preflight as preflight_checks
from runbook.aws import Aws
from runbook.errors import Problem, RunbookError, problem_from
from runbook.events import (
    CallMade,
    Event,
    ImageProgress,
    Listener,
    Notice,
    StepFailed,
    StepFinished,
    StepStarted,
    Waiting,
    ignore,
)
from runbook.executor import Executor
from runbook.image import Build
from runbook.image.commands import for_a_person, platform_for
from runbook.image.job import ImageJob
from runbook.image.version import version_of
from runbook.next_steps import next_steps
from runbook.pause import Pause
from runbook.plan import Action, ApiCall, UnknownValue, Wait, describe
from runbook.settings import Settings, to_record
from runbook.state import StateFile, StateWriteError
from runbook.steps import STEPS, Observed, Step, final_snapshot
from runbook.steps.database import failure_events
from runbook.steps.image import (
    image_key,
    image_present,
    is_image_wait,
    repository_key,
    version_key,
)
from runbook.steps.load_balancer import load_balancer_active
from runbook.summary import Summary, summarise

Confirm = Callable[[Step, list[Action]], bool]
ConfirmDayTwo = Callable[[day_two.DayTwo], bool]
# How often a section waiting for the image build looks at it (and lets the app interrupt).
JOIN_EVERY = 0.25


def yes(_step: Step, _actions: list[Action]) -> bool:
    return True


def yes_day_two(_plan: day_two.DayTwo) -> bool:
    return True


@dataclass(frozen=True)
class Removal:
    """One line of destroy's report: what a call removed, or why it could not."""

    section: str
    what: str  # the call's reason, e.g. "delete flask-todo-elb-sg"
    outcome: str  # removed | already gone | failed | not confirmed
    reason: str = ""  # AWS's code and message, when it failed
    advice: str = ""


@dataclass
class Status:
    """What `status` shows: each section's resources and facts, and what only the tag finds."""

    sections: list[tuple[Step, Observed]]
    leftovers: list[tag_inventory.Tagged]
    unchecked: list[str]


# Builds the engine whole for a front end, given where the front end wants its events: the
# composition root (the command line, a test) knows the rest.
EngineFor = Callable[[Listener], "Runbook"]


class Runbook:
    """One deployment's engine. `aws` is None for a dry run with no credentials.

    Built whole: what it knows, where its events go and how it pauses are given here and
    never replaced; settings change through `use_settings`, and `start_over` forgets.
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
        # What the app's image is built from, and the engine that builds it (None: the person).
        self._build = build or Build()
        # Recorded outputs are hints for previews; discovery replaces them with the truth.
        given, hints = dict(known or {}), state.known()
        self._known: dict[str, Any] = {**hints, **given}
        self._hints = set(hints) - set(given)
        self._lock = threading.Lock()
        if aws is not None:
            # AWS's retries back off through the engine's pause: injected in tests, woken at close.
            aws.sleep = self._pause
        # Each section's latest discovery, for its facts and differences.
        self._seen: dict[str, Observed] = {}
        self._group_sources: dict[str, set[str]] = {}
        # The image's background builds, by <repository>:<version>; versions found in ECR.
        self._jobs: dict[str, ImageJob] = {}
        self._present: set[str] = set()
        self.version = version_of(self._build.context)
        self._derive_image()

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
        return MappingProxyType(self._known)

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

    def use_settings(self, settings: Settings) -> None:
        """The person's edited (and validated) settings: what every later plan is made from."""
        self._settings = settings

    def start_over(self, fresh: Settings) -> None:
        """Forget progress and settings (back to `fresh`); keep the deployment's name, region
        and password. What exists in AWS is found again by name when a section runs."""
        with self._lock:
            for key in self._state.known():
                self._known.pop(key, None)
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
        with self._lock:
            seen_this_run = {k: v for k, v in self._known.items() if k not in self._hints}
        seen = step.discover(self.aws, self.settings, seen_this_run)
        with self._lock:
            # What the state file said of this section gives way to what exists now.
            for key in step.output_keys(self.settings):
                self._known.pop(key, None)
        self._learn(seen.known)
        # A plan may need any earlier section's values, not only its own.
        seen.known = dict(self._known)
        self._seen[step.number] = seen
        return seen

    def plan(self, step: Step, *, offline: bool = False) -> list[Action]:
        """What apply would do now: from discovery, or from nothing when offline."""
        seen = None if offline or self.aws is None else self.discover(step)
        return self._with_image_how(step.plan(self.settings, seen))

    def preview(self, step: Step, settings: Settings | None = None) -> list[dict[str, Any]]:
        """Offline plan rows for a form's current values: no AWS call, fast enough per key."""
        settings = settings or self.settings
        return self.rows(self._with_image_how(step.plan(settings, None), settings))

    def rows(self, actions: list[Action]) -> list[dict[str, Any]]:
        """Plan rows, each with the AWS rules it breaks (empty: AWS would take it)."""
        from runbook.rules import check

        rows = [
            {**describe(a, self._known), "refused": [r.as_dict() for r in check(a, self._known)]}
            for a in actions
        ]
        for row in rows:
            if "wait" in row:  # a wait's text may name a value known since it was planned
                row["wait"] = inputs.fill(row["wait"], self._known)
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
            self._refresh_version()
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
            with self._lock:  # what the calls returned is as fresh as discovery
                self._hints -= {key for action in actions for key in action.captures}
            self._derive_image()
            # The repository may exist now (section III): the image can be built meanwhile.
            self._image_job(step)
        except StateWriteError:
            raise  # the state file cannot record the failure either; it says so itself
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
        for fact in self.differences(step):
            if not fact.in_place:  # what the calls could not change is said, never dropped
                self.emit(Notice(step.number, fact.explain(), "warning"))
        outputs = {k: self._known[k] for k in step.output_keys(self.settings) if k in self._known}
        self.state.record(step.number, "done", outputs)
        self.emit(StepFinished(step.number, "done", outputs, round(self.clock() - started, 1)))
        return True

    def check_inputs(self, step: Step, actions: list[Action]) -> None:
        """Every value the plan takes from earlier sections is known, or NeedsEarlierSection.

        A value only the state file remembers is looked up again first (read-only): it is a
        hint, and the resource may be gone.
        """
        wanted = inputs.needed(step, self.settings, actions)
        with self._lock:
            unsure = [k for k in wanted if k not in self._known or k in self._hints]
        producers = {inputs.producer(k, self.steps, self.settings) for k in unsure}
        for earlier in self.steps:
            if earlier in producers and earlier is not step and earlier.enabled(self.settings):
                self.discover(earlier)
        with self._lock:
            missing = [k for k in wanted if k not in self._known]
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
        assert self.aws is not None
        if wait and self.settings.load_balancer.name + ".LoadBalancerArn" in self._known:
            self._executor().wait(load_balancer_active(self.settings, "end"))
        return summarise(self.aws, self.settings, self._known, sleep=self.sleep)

    # -- day two: the running service ----------------------------------------------------

    def service_status(self) -> service_status.ServiceStatus:
        """The service's deployments, tasks and newest events (read-only)."""
        assert self.aws is not None
        return service_status.read(self.aws, self.settings)

    def day_two(self, kind: str, count: int | None = None) -> day_two.DayTwo:
        """A day-two action's calls, from what exists now (reads only), or a refusal."""
        assert self.aws is not None, "day-two actions need AWS access"
        return day_two.plan(self.aws, self.settings, kind, count)

    def run_day_two(self, plan: day_two.DayTwo, confirm: ConfirmDayTwo = yes_day_two) -> bool:
        """Once confirmed, make the calls, keep what changed, and wait for the service.

        A changed desired count is a setting: it is recorded as soon as AWS has taken it,
        before the wait, so the next deploy keeps it whatever the rollout does.
        """
        started = self.clock()
        section = day_two.SECTION
        self.emit(StepStarted(section, plan.title))
        for note in plan.notes:
            self.emit(Notice(section, note))
        if not plan.actions:
            self.emit(Notice(section, "Nothing to change: it is so already."))
            self._keep(plan)
            self.emit(StepFinished(section, "done"))
            return True
        if not confirm(plan):
            self.emit(StepFinished(section, "declined"))
            return False
        executor = self._executor()
        try:
            for action in plan.actions:
                if isinstance(action, ApiCall):
                    executor.call(action)
            self._keep(plan)
            for action in plan.actions:
                if isinstance(action, Wait):
                    executor.wait(action)
        except Exception as exc:  # as a section's: a Problem a person can act on
            problem = problem_from(exc)
            details = tuple(getattr(exc, "details", ()) or self._explain(None, problem.code))
            self.emit(StepFailed(section, problem.code, problem.message, problem.advice, details))
            raise RunbookError(problem, details) from exc
        self.emit(StepFinished(section, "done", seconds=round(self.clock() - started, 1)))
        return True

    def _keep(self, plan: day_two.DayTwo) -> None:
        if plan.settings is not None:
            self._settings = plan.settings
            self.remember()
        if plan.record:
            self.state.record_day_two(plan.kind, day_two.stamped(plan.record))

    # -- looking back and undoing ----------------------------------------------------------

    def status(self) -> Status:
        """Each section's resources by name, and whatever else carries our tag."""
        sections = [(step, self.discover(step)) for step in self.steps]
        found = self._inventory()
        return Status(sections, leftovers.leftovers(found.resources, sections), found.unchecked)

    def destroy_plan(
        self, status: Status | None = None, *, skip_final_snapshot: bool = False
    ) -> list[Action]:
        """Deletes for everything that carries our tag, in dependency order. A database is
        kept as a final snapshot unless skip_final_snapshot."""
        status = status or self.status()
        actions = [
            a
            for step, seen in reversed(status.sections)
            for a in step.teardown(self.settings, seen)
        ]
        for left in status.leftovers:
            actions += leftovers.teardown(left)
        if skip_final_snapshot:
            actions = final_snapshot.skipping(actions)
        return teardown_order.order(actions, self._group_sources)

    def destroy(self, actions: list[Action]) -> list[Removal]:
        """Every delete is tried; the report says what each removed, or why it could not."""
        outcomes: list[str] = []

        def listen(event: Event) -> None:
            if isinstance(event, CallMade):
                outcomes.append(event.outcome)
            self.emit(event)

        executor = Executor(self.aws, self._known, listen, sleep=self.sleep, clock=self.clock)  # type: ignore[arg-type]
        report: list[Removal] = []
        failed = False
        for action in actions:
            if isinstance(action, Wait):
                if failed:
                    continue  # its delete failed: nothing to wait for
                try:
                    executor.wait(action)
                except RunbookError as exc:
                    p = exc.problem
                    report.append(
                        Removal(
                            action.section,
                            action.what,
                            "not confirmed",
                            f"{p.code}: {p.message}",
                            p.advice,
                        )
                    )
                continue
            assert isinstance(action, ApiCall)
            outcomes.clear()
            try:
                executor.call(action)
            except RunbookError as exc:
                failed = True
                p = exc.problem
                report.append(
                    Removal(
                        action.section, action.why, "failed", f"{p.code}: {p.message}", p.advice
                    )
                )
                continue
            failed = False
            gone = outcomes and outcomes[-1] == "already done"
            report.append(
                Removal(action.section, action.why, "already gone" if gone else "removed")
            )
        if self.state.existed and all(r.outcome in ("removed", "already gone") for r in report):
            # The resources are gone; the settings stay, so a deploy would make the same again.
            # With no state file (destroyed by name and tag), none is made.
            self.state.reset(keep_settings=True)
        return report

    def _inventory(self) -> tag_inventory.Inventory:
        assert self.aws is not None
        found = tag_inventory.find(self.aws, self.settings.deployment.name)
        self._group_sources = {
            t.id: set(t.detail.get("sources", ()))
            for t in found.resources
            if t.kind == "security group"
        }
        return found

    def __enter__(self) -> Runbook:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop what runs in the background (an image build) and wake any wait (it raises
        Stopped): the runbook is closing."""
        self._pause.stop()
        for job in self._jobs.values():
            job.stop()

    # -- the image -------------------------------------------------------------------------

    def _refresh_version(self) -> None:
        """The source may have changed since the last section ran (an edit, a commit)."""
        version = version_of(self.build.context)
        if version != self.version:
            self.version = version
        self._derive_image()

    def _derive_image(self) -> None:
        """The version (from the source) and what section V names: <repository>:<version>,
        as sure as the repository's URI is (a state-file hint, or seen in this run)."""
        s = self.settings
        if s.task_definition.image:
            return
        with self._lock:
            self._known[version_key(s)] = self.version
            self._hints.discard(version_key(s))
            uri = self._known.get(repository_key(s))
            if uri is None:
                self._known.pop(image_key(s), None)
                return
            self._known[image_key(s)] = f"{uri}:{self.version}"
            if repository_key(s) in self._hints:
                self._hints.add(image_key(s))
            else:
                self._hints.discard(image_key(s))

    def _image_job(self, step: Step, *, retry: bool = False) -> ImageJob | None:
        """The build and push of this version, started once its repository exists and the
        version is not in it yet. retry: start again after a failure that a section has
        already reported (the section that needs the image is being run again)."""
        s, engine = self.settings, self.build.engine
        if s.task_definition.image or engine is None or self.aws is None:
            return None
        key = image_key(s)
        with self._lock:
            unsure = key in self._hints or key not in self._known
        maker = inputs.producer(repository_key(s), self.steps, s)
        if unsure and maker is not None and self.steps.index(maker) < self.steps.index(step):
            self.discover(maker)  # the state file says it exists: see for ourselves (reads)
        with self._lock:
            image = None if key in self._hints else self._known.get(key)
        if image is None:
            return None
        job = self._jobs.get(image)
        if job is not None and not (retry and job.failed and job.reported):
            return job
        if image in self._present:
            return None
        if image_present(self.aws, s, self.version):
            self._present.add(image)
            self.emit(ImageProgress(step.number, image, "present", f"{image} is in ECR already"))
            return None
        job = ImageJob(
            aws=self.aws,
            engine=engine,
            context=self.build.context,
            image=image,
            platform=platform_for(s.task_definition.cpu_architecture),
            section=step.number,
            emit=self._emit,
            sleep=self._pause,
        )
        self._jobs[image] = job.start()
        return job

    def _with_image_how(self, actions: list[Action], s: Settings | None = None) -> list[Action]:
        """The image wait says how the image gets there: this runbook's build, or the person."""
        s = s or self.settings
        engine = self.build.engine
        if engine is not None:
            how = f"{engine.name} builds and pushes it in the background, from section III on"
        else:
            image = self._known.get(image_key(s), f"<{repository_key(s)}>:{self.version}")
            platform = platform_for(s.task_definition.cpu_architecture)
            how = "push it from another terminal: " + for_a_person(
                image, self.build.context, platform, s.deployment.region
            )
        return [
            dataclasses.replace(a, what=f"{a.what}; {how}")
            if isinstance(a, Wait) and is_image_wait(a)
            else a
            for a in actions
        ]

    def _await_image(self, action: Wait, job: ImageJob | None) -> None:
        """Until the background build and push is done; its failure is this section's."""
        if job is None:
            return  # no engine: the wait itself polls ECR for the person's push
        started, told = self.clock(), -float("inf")
        while not job.wait(JOIN_EVERY):
            self.sleep(0)  # where the app interrupts a wait when it closes
            elapsed = self.clock() - started
            if elapsed - told >= 5:
                self.emit(Waiting(action.section, action.what, round(elapsed, 1), job.now))
                told = elapsed
        if job.problem is not None:
            job.reported = True  # said once as this section's failure; a rerun builds again
            raise RunbookError(job.problem)

    # -- inside ---------------------------------------------------------------------------

    def _run(self, step: Step, actions: list[Action]) -> None:
        executor = self._executor()
        for action in actions:
            if isinstance(action, Wait) and is_image_wait(action):
                self._await_image(action, self._image_job(step, retry=True))
            executor.run([action])

    def _executor(self) -> Executor:
        assert self.aws is not None
        return Executor(self.aws, self._known, self.emit, sleep=self.sleep, clock=self.clock)

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
            self._known.update(values)
            self._hints -= set(values)
        self._derive_image()

    def _explain(self, step: Step | None, code: str) -> list[str]:
        """For a service that did not stabilise: why its tasks stopped, in ECS's words; for a
        database that failed: RDS's events about it."""
        if code == "DBInstanceFailed" and self.aws is not None:
            return failure_events(self.aws, self.settings.database.identifier)
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
