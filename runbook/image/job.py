"""Log in, build, push: the app's image, in a thread the engine owns, reporting as events.

It starts as soon as the repository exists (section III), so the build and push run while
RDS creates the database and the person fills the later sections; section VI waits for it.
ECR's login token is asked for with the runbook's own credentials and handed to the engine
on stdin: it is never an argument, never logged, never in an event.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from runbook.errors import Problem, problem_from
from runbook.events import ImagePhase, ImageProgress, Listener
from runbook.executor import Executor
from runbook.image import commands
from runbook.image.container_engine import ContainerEngine
from runbook.image.failures import engine_failed, engine_missing
from runbook.image.process import Command
from runbook.image.progress import Push, build_step, megabytes
from runbook.plan import MASK, ApiCall

REDRAW_EVERY = 0.5  # seconds between byte counts sent while a layer uploads


class ImageJob:
    def __init__(
        self,
        *,
        aws: Any,
        engine: ContainerEngine,
        context: Path,
        image: str,
        platform: str,
        section: str,
        emit: Listener,
        sleep: Callable[[float], None] = time.sleep,
        dockerfile: Path | None = None,
    ) -> None:
        self.aws, self.engine, self.context = aws, engine, context
        self.dockerfile = dockerfile
        self.image, self.platform, self.section = image, platform, section
        self.emit, self.sleep = emit, sleep
        self.problem: Problem | None = None
        self.reported = False  # its failure has been a section's failure
        self.now = "waiting to start"  # what it is doing, in a few words (for waits)
        self.started = time.monotonic()
        self.finished: float | None = None
        self._done = threading.Event()
        self._command: Command | None = None
        self._stopped = False
        self._password = ""
        self._thread = threading.Thread(target=self._run, name="image-build", daemon=True)

    # -- what the engine uses --------------------------------------------------------------

    def start(self) -> ImageJob:
        self._thread.start()
        return self

    def wait(self, timeout: float) -> bool:
        """True once it has finished (pushed, or failed: see .problem)."""
        return self._done.wait(timeout)

    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def failed(self) -> bool:
        return self.done and self.problem is not None

    def stop(self) -> None:
        """End the engine's command now (the runbook is closing)."""
        self._stopped = True
        if self._command is not None:
            self._command.stop()

    # -- the work ----------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._login()
            self._build()
            self._push()
        except _Failed as failed:
            self.problem = failed.problem
        except BaseException as exc:  # the app closing (Stopped), or AWS failing
            self.problem = problem_from(exc)
        finally:
            self.finished = time.monotonic()
            if self.problem is not None:
                self.now = "failed"
                self._tell("failed", f"{self.problem.code}: {self.problem.message}")
            self._done.set()

    def _login(self) -> None:
        registry = commands.registry_of(self.image)
        self._tell("login", f"logging {self.engine.name} in to {registry}")
        # The executor sends it with the runbook's retries and rules, and shows the call.
        answer = Executor(self.aws, {}, self.emit, sleep=self.sleep).call(
            ApiCall(
                "ecr",
                "get_authorization_token",
                {},
                f"a token for {self.engine.name} to log in to ECR with (valid 12 hours)",
                self.section,
                mutating=False,
            )
        )
        token = answer["authorizationData"][0]["authorizationToken"]
        user, _, self._password = base64.b64decode(token).decode().partition(":")
        assert user == "AWS", "ECR's tokens are for the user AWS"
        self._engine("login", commands.login(self.engine, registry), self._quiet, stdin=True)

    def _build(self) -> None:
        self._tell("build", f"building {self.image} for {self.platform} from {self.context}")
        seen: set[int] = set()

        def step(line: str) -> None:
            found = build_step(line)
            if found and found.number not in seen:
                seen.add(found.number)
                self.now = f"building: step {found.number}/{found.total}"
                self._tell("build", f"step {found.number}/{found.total}: {found.text}")

        argv = commands.build(self.engine, self.image, self.context, self.platform, self.dockerfile)
        self._engine("build", argv, step)

    def _push(self) -> None:
        self._tell("push", f"pushing {self.image}")
        push, last = Push(), [0.0]

        def layer(line: str) -> None:
            finished = push.layers_done
            if not push.read(line):
                return
            milestone = push.layers_done != finished
            if not milestone and time.monotonic() - last[0] < REDRAW_EVERY:
                return
            last[0] = time.monotonic()
            self.now = "pushing: " + self._counts(push)
            self._tell(
                "push",
                f"{self._counts(push)}" + (f" ({line})" if milestone else ""),
                push,
                milestone=milestone,
            )

        try:
            self._engine("push", commands.push(self.engine, self.image), layer, terminal=True)
        except _Failed as failed:
            if failed.problem.code != "ImageTagAlreadyExists":
                raise
            # Tags are immutable and a version is its source: another run (an earlier session,
            # or one killed half-way) pushed this very version meanwhile.
            self.now = "pushed"
            self._tell("pushed", f"{self.image} was already in ECR (pushed by another run)")
            return
        took = time.monotonic() - self.started
        self.now = "pushed"
        self._tell(
            "pushed",
            f"pushed {self.image} ({push.digest[:19] or 'digest not shown'}, "
            f"{self._counts(push)}) {took:.0f} s after it started",
            push,
        )

    def _engine(
        self,
        step: str,
        argv: list[str],
        on_line: Callable[[str], None],
        *,
        stdin: bool = False,
        terminal: bool = False,
    ) -> None:
        if self._stopped:
            raise _Failed(
                Problem(
                    "Stopped",
                    "The runbook closed before the image was pushed.",
                    "Run section VI again: it builds and pushes again.",
                )
            )
        self._command = Command(argv, terminal=terminal)
        data = (self._password + "\n").encode() if stdin else None
        try:
            done = self._command.run(lambda line: on_line(self._redact(line)), stdin=data)
        except OSError as exc:
            raise _Failed(engine_missing(self.engine, exc)) from exc
        if done.returncode != 0:
            output = [self._redact(line) for line in done.output]
            raise _Failed(
                engine_failed(
                    self.engine,
                    step,
                    commands.shown(argv),
                    done.returncode,
                    output,
                    self.platform,
                )
            )

    # -- telling ---------------------------------------------------------------------------------

    def _quiet(self, line: str) -> None:
        """Login's output says nothing worth showing until it fails (then it is the message)."""

    def _redact(self, line: str) -> str:
        return line.replace(self._password, MASK) if self._password else line

    @staticmethod
    def _counts(push: Push) -> str:
        total = len(push.layers)
        text = f"{push.layers_done}/{total} layers"
        if push.bytes_total:
            text += f", {megabytes(push.bytes_done)} of {megabytes(push.bytes_total)}"
        return text

    def _tell(
        self, phase: ImagePhase, message: str, push: Push | None = None, *, milestone: bool = True
    ) -> None:
        self.emit(
            ImageProgress(
                self.section,
                self.image,
                phase,
                message,
                push.layers_done if push else 0,
                len(push.layers) if push else 0,
                push.bytes_done if push else 0,
                push.bytes_total if push else 0,
                milestone,
            )
        )


class _Failed(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem
