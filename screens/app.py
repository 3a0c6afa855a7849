"""The app: the composition root of the UI, handed how to build the engine by the command line.

Every engine call that touches AWS runs in a thread worker owned by the app; the engine's
events come back as messages (post_message is the only thread-safe way in), and one
Worker.StateChanged handler turns any worker error into the error dialog.
"""

from __future__ import annotations

import contextlib
import gc
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from functools import partial
from typing import Any

from textual import events, on
from textual.app import App
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.worker import Worker, WorkerState

from runbook import day_two, day_two_run, service_status
from runbook.engine import EngineFor
from runbook.errors import RunbookError, error_code, problem_from
from runbook.events import CallMade, Event, ImageProgress, Notice, StepFinished, StepStarted
from runbook.log_tail import FOLLOW_EVERY, Tail, no_log_group
from runbook.pause import Stopped
from runbook.plan import Action
from runbook.recorded import Start
from runbook.rules import CODE as REFUSED_BY_RULES
from runbook.settings import Settings, to_record
from runbook.steps import Step
from screens.messages import (
    BeginRequested,
    DayTwoViewChanged,
    DryRunPlanned,
    EngineEvent,
    LogLines,
    PreflightDone,
    RunRequested,
    SectionChosen,
    SectionsGone,
    ServiceRead,
    SettingsEdited,
    SummaryReady,
    TargetReached,
)
from screens.modals.confirm_run import ConfirmRun
from screens.modals.desired_count import DesiredCount
from screens.modals.error_dialog import ErrorDialog
from screens.modals.quit_question import QuitQuestion
from screens.modals.take_over import TakeOver
from screens.progress import SUMMARY, Progress, SectionProgress, advance, from_state
from screens.section.section_screen import SectionScreen
from screens.service.logs_screen import LogsScreen
from screens.service.service_screen import ServiceScreen
from screens.summary.summary_screen import SummaryScreen
from screens.welcome.target_status import Reaching
from screens.welcome.welcome_screen import WelcomeScreen
from screens.welcome.what_exists import sections_gone

MODES = ("aws", "sandbox", "dry run")
DAY_TWO_VIEWS = {"service", "logs", "back", "refresh_service"}
DAY_TWO_CHANGES = {"scale", "redeploy", "rollback"}
NAVIGATION = {"summary", "next_section", "previous_section", "show"} | DAY_TWO_VIEWS
# The day-two worker's group; its events carry day_two.SECTION.
DAY_TWO = "day-two"
POLL_EVERY = 2.0  # seconds between looks at the service while its view is shown
LOGS_SINCE_MS = 10 * 60 * 1000  # the log view opens on the last 10 minutes
FIRST_LINES = 500  # at most this many of them: the rest is `runbook logs --since`
LINES_A_MESSAGE = 200
# Below this width the section list folds away: the section itself needs the room.
NARROW = 72
# How the app reaches its target behind the first screen (runbook/cli/target.py's Reach): it is
# told what is happening, and asks the person yes/no through the app's dialog.
Reach = Callable[[Callable[[str], None], Callable[[str], bool]], None]
REACHING = "target"  # the worker group that reaches it


class Refused(RunbookError):
    """A day-two action its planning refused, with why: nothing was called."""


class RunbookApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "fargate-runbook"
    # ctrl+p is "previous section" here, as readline's ctrl+n / ctrl+p.
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("ctrl+s", "summary", "Summary"),
    ]

    progress: reactive[Progress] = reactive(dict, always_update=True)

    def __init__(
        self,
        engine: EngineFor,
        mode: str = "aws",
        where: str = "",
        start: Start | None = None,
        reach: Reach | None = None,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        super().__init__()
        # Built whole, its events coming here as messages; its own listener (a JSON log, say)
        # was given by whoever knows the rest. Closing it wakes its waits (they raise Stopped).
        self.runbook = runbook = engine(self._forward)
        self.mode = mode
        self.start = start
        # What starting over gives: the guide's defaults (and --config) for this deployment.
        deployment = runbook.settings.deployment
        self.fresh = (
            start.fresh
            if start is not None
            else Settings.for_deployment(deployment.name).replace(
                "deployment", region=deployment.region
            )
        )
        self.where = where or {"sandbox": "local emulator (sandbox)"}.get(mode, mode)
        self.sub_title = f"{runbook.settings.deployment.name} · {self.where}"
        self.set_reactive(RunbookApp.progress, from_state(runbook.steps, runbook.state))
        self.sections = {step.number: SectionScreen(runbook, step, mode) for step in runbook.steps}
        self._welcome: WelcomeScreen | None = None
        self._worker_labels: dict[Worker[Any], tuple[str, str]] = {}
        self._changed: set[str] = set()  # sections whose latest run changed something
        self._stopping = threading.Event()
        # Day two: the service and log views (installed: they keep what they show), the
        # latest summary to go back to, and each view's poller (stopped, woken).
        self.service_screen = ServiceScreen(runbook.settings.service.name)
        self.logs_screen = LogsScreen(self._log_source())
        self._summary: Any = None
        self._polls: dict[str, tuple[threading.Event, threading.Event]] = {}
        self._tail: Tail | None = None
        self.poll_every, self.follow_every = POLL_EVERY, FOLLOW_EVERY  # tests shorten them
        # The target (the sandbox) is reached behind the welcome screen when `reach` is given:
        # until then runs wait, queued; nothing else does.
        self.reach = reach
        self.reaching = Reaching("Sandbox" if mode != "aws" else "AWS") if reach else None
        self._reached = threading.Event()
        self._unreachable: BaseException | None = None
        self._queued: set[str] = set()
        if reach is None:
            self._reached.set()

    def on_mount(self) -> None:
        for number, screen in self.sections.items():
            self.install_screen(screen, f"section-{number}")
        self.install_screen(self.service_screen, "service")
        self.install_screen(self.logs_screen, "logs")
        # Offline, preflight makes no call and answers at once; with access it runs in a worker.
        findings = None if self.runbook.aws else self.runbook.preflight()
        self._welcome = WelcomeScreen(
            self.runbook, self.mode, self.where, findings, self.start, self.fresh, self.reaching
        )
        self.push_screen(self._welcome)
        if self.reach is not None:
            self._start(REACHING, f"Reaching the {self.where}", self._reach_target)
        if self.runbook.aws is not None:
            self._start("welcome", "Checks before we start", self._preflight)
        self.call_after_refresh(self._start, "warm-up", "Warming up", self._warm_up)

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < NARROW, "-narrow")

    def on_unmount(self) -> None:
        self._stopping.set()
        for stop, wake in self._polls.values():
            stop.set()
            wake.set()
        self.runbook.close()  # an image build in the background ends with the app
        gc.unfreeze()  # what the app held may be collected again

    def _settle(self) -> None:
        """Move what exists now out of the cyclic collector's reach.

        The heap (widgets, botocore's models) is large and lives as long as the app; a full
        collection scanning it paused the UI for 70-140 ms during a deploy. Frozen, it is
        not scanned; new objects are collected as usual.
        """
        gc.freeze()

    # -- from worker threads -----------------------------------------------------------------

    def _forward(self, event: Event) -> None:
        self.post_message(EngineEvent(event))

    def _confirm(self, step: Step, actions: list[Action]) -> bool:
        """Called by the engine in the worker: show the calls, block until the person answers."""
        answer: Future[bool] = Future()
        rows = self.runbook.rows(actions)
        changes = self.runbook.differences(step)
        self.call_from_thread(self.push_screen, ConfirmRun(step, rows, changes), answer.set_result)
        while True:
            try:
                return answer.result(timeout=0.1)
            except FutureTimeout:
                if self._stopping.is_set():
                    raise Stopped from None

    def _warm_up(self) -> None:
        """Load botocore's service models and clients while the welcome screen is read.

        Parsing a model is one long C call that holds the GIL (EC2's takes ~50 ms): done
        on first use, it would stall the UI when a section first shows its calls or runs.
        """
        try:
            services = {
                row["service"] for s in self.runbook.steps for row in self.runbook.preview(s)
            }
            for service in sorted(services):
                if self._stopping.is_set():
                    return
                if self.runbook.aws is not None:
                    self.runbook.aws.client(service)
        except Exception:  # a warm-up that fails costs only the time it would have saved
            return
        self._settle()

    def _reach_target(self) -> None:
        """In a worker: start or find the sandbox, then claim the deployment (the take-over
        question, if any, is the app's dialog); queued runs go on once it is done."""
        assert self.reach is not None
        said = ""

        def tell(line: str) -> None:
            nonlocal said
            said = line
            self.post_message(TargetReached(line))

        try:
            self.reach(tell, self._ask)
        except Stopped as exc:  # the app closes: nothing to say
            self._unreachable = exc
            return
        except BaseException as exc:
            self._unreachable = exc
            first_line = problem_from(exc).message.split("\n")[0]
            self.post_message(TargetReached(first_line, "failed"))
            raise  # the error dialog says it whole
        finally:
            self._reached.set()
        self.post_message(TargetReached(said or "ready", "ready"))

    def _ask(self, question: str) -> bool:
        """Called from the reaching worker: the app's yes/no dialog, answered by the person."""
        answer: Future[bool] = Future()
        self.call_from_thread(self.push_screen, TakeOver(question), answer.set_result)
        while True:
            try:
                return bool(answer.result(timeout=0.1))
            except FutureTimeout:
                if self._stopping.is_set():
                    raise Stopped from None

    def _await_target(self) -> None:
        """In a worker: until the target answers (at once when it has); its error if it could
        not be reached; Stopped when the app closes meanwhile."""
        while not self._reached.wait(0.1):
            if self._stopping.is_set():
                raise Stopped
        if self._unreachable is not None:
            raise self._unreachable

    def _preflight(self) -> None:
        try:
            self._await_target()
        except Exception:
            return  # the reaching worker's own dialog says why
        self.post_message(PreflightDone(self.runbook.preflight()))
        # A saved run's "done" is a hint: after `runbook sandbox stop`, say, nothing is left.
        gone = sections_gone(self.runbook)
        if gone:
            self.post_message(SectionsGone(gone))

    def _queue(self, step: Step) -> None:
        """In the run's worker: wait for the target, said in the section's log."""
        if not self._reached.is_set():
            where = "the sandbox" if self.mode != "aws" else "AWS"
            self._forward(
                Notice(
                    step.number,
                    f"Queued: {where} is still starting; section {step.number} runs as soon "
                    "as it answers (the welcome screen shows how far it is).",
                )
            )
        try:
            self._await_target()
        finally:
            self._queued.discard(step.number)

    def _run(self, step: Step) -> None:
        with contextlib.suppress(Stopped):
            self._queue(step)
            self.runbook.apply(step, confirm=self._confirm)

    def _dry_run(self, step: Step) -> None:
        with contextlib.suppress(Stopped):
            self._queue(step)
            rows = self.runbook.rows(self.runbook.plan(step))
            self.post_message(DryRunPlanned(step.number, rows))

    def _read_summary(self) -> None:
        with contextlib.suppress(Stopped):
            self.post_message(SummaryReady(self.runbook.summary(wait=True)))

    def _start(self, section: str, label: str, work: Callable[[], None]) -> None:
        # One group per section: section IV can wait for RDS while section V runs.
        worker = self.run_worker(
            work,
            name=label,
            group=f"section-{section}",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )
        self._worker_labels[worker] = (section, label)

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        if event.state not in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            return
        section, label = self._worker_labels.pop(event.worker, ("", event.worker.name))
        if section == DAY_TWO:
            self._after_day_two()
        if event.state is not WorkerState.ERROR:
            return
        error = event.worker.error
        assert error is not None
        if section in self.progress and self.progress[section].running:
            self.progress = {**self.progress, section: SectionProgress("failed")}
        problem = problem_from(error)
        details = tuple(getattr(error, "details", ()) or ())
        refused = isinstance(error, Refused) or problem.code == REFUSED_BY_RULES
        self.push_screen(
            ErrorDialog(label, problem, details, refused=refused),
            lambda _: self._after_error(section),
        )

    def _after_error(self, section: str) -> None:
        if section in self.sections and self.screen is not self.sections[section]:
            self.action_show(section)

    # -- messages ----------------------------------------------------------------------------

    def on_engine_event(self, message: EngineEvent) -> None:
        event = message.event
        if isinstance(event, ImageProgress):
            self._show_image(event)
        if event.section == day_two.SECTION:  # not a section's: the day-two views show it
            self.service_screen.record(event)
            self.logs_screen.record(event)
            return
        self.progress = advance(self.progress, event)
        if isinstance(event, StepStarted):
            self._changed.discard(event.section)
        elif isinstance(event, CallMade) and event.mutating and event.outcome == "ok":
            self._changed.add(event.section)
        screen = self.sections.get(event.section)
        if screen is not None:
            screen.record(event)
        if isinstance(event, StepFinished) and event.status == "done":
            self._section_done(event.section)

    def _show_image(self, event: ImageProgress) -> None:
        """The background build, in the header: it runs whichever section is on screen."""
        # The deployment and the image only: with where it runs too, 80 columns cut the
        # progress itself ("· ima…"); where it runs is on the welcome.
        base = self.runbook.settings.deployment.name
        tag = event.image.rsplit(":", 1)[-1]
        if event.phase in ("login", "build", "push"):
            counts = (
                f" {event.bytes_done / 1e6:.0f}/{event.bytes_total / 1e6:.0f} MB"
                if event.bytes_total
                else ""
            )
            # No tag while it moves: the counts must fit beside the title (the log has it).
            self.sub_title = f"{base} · image {event.phase}{counts}"
        elif event.phase == "failed":
            self.sub_title = f"{base} · image failed: section {event.section}'s log"
        else:
            self.sub_title = f"{base} · image {tag} in ECR"

    def _section_done(self, number: str) -> None:
        """Say what comes next beside the Run button and in the log: no toast over the log."""
        steps = self.runbook.steps
        position = next((i for i, s in enumerate(steps) if s.number == number), None)
        if position is None:
            return
        # Sections beyond the guide are off until their settings turn them on.
        following = [
            s
            for s in steps[position + 1 :]
            if s.enabled(self.runbook.settings) and self.progress[s.number].status != "done"
        ]
        service = self.runbook.step("VI")
        if number == "V" and "V" in self._changed and self.progress["VI"].status == "done":
            # A new revision is registered, but the service runs the one before until VI.
            hint = (
                "A new revision is registered; the service still runs the previous one until "
                f"section {service.number} · {service.title} rolls it out (ctrl+n, ctrl+r)."
            )
        elif following:
            step = following[0]
            hint = f"Next: section {step.number} · {step.title} (ctrl+n)."
        elif all(
            self.progress[s.number].status == "done"
            for s in steps
            if s.enabled(self.runbook.settings)
        ):
            hint = "Every section is done: ctrl+s shows the address and the health checks."
        else:
            hint = ""
        self.sections[number].show_next(hint)

    def on_run_requested(self, message: RunRequested) -> None:
        step = self.runbook.step(message.number)
        label = f"Section {step.number} · {step.title}"
        if self.progress[step.number].running:
            return
        if step.number in self._queued:
            self.notify(f"Section {step.number} is queued: it runs once the sandbox answers.")
            return
        if not self._reached.is_set():
            self._queued.add(step.number)
        if self.mode == "dry run":
            if self.runbook.aws is None:
                self.sections[step.number].show_dry_run(self.runbook.preview(step))
            else:
                self._start(step.number, label, partial(self._dry_run, step))
            return
        self._start(step.number, label, partial(self._run, step))

    def on_target_reached(self, message: TargetReached) -> None:
        if self.reaching is None:
            return
        self.reaching.said = message.said
        if message.stage in ("ready", "failed"):
            self.reaching.stage = message.stage  # type: ignore[assignment]
        if self._welcome is not None and self._welcome.is_attached:
            self._welcome.show_target()

    def on_dry_run_planned(self, message: DryRunPlanned) -> None:
        self.sections[message.number].show_dry_run(message.rows)

    def on_preflight_done(self, message: PreflightDone) -> None:
        if self._welcome is not None and self._welcome.is_attached:
            self._welcome.show_findings(message.findings)

    def on_sections_gone(self, message: SectionsGone) -> None:
        """Done no more: shown as to do, recorded so (unless a dry run), and said on the welcome."""
        recorded_done = [
            s.number for s in self.runbook.steps if self.progress[s.number].status == "done"
        ]
        gone = [n for n in message.numbers if n in recorded_done]
        if not gone:
            return  # a run has finished one of them meanwhile
        everything = gone == recorded_done
        self.progress = {**self.progress, **{n: SectionProgress() for n in gone}}
        if self.mode != "dry run":
            self.runbook.to_do_again(gone)
        if self._welcome is not None and self._welcome.is_attached:
            self._welcome.show_gone(gone, everything=everything)

    def on_summary_ready(self, message: SummaryReady) -> None:
        # "done" only once there is something to sum up: a load balancer's address.
        self._summary = message.summary
        status = "done" if message.summary.dns_name else "to do"
        self.progress = {**self.progress, SUMMARY: SectionProgress(status)}
        self.switch_screen(self._summary_screen(message.summary))

    def _summary_screen(self, summary: Any) -> SummaryScreen:
        return SummaryScreen(
            self.runbook.steps, summary, self.mode, self._is_on, self.runbook.next_steps()
        )

    def on_settings_edited(self, message: SettingsEdited) -> None:
        """Valid settings, left in a form or fixed on the welcome: the deployment's truth.

        Recorded when a field is left, not only when the section runs: quitting never loses
        what was typed, and `runbook plan` and `deploy` see what the app shows. A dry run
        records nothing.
        """
        if self.mode != "dry run":
            self.runbook.remember()

    def on_section_chosen(self, message: SectionChosen) -> None:
        self.action_show(message.number)

    def on_begin_requested(self, message: BeginRequested) -> None:
        if message.start_over:
            self._start_over()
            self._welcome_again()
            return
        self.action_show(self.first_not_done())

    def _welcome_again(self) -> None:
        """After starting over: the welcome of a first run, its checks run again.

        The guide's defaults are back (db.t2.micro, say), so the preflight's fixes must be
        offered again (f) before Begin, or section IV would be refused.
        """
        findings = None if self.runbook.aws else self.runbook.preflight()
        self._welcome = WelcomeScreen(
            self.runbook, self.mode, self.where, findings, None, self.fresh, self.reaching
        )
        self.switch_screen(self._welcome)
        if self.runbook.aws is not None:
            self._start("welcome", "Checks before we start", self._preflight)

    def _start_over(self) -> None:
        """Forget progress and settings (the person was told which); keep the deployment."""
        self.runbook.start_over(self.fresh)
        self.progress = from_state(self.runbook.steps, self.runbook.state)
        for screen in self.sections.values():
            screen.reload()

    # -- navigation --------------------------------------------------------------------------

    def _is_on(self, step: Step) -> bool:
        return step.enabled(self.runbook.settings)

    def first_not_done(self) -> str:
        """Where to resume: the first section not done that its settings turn on."""
        return next(
            (
                s.number
                for s in self.runbook.steps
                if self.progress[s.number].status != "done" and s.enabled(self.runbook.settings)
            ),
            SUMMARY,
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # A dialog answers first: nothing may switch the screen under it.
        if action in NAVIGATION | DAY_TWO_CHANGES and isinstance(self.screen, ModalScreen):
            return False
        # Day two needs AWS (or the sandbox); its changes, a run that changes things.
        if action in DAY_TWO_VIEWS - {"back"} and self.runbook.aws is None:
            return None
        if action in DAY_TWO_CHANGES and (self.runbook.aws is None or self.mode == "dry run"):
            return None
        return True

    def action_show(self, number: str) -> None:
        if number == SUMMARY:
            self.action_summary()
        elif number in self.sections:
            self.switch_screen(f"section-{number}")
            self.call_after_refresh(self._settle)

    def _current(self) -> str | None:
        screen = self.screen
        if isinstance(screen, SectionScreen):
            return screen.step.number
        if isinstance(screen, SummaryScreen):
            return SUMMARY
        return None

    def action_next_section(self) -> None:
        order = [*self.sections, SUMMARY]
        current = self._current()
        if current is None:
            self.action_show(self.first_not_done())
        elif current != SUMMARY:
            self.action_show(order[order.index(current) + 1])

    def action_previous_section(self) -> None:
        order = [*self.sections, SUMMARY]
        current = self._current()
        if current is not None and current != order[0]:
            self.action_show(order[order.index(current) - 1])

    def action_summary(self) -> None:
        if self.runbook.aws is None:
            self.switch_screen(self._summary_screen(None))
            return
        if self.progress[SUMMARY].running:
            return
        self.progress = {**self.progress, SUMMARY: SectionProgress("running", time.monotonic())}
        self._start(SUMMARY, "The summary", self._read_summary)

    async def action_quit(self) -> None:
        running = [n for n in self.sections if self.progress[n].running]
        doing = self._day_two_running()
        if (running or doing) and not isinstance(self.screen, ModalScreen):
            self.push_screen(QuitQuestion(running, doing), self._quit_answered)
            return
        self._quit_answered(True)

    def _quit_answered(self, answer: bool | None) -> None:
        if answer:
            self._keep_typed()
            self._stopping.set()
            self.runbook.close()  # its waits stop where they are
            self.exit(0)

    def _keep_typed(self) -> None:
        """Quitting with the cursor still in a changed field keeps what was typed (if valid)."""
        runbook = self.runbook
        if self.mode == "dry run":
            return
        edited = to_record(runbook.settings) != runbook.state.settings
        if edited and (runbook.state.settings is not None or runbook.settings != self.fresh):
            runbook.remember()

    # -- day two: the running service, from the summary --------------------------------------

    def _log_source(self) -> str:
        s = self.runbook.settings
        return f"{s.cluster.log_group} · {s.task_definition.container_name}/*"

    def action_service(self) -> None:
        self.switch_screen("service")

    def action_logs(self) -> None:
        self.switch_screen("logs")

    def action_back(self) -> None:
        """To the summary as it was last read: leaving a view costs no look-up."""
        if self._summary is None:
            self.action_summary()
        else:
            self.switch_screen(self._summary_screen(self._summary))

    def action_refresh_service(self) -> None:
        if "service" in self._polls:
            self._polls["service"][1].set()

    def action_scale(self) -> None:
        if self._refuse_second_action():
            return
        status = self.service_screen.status
        now = status.desired if status is not None and status.exists else None
        self.push_screen(DesiredCount(self.runbook.settings, now), self._count_chosen)

    def _count_chosen(self, count: int | None) -> None:
        if count is not None:
            self._day_two("scale", count)

    def action_redeploy(self) -> None:
        self._day_two("redeploy")

    def action_rollback(self) -> None:
        self._day_two("rollback")

    def _day_two_running(self) -> str:
        return next(
            (label for section, label in self._worker_labels.values() if section == DAY_TWO), ""
        )

    def _refuse_second_action(self) -> bool:
        doing = self._day_two_running()
        if doing:
            self.notify(f"{doing} is under way: one day-two action at a time.", severity="warning")
        return bool(doing)

    def _day_two(self, kind: str, count: int | None = None) -> None:
        if self._refuse_second_action():
            return
        label = {"scale": "Scale", "redeploy": "Redeploy", "rollback": "Roll back"}[kind]
        self._start(DAY_TWO, label, partial(self._run_day_two, kind, count))

    def _run_day_two(self, kind: str, count: int | None) -> None:
        """In a worker: read what exists, show the calls, and run them once confirmed."""
        with contextlib.suppress(Stopped):
            try:
                assert self.runbook.aws is not None
                plan = day_two.plan(self.runbook.aws, self.runbook.settings, kind, count)
            except RunbookError as exc:  # planning calls nothing that changes anything
                raise Refused(exc.problem, exc.details) from exc
            day_two_run.run(self.runbook, plan, confirm=self._confirm_day_two)

    def _confirm_day_two(self, plan: day_two.DayTwo) -> bool:
        answer: Future[bool] = Future()
        rows = self.runbook.rows(list(plan.actions))
        dialog = ConfirmRun(None, rows, question=plan.question, notes=plan.notes)
        self.call_from_thread(self.push_screen, dialog, answer.set_result)
        while True:
            try:
                yes = answer.result(timeout=0.1)
                break
            except FutureTimeout:
                if self._stopping.is_set():
                    raise Stopped from None
        if yes:  # watch it roll out: from the summary, the service view comes up
            self.call_from_thread(self._watch_rollout)
        return yes

    def _after_day_two(self) -> None:
        """An action ended: the summary read before it (tasks, targets) is stale now."""
        self._summary = None
        if isinstance(self.screen, SummaryScreen):
            self.action_summary()

    def _watch_rollout(self) -> None:
        if isinstance(self.screen, SummaryScreen):
            self.action_service()

    def on_day_two_view_changed(self, message: DayTwoViewChanged) -> None:
        """Read while a view is in sight, stop when it is left (reads need no confirmation)."""
        previous = self._polls.pop(message.view, None)
        if previous is not None:
            previous[0].set()
            previous[1].set()
        if not message.shown or self.runbook.aws is None:
            return
        stop, wake = threading.Event(), threading.Event()
        self._polls[message.view] = (stop, wake)
        work = self._poll_service if message.view == "service" else self._poll_logs
        self.run_worker(
            partial(work, stop, wake),
            name=f"poll-{message.view}",
            group=f"poll-{message.view}",
            thread=True,
            exit_on_error=False,
        )

    @staticmethod
    def _pause(wake: threading.Event, seconds: float) -> None:
        """Until the next look: a refresh (r) or leaving the view wakes it early."""
        wake.wait(seconds)
        wake.clear()

    def _poll_service(self, stop: threading.Event, wake: threading.Event) -> None:
        with contextlib.suppress(Stopped):
            while not (stop.is_set() or self._stopping.is_set()):
                try:
                    status = service_status.read(self.runbook.aws, self.runbook.settings)
                    self.post_message(ServiceRead(status))
                except Exception as exc:  # a failed look is said on the screen, and retried
                    self.post_message(ServiceRead(None, problem_from(exc)))
                self._pause(wake, self.poll_every)

    def _poll_logs(self, stop: threading.Event, wake: threading.Event) -> None:
        assert self.runbook.aws is not None
        if self._tail is None:
            start = int(time.time() * 1000) - LOGS_SINCE_MS
            self._tail = Tail(self.runbook.aws, self.runbook.settings, start)
        first = not self.logs_screen.lines
        with contextlib.suppress(Stopped):
            while not (stop.is_set() or self._stopping.is_set()):
                try:
                    lines = list(self._tail.poll())
                    note = ""
                except Exception as exc:
                    lines = []
                    missing = error_code(exc) == "ResourceNotFoundException"
                    problem = problem_from(exc)
                    note = (
                        no_log_group(self.runbook.settings)
                        if missing
                        else f"! not refreshed: {problem.code}: {problem.message}"
                    )
                if first and len(lines) > FIRST_LINES:
                    earlier = f"… {len(lines) - FIRST_LINES} earlier lines (runbook logs --since)"
                    lines = [earlier, *lines[-FIRST_LINES:]]
                first = False
                # A burst goes in slices: each is drawn between keypresses, never all at once.
                # (Its own name: reusing `first` made every later read after a burst of
                # over 200 lines a "first" one, cut to its last 500 lines.)
                for at in range(0, max(len(lines), 1), LINES_A_MESSAGE):
                    self.post_message(LogLines(lines[at : at + LINES_A_MESSAGE], note))
                self._pause(wake, self.follow_every)

    def on_service_read(self, message: ServiceRead) -> None:
        self.service_screen.show(message.status, message.problem)

    def on_log_lines(self, message: LogLines) -> None:
        self.logs_screen.add(message.lines, message.note)


# The app around the engine it builds (the tests' name for making one).
make_app = RunbookApp


def run_app(app: RunbookApp) -> int:
    """Run the app in this terminal; the exit status for the command line."""
    app.run()
    return app.return_code or 0
