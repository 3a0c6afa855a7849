"""Tasks moved through ECS's lifecycle on the data plane's clock, their records kept as ECS's.

A task is provisioned, pulls its image and starts (the runtime), runs until its container
exits or it fails its load balancer's health checks after the service's grace period, and
stops: deregistered and drained for the target group's deregistration delay, sent SIGTERM,
killed after its stop timeout, deprovisioned. Stopped reasons and codes are ECS's.
"""

from __future__ import annotations

from typing import Any, Protocol

from runbook.sandbox import moto_state
from runbook.sandbox.ecs.region import Region
from runbook.sandbox.ecs.runtime import Runtime, StartFailed
from runbook.sandbox.ecs.task import LocalTask

EXITED = "Essential container in task exited"


class Scheduler(Protocol):
    """What a task tells the service scheduler that launched it."""

    def task_failed(self, task: LocalTask) -> None: ...

    def task_running(self, task: LocalTask) -> None: ...


class Lifecycle:
    """The region's tasks, each moved on as far as its clocks allow whenever it is looked at."""

    def __init__(self, region: Region, runtime: Runtime, scheduler: Scheduler) -> None:
        self.region, self.runtime, self.scheduler = region, runtime, scheduler
        self.tasks: dict[str, LocalTask] = {}

    def add(self, task: LocalTask) -> None:
        self.tasks[task.arn] = task

    def due(self) -> list[float]:
        """The moments a clock moves a task on (exits and health changes wake us)."""
        now, due = self.region.clock(), []
        for t in self.tasks.values():
            if t.state in ("PROVISIONING", "PENDING", "DEPROVISIONING"):
                due.append(t.next_at)
            elif t.state == "DEACTIVATING":
                due.append(t.drain_until)
            elif t.state == "STOPPING":
                due.append(t.term_at + t.stop_timeout)
            elif t.state == "RUNNING" and t.targets and t.running_since + self.grace(t) > now:
                due.append(t.running_since + self.grace(t))  # unhealthy counts from then
        return due

    def close(self) -> None:
        for task in list(self.tasks.values()):
            self.runtime.kill(task)
            self._finish(task)

    def pids(self) -> list[int]:
        return [t.process.pid for t in self.tasks.values() if t.process and self.runtime.alive(t)]

    def advance(self, task: LocalTask) -> None:
        """Move the task on as far as its clocks allow, in one go (no tick per state)."""
        for _ in range(6):
            before = (task.state, task.stopping)
            if task.arn not in self.tasks:
                return
            self._advance_once(task)
            if (task.state, task.stopping) == before:
                return

    def grace(self, task: LocalTask) -> float:
        if task.one_off:
            return 0.0  # no load balancer looks at it
        model = self.region.records.service(task.cluster, task.service)
        # Never scaled: the grace period covers the app's own start, which takes real time
        # here whatever the sandbox's timings.
        return float(getattr(model, "health_check_grace_period_seconds", 0) or 0)

    def stop(self, task: LocalTask, reason: str, code: str = "ServiceSchedulerInitiated") -> None:
        """Begin stopping: deregister (draining), then SIGTERM, then SIGKILL after the timeout."""
        if task.stopping:
            return
        task.stopping, task.stop_reason, task.stop_code = True, reason, code
        now = self.region.clock()
        model = self._model(task)
        moto_state.set_task(
            model,
            desired_status="STOPPED",
            stopped_reason=reason,
            stop_code=code,
            stopping_at=moto_state.now(),
        )
        delay = 0.0
        for arn, _ in task.targets:
            delay = max(delay, self.region.targets.drain(arn, task.address))
        task.drain_until = now + (delay if self.runtime.alive(task) else 0)
        if task.state in ("PROVISIONING", "PENDING"):
            task.state = "DEPROVISIONING"
            task.next_at = now
        elif task.state == "RUNNING":
            task.state = "DEACTIVATING"
            moto_state.set_task(model, last_status="DEACTIVATING")
        for arn, _ in task.targets:
            self._event(
                task, f"(service {task.service}) deregistered 1 targets in (target-group {arn})"
            )
        if reason != EXITED or task.exit_code is None:
            self._event(
                task, f"(service {task.service}) has stopped 1 running tasks: (task {task.id})."
            )

    # -- one step ------------------------------------------------------------------------------

    def _advance_once(self, task: LocalTask) -> None:
        now = self.region.clock()
        model = self._model(task)
        if task.state == "PROVISIONING" and not task.stopping and now >= task.next_at:
            task.state = "PENDING"
            task.next_at = now + self.region.timings.seconds("task_pending")
            moto_state.set_task(model, last_status="PENDING", pull_started_at=moto_state.now())
        elif task.state == "PENDING" and not task.stopping and now >= task.next_at:
            self._start(task, model)
        elif task.state == "RUNNING" and not task.stopping:
            self._watch(task, now)
        if task.stopping:
            self._stopping(task, model, now)

    def _model(self, task: LocalTask) -> Any:
        return self.region.records.task_or_detached(task.cluster, task.arn)

    def _event(self, task: LocalTask, message: str) -> None:
        if not task.one_off:  # a one-off task has no service whose events would tell it
            self.region.records.event(task.cluster, task.service, message)

    def _start(self, task: LocalTask, model: Any) -> None:
        try:
            pulled = self.runtime.pull(task)
            moto_state.set_task(model, pull_stopped_at=moto_state.now())
            argv = self.runtime.start(task, pulled)
        except StartFailed as failed:
            self._stopped_before_start(task, model, str(failed))
            return
        assert task.process is not None
        task.state, task.running_since = "RUNNING", self.region.clock()
        moto_state.set_task(model, last_status="RUNNING", started_at=moto_state.now())
        moto_state.set_container(model, last_status="RUNNING")
        self.region.log(f"task {task.id}: running {' '.join(argv)} (pid {task.process.pid})")
        self.scheduler.task_running(task)

    def _watch(self, task: LocalTask, now: float) -> None:
        assert task.process is not None
        code = task.process.poll()
        if code is not None:
            task.exit_code = 128 - code if code < 0 else code
            self.scheduler.task_failed(task)
            tail = "; ".join(task.logs.tail[-3:]) if task.logs else ""
            self.region.log(
                f"task {task.id}: exited with code {code}" + (f" ({tail})" if tail else "")
            )
            self.stop(task, EXITED, "EssentialContainerExited")
            return
        grace = self.grace(task)
        for arn, _ in task.targets:
            health = self.region.targets.health(arn, task.address)
            if health and health.state == "unhealthy" and now - task.running_since >= grace:
                self.scheduler.task_failed(task)
                self._event(
                    task,
                    f"(service {task.service}) (task {task.id}) (port {task.targets[0][1]}) is "
                    f"unhealthy in (target-group {arn}) due to (reason {health.description}).",
                )
                self.stop(task, f"Task failed ELB health checks in (target-group {arn})")
                return

    def _stopping(self, task: LocalTask, model: Any, now: float) -> None:
        alive = self.runtime.alive(task)
        if task.state == "DEACTIVATING" and (not alive or now >= task.drain_until):
            task.state = "STOPPING"
            moto_state.set_task(model, last_status="STOPPING")
            if alive:
                self.runtime.terminate(task)
                task.term_at = now
        elif task.state == "STOPPING":
            if alive and now - task.term_at >= task.stop_timeout:
                self.runtime.kill(task)
            elif not alive:
                self.runtime.kill(task)  # what is left of the container goes with it
                task.state = "DEPROVISIONING"
                task.next_at = now + self.region.timings.seconds("task_deprovisioning")
                code = task.process.returncode if task.process else None
                task.exit_code = task.exit_code if task.exit_code is not None else code
                if task.exit_code is not None and task.exit_code < 0:
                    task.exit_code = 128 - task.exit_code  # killed by signal N: as docker says
                moto_state.set_task(
                    model, last_status="DEPROVISIONING", execution_stopped_at=moto_state.now()
                )
                moto_state.set_container(model, last_status="STOPPED", exit_code=task.exit_code)
        elif task.state == "DEPROVISIONING" and now >= task.next_at:
            if task.logs is not None:
                # Its last lines sent first: whoever sees STOPPED (`runbook run`) reads them all.
                task.logs.close()
            moto_state.set_task(model, last_status="STOPPED", stopped_at=moto_state.now())
            moto_state.set_container(model, last_status="STOPPED")
            self._finish(task)

    def _stopped_before_start(self, task: LocalTask, model: Any, reason: str) -> None:
        self.scheduler.task_failed(task)
        self.region.log(f"task {task.id}: stopped before starting: {reason}")
        self.stop(task, reason, "TaskFailedToStart")
        moto_state.set_container(model, last_status="STOPPED", reason=reason.split(":", 1)[0])

    def _finish(self, task: LocalTask) -> None:
        for arn, port in task.targets:
            self.region.targets.forget(arn, task.address, port)
        self.runtime.remove(task)
        self.region.addresses.give_back(task.address)
        self.tasks.pop(task.arn, None)
        self.region.log(f"task {task.id}: stopped ({task.stop_reason})")
        self.region.wake()  # its service may now replace it, or be gone
