"""The app's image as the sections need it: its version, what section V names, and the build and
push that runs in the background from the moment its repository exists (section III on)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from runbook import inputs
from runbook.aws import Aws
from runbook.errors import RunbookError
from runbook.events import ImageProgress, Listener, Waiting
from runbook.image import Build
from runbook.image.commands import for_a_person, platform_for
from runbook.image.version import version_of
from runbook.known import Known
from runbook.plan import Action, Wait
from runbook.settings import Settings
from runbook.steps import Observed, Step
from runbook.steps.image import image_key, image_present, is_image_wait, repository_key, version_key

if TYPE_CHECKING:
    from runbook.image.job import ImageJob

# How often a section waiting for the image build looks at it (and lets the app interrupt).
JOIN_EVERY = 0.25


class SectionImage:
    """One deployment's image: built once per version, by the engine's container engine."""

    def __init__(
        self,
        known: Known,
        build: Build,
        aws: Aws | None,
        emit: Listener,
        sleep: Callable[[float], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._known, self._build, self._aws = known, build, aws
        self._emit, self._sleep, self._clock = emit, sleep, clock
        # The background builds, by <repository>:<version>; versions found in ECR.
        self._jobs: dict[str, ImageJob] = {}
        self._present: set[str] = set()
        self.version = version_of(build.context, build.dockerfile)

    def refresh(self, s: Settings) -> None:
        """The source may have changed since the last section ran (an edit, a commit)."""
        self.version = version_of(self._build.context, self._build.dockerfile)
        self.derive(s)

    def derive(self, s: Settings) -> None:
        """The version (from the source) and what section V names: <repository>:<version>,
        as sure as the repository's URI is (a state-file hint, or seen in this run)."""
        if s.task_definition.image:
            return
        known = self._known
        with known.lock:
            known.values[version_key(s)] = self.version
            known.hints.discard(version_key(s))
            uri = known.values.get(repository_key(s))
            if uri is None:
                known.values.pop(image_key(s), None)
                return
            known.values[image_key(s)] = f"{uri}:{self.version}"
            if repository_key(s) in known.hints:
                known.hints.add(image_key(s))
            else:
                known.hints.discard(image_key(s))

    def job(
        self,
        s: Settings,
        step: Step,
        steps: tuple[Step, ...],
        discover: Callable[[Step], Observed],
        *,
        retry: bool = False,
    ) -> ImageJob | None:
        """The build and push of this version, started once its repository exists and the
        version is not in it yet. retry: start again after a failure that a section has
        already reported (the section that needs the image is being run again)."""
        engine = self._build.engine
        if s.task_definition.image or engine is None or self._aws is None:
            return None
        key = image_key(s)
        unsure = bool(self._known.unsure([key]))
        maker = inputs.producer(repository_key(s), steps, s)
        if unsure and maker is not None and steps.index(maker) < steps.index(step):
            discover(maker)  # the state file says it exists: see for ourselves (reads)
        image = self._known.sure(key)
        if image is None:
            return None
        job = self._jobs.get(image)
        if job is not None and not (retry and job.failed and job.reported):
            return job
        if image in self._present:
            return None
        if image_present(self._aws, s, self.version):
            self._present.add(image)
            self._emit(ImageProgress(step.number, image, "present", f"{image} is in ECR already"))
            return None
        from runbook.image.job import ImageJob  # the build's machinery: only when one starts

        job = ImageJob(
            aws=self._aws,
            engine=engine,
            context=self._build.context,
            image=image,
            platform=platform_for(s.task_definition.cpu_architecture),
            section=step.number,
            emit=self._emit,
            sleep=self._sleep,
            dockerfile=self._build.dockerfile,
        )
        self._jobs[image] = job.start()
        return job

    def with_how(self, actions: list[Action], s: Settings) -> list[Action]:
        """The image wait says how the image gets there: this runbook's build, or the person."""
        engine = self._build.engine
        if engine is not None:
            how = f"{engine.name} builds and pushes it in the background, from section III on"
        else:
            image = self._known.values.get(image_key(s), f"<{repository_key(s)}>:{self.version}")
            platform = platform_for(s.task_definition.cpu_architecture)
            how = "push it from another terminal: " + for_a_person(
                image, self._build.context, platform, s.deployment.region, self._build.dockerfile
            )
        return [
            dataclasses.replace(a, what=f"{a.what}; {how}")
            if isinstance(a, Wait) and is_image_wait(a)
            else a
            for a in actions
        ]

    def await_image(self, action: Wait, job: ImageJob | None) -> None:
        """Until the background build and push is done; its failure is this section's."""
        if job is None:
            return  # no engine: the wait itself polls ECR for the person's push
        started, told = self._clock(), -float("inf")
        while not job.wait(JOIN_EVERY):
            self._sleep(0)  # where the app interrupts a wait when it closes
            elapsed = self._clock() - started
            if elapsed - told >= 5:
                self._emit(Waiting(action.section, action.what, round(elapsed, 1), job.now))
                told = elapsed
        if job.problem is not None:
            job.reported = True  # said once as this section's failure; a rerun builds again
            raise RunbookError(job.problem)

    def close(self) -> None:
        """Stop the builds still running: the runbook is closing."""
        for job in self._jobs.values():
            job.stop()
