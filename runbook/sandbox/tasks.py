"""ECS service -> real tasks: processes started from the registered task definition, as ECS would.

For each service the scheduler keeps the PRIMARY deployment's desired count of tasks, each
a process started from the task definition read back from the emulator (entry point,
working directory, environment, secrets), its output shipped to CloudWatch Logs. A task
goes PROVISIONING -> PENDING -> RUNNING -> (DEACTIVATING -> STOPPING) -> DEPROVISIONING ->
STOPPED; one that exits or fails its load balancer's health checks after the grace period
is replaced. A rolling update starts the new deployment's tasks within maximumPercent,
waits for them to be healthy in the target group, then drains the old ones for the group's
deregistration delay and stops them (SIGTERM, SIGKILL after the stop timeout), keeping
minimumHealthyPercent. The deployment circuit breaker fails a deployment after
max(3, min(200, ceil(0.5 x desired))) failed tasks and, with rollback on, rolls back to the
last completed deployment. A deployment whose tasks keep failing is launched again no sooner
than a backoff allows (1 s, doubling, at most 60 s), as ECS's service throttle stretches the
time between launches. Events and stopped reasons use ECS's words.
(docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html,
 .../task-lifecycle-explanation.html, .../service-event-messages.html)
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import signal
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runbook.sandbox import moto_state
from runbook.sandbox.backoff import Backoff
from runbook.sandbox.image import PullError
from runbook.sandbox.logs import LogSetupError, LogShipper
from runbook.sandbox.task_environment import SecretError, container_environment, in_task

if TYPE_CHECKING:
    from runbook.sandbox.dataplane import World

EXITED = "Essential container in task exited"
LIVE = ("PROVISIONING", "PENDING", "RUNNING")
DEFAULT_STOP_TIMEOUT = 30.0
FAILED_DWELL = 3.0  # seconds a failed deployment stays listed after its rollback completed
UNSTEADY_LOOK = 1.0
# ECS says a service "is unable to consistently start tasks" after failed tasks in a row and
# stretches the time between launches (its service throttle); here from 1 s up to 60 s.
UNABLE_AFTER = 3  # a rollout in progress is looked at this often, whatever else happens


def failure_threshold(desired: int) -> int:
    """The circuit breaker's threshold: 0.5 x desired, at least 3, at most 200."""
    return max(3, min(200, math.ceil(0.5 * desired)))


@dataclass
class LocalTask:
    arn: str
    cluster: str
    service: str
    deployment: str
    task_definition: str
    address: str
    folder: Path
    state: str = "PROVISIONING"
    next_at: float = 0.0
    process: subprocess.Popen[bytes] | None = None
    logs: LogShipper | None = None
    targets: list[tuple[str, int]] = field(default_factory=list)
    running_since: float = 0.0
    stopping: bool = False
    stop_reason: str = ""
    stop_code: str = ""
    drain_until: float = 0.0
    term_at: float = 0.0
    stop_timeout: float = DEFAULT_STOP_TIMEOUT
    exit_code: int | None = None

    @property
    def id(self) -> str:
        return self.arn.rsplit("/", 1)[-1]


class _Detached:
    """Stands in for a task record the emulator no longer has."""

    containers: list[Any] = []
    attachments: list[Any] = []


class Services:
    """ECS's service scheduler for one account and region."""

    name = "tasks"

    def __init__(self, world: World) -> None:
        self.world = world
        self.tasks: dict[str, LocalTask] = {}
        self.failed: dict[str, int] = {}  # deployment id -> failed tasks
        self.failed_at: dict[str, float] = {}
        self.completed: dict[tuple[str, str], str] = {}  # service -> last completed td
        self.steady: set[tuple[str, str]] = set()
        self.unsteady: set[tuple[str, str]] = set()
        # deployment id -> its launches' backoff after failed tasks (cleared once one is healthy)
        self.throttle: dict[str, Backoff] = {}
        self._definitions: dict[str, dict[str, Any]] = {}

    # -- the loop ----------------------------------------------------------------------------

    def reconcile(self) -> None:
        ecs = self.world.client("ecs")
        seen: set[tuple[str, str]] = set()
        for cluster_arn in ecs.list_clusters()["clusterArns"]:
            cluster = cluster_arn.rsplit("/", 1)[-1]
            arns = ecs.list_services(cluster=cluster)["serviceArns"]
            for start in range(0, len(arns), 10):
                described = ecs.describe_services(
                    cluster=cluster, services=arns[start : start + 10]
                )
                for svc in described["services"]:
                    if svc["status"] == "ACTIVE":
                        seen.add((cluster, svc["serviceName"]))
                        self._service(cluster, svc)
                    elif svc["status"] == "DRAINING":
                        seen.add((cluster, svc["serviceName"]))
                        self._drain(cluster, svc)
        self.unsteady &= seen
        for task in list(self.tasks.values()):
            if (task.cluster, task.service) not in seen and not task.stopping:
                self._stop(task, f"Scaling activity initiated by (deployment {task.deployment})")
            self._advance(task)

    def next_due(self) -> float | None:
        """The next moment a clock moves a task on (exits and health changes wake us)."""
        now, due = self.world.clock(), []
        for t in self.tasks.values():
            if t.state in ("PROVISIONING", "PENDING", "DEPROVISIONING"):
                due.append(t.next_at)
            elif t.state == "DEACTIVATING":
                due.append(t.drain_until)
            elif t.state == "STOPPING":
                due.append(t.term_at + t.stop_timeout)
            elif t.state == "RUNNING" and t.targets and t.running_since + self._grace(t) > now:
                due.append(t.running_since + self._grace(t))  # unhealthy counts from then
        due += [at + FAILED_DWELL for at in self.failed_at.values() if at + FAILED_DWELL > now]
        due += [b.next_at for b in self.throttle.values() if b.next_at > now]
        if self.unsteady:
            due.append(now + UNSTEADY_LOOK)
        return min(due, default=None)

    def close(self) -> None:
        for task in list(self.tasks.values()):
            self._kill(task)
            self._finish(task)

    def pids(self) -> list[int]:
        return [
            t.process.pid for t in self.tasks.values() if t.process and t.process.poll() is None
        ]

    # -- one service ---------------------------------------------------------------------------

    def _service(self, cluster: str, svc: dict[str, Any]) -> None:
        name, key = svc["serviceName"], (cluster, svc["serviceName"])
        model = moto_state.service(self.world.account, self.world.region, cluster, name)
        mine = [t for t in self.tasks.values() if (t.cluster, t.service) == key]
        for task in mine:
            self._advance(task)
        desired = svc["desiredCount"]
        config = svc.get("deploymentConfiguration") or {}
        breaker = config.get("deploymentCircuitBreaker") or {}
        most = math.floor(desired * config.get("maximumPercent", 200) / 100)
        least = math.ceil(desired * config.get("minimumHealthyPercent", 100) / 100)
        deployments = model.deployments
        primary = next((d for d in deployments if d["status"] == "PRIMARY"), None)
        if primary is None:
            return
        live = [t for t in mine if not t.stopping]
        of_primary = [t for t in live if t.deployment == primary["id"]]
        healthy = [t for t in live if self._healthy(t, svc)]

        # The circuit breaker: too many failed tasks fail the deployment (and roll back).
        failed = self.failed.get(primary["id"], 0)
        if (
            breaker.get("enable")
            and primary["rolloutState"] == "IN_PROGRESS"
            and failed >= failure_threshold(desired)
        ):
            self._fail(model, svc, primary, breaker.get("rollback", False), key)
            return

        # Start the primary's missing tasks, within maximumPercent of all running tasks; after
        # failed tasks, no sooner than the throttle allows (never more than once a second).
        if any(t.deployment == primary["id"] for t in healthy):
            self.throttle.pop(primary["id"], None)
        throttle = self.throttle.get(primary["id"])
        if primary["rolloutState"] != "FAILED" and (
            throttle is None or throttle.due(self.world.clock())
        ):
            room = max(most, 1) - len(live)
            for _ in range(min(desired - len(of_primary), room)):
                self._launch(cluster, svc, primary)
        # Scale in, or retire older deployments' tasks while minimumHealthyPercent holds.
        for task in of_primary[desired:]:
            self._stop(task, f"Scaling activity initiated by (deployment {primary['id']})")
        primary_healthy = [t for t in healthy if t.deployment == primary["id"]]
        others = [t for t in live if t.deployment != primary["id"]]
        still_healthy = len(healthy)
        for task in sorted(others, key=lambda t: self._healthy(t, svc)):
            if self._healthy(task, svc):
                if still_healthy - 1 < least or len(primary_healthy) < desired:
                    continue
                still_healthy -= 1
            self._stop(task, f"Scaling activity initiated by (deployment {primary['id']})")
        self._report(model, svc, primary, key)

    def _drain(self, cluster: str, svc: dict[str, Any]) -> None:
        """A deleted service: stop its tasks, then it is INACTIVE (as ECS after DRAINING)."""
        key = (cluster, svc["serviceName"])
        mine = [t for t in self.tasks.values() if (t.cluster, t.service) == key]
        for task in mine:
            self._stop(task, f"Scaling activity initiated by (deployment {task.deployment})")
            self._advance(task)
        if not any((t.cluster, t.service) == key for t in self.tasks.values()):
            model = moto_state.service(self.world.account, self.world.region, *key)
            moto_state.set_service_counts(model, 0, 0)
            moto_state.set_service_status(model, "INACTIVE")
            self.unsteady.discard(key)
        else:
            self.unsteady.add(key)

    def _healthy(self, task: LocalTask, svc: dict[str, Any]) -> bool:
        if task.state != "RUNNING" or task.stopping:
            return False
        if not svc.get("loadBalancers"):
            return True
        return all(
            (h := self.world.target_group(arn).state_of(task.address)) is not None
            and h.state == "healthy"
            for arn, _ in task.targets
        ) and bool(task.targets)

    def _fail(
        self,
        model: Any,
        svc: dict[str, Any],
        primary: dict[str, Any],
        rollback: bool,
        key: tuple[str, str],
    ) -> None:
        name = svc["serviceName"]
        primary["rolloutState"] = "FAILED"
        primary["rolloutStateReason"] = "ECS deployment circuit breaker: tasks failed to start."
        primary["updatedAt"] = moto_state.now()
        moto_state.add_service_event(
            model,
            f"(service {name}) (deployment {primary['id']}) deployment failed: "
            "tasks failed to start.",
        )
        self.steady.discard(key)
        for task in self.tasks.values():
            if task.deployment == primary["id"] and not task.stopping:
                self._stop(task, f"Scaling activity initiated by (deployment {primary['id']})")
        # As ECS: the last completed deployment is the rollback, IN_PROGRESS again.
        previous = next(
            (d for d in model.deployments if d is not primary and d["rolloutState"] == "COMPLETED"),
            None,
        )
        if rollback and previous is None and self.completed.get(key):
            previous = moto_state.start_deployment(model, self.completed[key])
        self.failed_at[primary["id"]] = self.world.clock()
        if rollback and previous is not None:
            primary["status"], previous["status"] = "ACTIVE", "PRIMARY"
            previous["rolloutState"] = "IN_PROGRESS"
            previous["rolloutStateReason"] = (
                f"ECS deployment circuit breaker: rolling back to deploymentId {previous['id']}."
            )
            previous["updatedAt"] = moto_state.now()
            model.deployments.remove(previous)
            model.deployments.insert(0, previous)
            model.task_definition = previous["taskDefinition"]
            moto_state.add_service_event(
                model, f"(service {name}) rolling back to deployment {previous['id']}."
            )

    def _report(
        self, model: Any, svc: dict[str, Any], primary: dict[str, Any], key: tuple[str, str]
    ) -> None:
        """Counts, deployments and the steady-state events, where describe_services reads them."""
        name = svc["serviceName"]
        mine = [t for t in self.tasks.values() if (t.cluster, t.service) == key]
        running = [t for t in mine if t.state == "RUNNING"]
        pending = [t for t in mine if t.state in ("PROVISIONING", "PENDING")]
        moto_state.set_service_counts(model, len(running), len(pending))
        for deployment in model.deployments:
            of = [t for t in mine if t.deployment == deployment["id"]]
            deployment["runningCount"] = sum(t.state == "RUNNING" for t in of)
            deployment["pendingCount"] = sum(t.state in ("PROVISIONING", "PENDING") for t in of)
            deployment["failedTasks"] = self.failed.get(deployment["id"], 0)
        primary["desiredCount"] = svc["desiredCount"]
        live_others = [t for t in mine if t.deployment != primary["id"]]
        healthy = [t for t in mine if t.deployment == primary["id"] and self._healthy(t, svc)]
        done = len(healthy) == svc["desiredCount"] and not live_others
        if primary["rolloutState"] == "IN_PROGRESS" and done:
            primary["rolloutState"] = "COMPLETED"
            primary["rolloutStateReason"] = f"ECS deployment {primary['id']} completed."
            primary["updatedAt"] = moto_state.now()
            self.completed[key] = primary["taskDefinition"]
            moto_state.add_service_event(
                model, f"(service {name}) (deployment {primary['id']}) deployment completed."
            )
        # Older deployments leave the list once their tasks are gone; a failed one stays a
        # while longer, so a waiter polling at its own pace sees why its rollout ended.
        if primary["rolloutState"] == "COMPLETED":
            dwell = max(FAILED_DWELL, self.world.timings.scaled(60))
            model.deployments[:] = [
                d
                for d in model.deployments
                if d["status"] == "PRIMARY"
                or any(t.deployment == d["id"] for t in mine)
                or self.world.clock() - self.failed_at.get(d["id"], -1e9) < dwell
            ]
        steady = done and primary["rolloutState"] == "COMPLETED" and len(model.deployments) == 1
        if steady and key not in self.steady:
            moto_state.add_service_event(model, f"(service {name}) has reached a steady state.")
            self.steady.add(key)
        elif not steady:
            self.steady.discard(key)
        # A failed deployment with nothing to roll back to is still: nothing more happens.
        if steady or (primary["rolloutState"] == "FAILED" and not mine):
            self.unsteady.discard(key)
        else:
            self.unsteady.add(key)

    # -- one task ------------------------------------------------------------------------------

    def _launch(self, cluster: str, svc: dict[str, Any], deployment: dict[str, Any]) -> None:
        ecs = self.world.client("ecs")
        answer = ecs.run_task(
            cluster=cluster,
            taskDefinition=deployment["taskDefinition"],
            count=1,
            launchType="FARGATE",
            networkConfiguration=svc.get("networkConfiguration")
            or deployment.get("networkConfiguration"),
            startedBy=deployment["id"],
        )
        arn = answer["tasks"][0]["taskArn"]
        address = self.world.block.take()
        model = moto_state.task(self.world.account, self.world.region, cluster, arn)
        moto_state.adopt_task(model, address, f"service:{svc['serviceName']}")
        task = LocalTask(
            arn,
            cluster,
            svc["serviceName"],
            deployment["id"],
            deployment["taskDefinition"],
            address,
            self.world.folder / "tasks" / arn.rsplit("/", 1)[-1],
            next_at=self.world.clock() + self.world.timings.seconds("task_provisioning"),
        )
        self.tasks[arn] = task
        service = moto_state.service(self.world.account, self.world.region, cluster, task.service)
        moto_state.add_service_event(
            service, f"(service {task.service}) has started 1 tasks: (task {task.id})."
        )
        self.world.log(
            f"task {task.id}: provisioning at {address} ({task.task_definition.rsplit('/', 1)[-1]})"
        )

    def _advance(self, task: LocalTask) -> None:
        """Move the task on as far as its clocks allow, in one go (no tick per state)."""
        for _ in range(6):
            before = (task.state, task.stopping)
            if task.arn not in self.tasks:
                return
            self._advance_once(task)
            if (task.state, task.stopping) == before:
                return

    def _advance_once(self, task: LocalTask) -> None:
        now = self.world.clock()
        model = self._model(task)
        if task.state == "PROVISIONING" and not task.stopping and now >= task.next_at:
            task.state = "PENDING"
            task.next_at = now + self.world.timings.seconds("task_pending")
            moto_state.set_task(model, last_status="PENDING", pull_started_at=moto_state.now())
        elif task.state == "PENDING" and not task.stopping and now >= task.next_at:
            self._start(task, model)
        elif task.state == "RUNNING" and not task.stopping:
            self._watch(task, model, now)
        if task.stopping:
            self._stopping(task, model, now)

    def _model(self, task: LocalTask) -> Any:
        try:
            return moto_state.task(self.world.account, self.world.region, task.cluster, task.arn)
        except KeyError:  # its cluster is gone from the emulator: stop it all the same
            return _Detached()

    def _definition(self, arn: str) -> dict[str, Any]:
        if arn not in self._definitions:
            answer = self.world.client("ecs").describe_task_definition(taskDefinition=arn)
            self._definitions[arn] = answer["taskDefinition"]
        return self._definitions[arn]

    def _start(self, task: LocalTask, model: Any) -> None:
        """Pull, fetch secrets, open the log stream, start the essential container."""
        definition = self._definition(task.task_definition)
        container = definition["containerDefinitions"][0]
        try:
            platform = definition.get("runtimePlatform") or {}
            root, image = self.world.images.pull(
                self.world.client("ecr"),
                container["image"],
                self.world.account,
                self.world.region,
                platform.get("cpuArchitecture", "X86_64"),
            )
            moto_state.set_task(model, pull_stopped_at=moto_state.now())
            # The image's files first: paths in the environment point into them.
            shutil.copytree(root, task.folder, symlinks=True)
            certs = task.folder / "app" / "certs"
            certs.mkdir(parents=True, exist_ok=True)
            shutil.copy(self.world.ca_bundle, certs / "rds-global-bundle.pem")
            env = container_environment(
                container,
                image,
                root=task.folder,
                region=self.world.region,
                resolve=self.world.resolve_secret,
                task_address=task.address,
                database_address=self.world.database_address,
                endpoint_url=self.world.endpoint_url,
                credentials=self.world.credentials,
                python_bin=self.world.python_bin,
            )
            logs = None
            log_config = container.get("logConfiguration") or {}
            if log_config.get("logDriver") == "awslogs":
                logs = LogShipper(
                    self.world.client("logs"), log_config["options"], container["name"], task.id
                )
                logs.open()
        except (PullError, SecretError, LogSetupError) as exc:
            self._stopped_before_start(task, model, str(exc))
            return
        argv = list(container.get("entryPoint") or image.entrypoint) + list(
            container.get("command") or (image.cmd if not container.get("entryPoint") else [])
        )
        workdir = container.get("workingDirectory") or image.working_dir
        cwd = Path(in_task(workdir, task.folder))
        if argv and "/" in argv[0]:
            argv[0] = (
                in_task(argv[0], task.folder) if argv[0].startswith("/") else str(cwd / argv[0])
            )
        try:
            task.process = subprocess.Popen(
                argv,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            self._stopped_before_start(
                task,
                model,
                f"CannotStartContainerError: ResourceInitializationError: failed to create "
                f"new container runtime task: exec: {argv[0] if argv else ''}: {exc.strerror}",
            )
            return
        if logs is not None:
            task.logs = logs
            logs.follow(task.process.stdout)  # type: ignore[arg-type]
        threading.Thread(target=self._wait_exit, args=(task,), daemon=True).start()
        task.stop_timeout = float(container.get("stopTimeout") or DEFAULT_STOP_TIMEOUT)
        task.state, task.running_since = "RUNNING", self.world.clock()
        moto_state.set_task(model, last_status="RUNNING", started_at=moto_state.now())
        moto_state.set_container(model, last_status="RUNNING")
        self.world.log(f"task {task.id}: running {' '.join(argv)} (pid {task.process.pid})")
        self._register(task)

    def _wait_exit(self, task: LocalTask) -> None:
        assert task.process is not None
        task.process.wait()
        self.world.wake(self.name)

    def _register(self, task: LocalTask) -> None:
        svc = self._describe(task)
        if svc is None:
            return
        registered = []
        for lb in svc.get("loadBalancers", []):
            arn, port = lb["targetGroupArn"], lb["containerPort"]
            self.world.client("elbv2").register_targets(
                TargetGroupArn=arn, Targets=[{"Id": task.address, "Port": port}]
            )
            self.world.target_group(arn).register(task.address, port)
            task.targets.append((arn, port))
            registered.append(arn)
        model = moto_state.service(
            self.world.account, self.world.region, task.cluster, task.service
        )
        for arn in registered:
            moto_state.add_service_event(
                model, f"(service {task.service}) registered 1 targets in (target-group {arn})"
            )

    def _describe(self, task: LocalTask) -> dict[str, Any] | None:
        found = self.world.client("ecs").describe_services(
            cluster=task.cluster, services=[task.service]
        )["services"]
        return found[0] if found else None

    def _watch(self, task: LocalTask, model: Any, now: float) -> None:
        assert task.process is not None
        code = task.process.poll()
        if code is not None:
            task.exit_code = 128 - code if code < 0 else code
            self._task_failed(task)
            tail = "; ".join(task.logs.tail[-3:]) if task.logs else ""
            self.world.log(
                f"task {task.id}: exited with code {code}" + (f" ({tail})" if tail else "")
            )
            self._stop(task, EXITED, "EssentialContainerExited")
            return
        svc_grace = self._grace(task)
        for arn, _ in task.targets:
            health = self.world.target_group(arn).state_of(task.address)
            if health and health.state == "unhealthy" and now - task.running_since >= svc_grace:
                self._task_failed(task)
                model_svc = moto_state.service(
                    self.world.account, self.world.region, task.cluster, task.service
                )
                moto_state.add_service_event(
                    model_svc,
                    f"(service {task.service}) (task {task.id}) (port {task.targets[0][1]}) is "
                    f"unhealthy in (target-group {arn}) due to (reason {health.description}).",
                )
                self._stop(task, f"Task failed ELB health checks in (target-group {arn})")
                return

    def _grace(self, task: LocalTask) -> float:
        model = moto_state.service(
            self.world.account, self.world.region, task.cluster, task.service
        )
        # Never scaled: the grace period covers the app's own start, which takes real time
        # here whatever the sandbox's timings.
        return float(getattr(model, "health_check_grace_period_seconds", 0) or 0)

    def _stop(self, task: LocalTask, reason: str, code: str = "ServiceSchedulerInitiated") -> None:
        """Begin stopping: deregister (draining), then SIGTERM, then SIGKILL after the timeout."""
        if task.stopping:
            return
        task.stopping, task.stop_reason, task.stop_code = True, reason, code
        now = self.world.clock()
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
            self.world.target_group(arn).drain(task.address)
            delay = max(delay, self.world.deregistration_delay(arn))
        task.drain_until = now + (delay if task.process and task.process.poll() is None else 0)
        if task.state in ("PROVISIONING", "PENDING"):
            task.state = "DEPROVISIONING"
            task.next_at = now
        elif task.state == "RUNNING":
            task.state = "DEACTIVATING"
            moto_state.set_task(model, last_status="DEACTIVATING")
        svc = moto_state.service(self.world.account, self.world.region, task.cluster, task.service)
        if task.targets:
            for arn, _ in task.targets:
                moto_state.add_service_event(
                    svc, f"(service {task.service}) deregistered 1 targets in (target-group {arn})"
                )
        if reason != EXITED or task.exit_code is None:
            moto_state.add_service_event(
                svc, f"(service {task.service}) has stopped 1 running tasks: (task {task.id})."
            )

    def _stopping(self, task: LocalTask, model: Any, now: float) -> None:
        alive = task.process is not None and task.process.poll() is None
        if task.state == "DEACTIVATING" and (not alive or now >= task.drain_until):
            task.state = "STOPPING"
            moto_state.set_task(model, last_status="STOPPING")
            if alive:
                assert task.process is not None
                with contextlib.suppress(ProcessLookupError):
                    task.process.send_signal(signal.SIGTERM)  # to the main process, as docker stop
                task.term_at = now
        elif task.state == "STOPPING":
            if alive and now - task.term_at >= task.stop_timeout:
                self._kill(task)
            elif not alive:
                self._kill(task)  # what is left of the container goes with it
                task.state = "DEPROVISIONING"
                task.next_at = now + self.world.timings.seconds("task_deprovisioning")
                code = task.process.returncode if task.process else None
                task.exit_code = task.exit_code if task.exit_code is not None else code
                if task.exit_code is not None and task.exit_code < 0:
                    task.exit_code = 128 - task.exit_code  # killed by signal N: as docker says
                moto_state.set_task(
                    model, last_status="DEPROVISIONING", execution_stopped_at=moto_state.now()
                )
                moto_state.set_container(model, last_status="STOPPED", exit_code=task.exit_code)
        elif task.state == "DEPROVISIONING" and now >= task.next_at:
            moto_state.set_task(model, last_status="STOPPED", stopped_at=moto_state.now())
            moto_state.set_container(model, last_status="STOPPED")
            self._finish(task)

    def _stopped_before_start(self, task: LocalTask, model: Any, reason: str) -> None:
        self._task_failed(task)
        self.world.log(f"task {task.id}: stopped before starting: {reason}")
        self._stop(task, reason, "TaskFailedToStart")
        moto_state.set_container(model, last_status="STOPPED", reason=reason.split(":", 1)[0])

    def _task_failed(self, task: LocalTask) -> None:
        """A task of this deployment failed: the circuit breaker counts it, and the scheduler
        waits longer before the deployment's next launch (ECS's service throttle)."""
        self.failed[task.deployment] = self.failed.get(task.deployment, 0) + 1
        throttle = self.throttle.setdefault(task.deployment, Backoff())
        throttle.failed("task failed", self.world.clock())
        if throttle.tries == UNABLE_AFTER:  # once an episode, as ECS says it
            svc = moto_state.service(
                self.world.account, self.world.region, task.cluster, task.service
            )
            moto_state.add_service_event(
                svc,
                f"(service {task.service}) is unable to consistently start tasks successfully. "
                "For more information, see the Troubleshooting section of the Amazon ECS "
                "Developer Guide.",
            )

    def _kill(self, task: LocalTask) -> None:
        if task.process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(task.process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                task.process.wait(5)

    def _finish(self, task: LocalTask) -> None:
        for arn, port in task.targets:
            with contextlib.suppress(Exception):
                self.world.client("elbv2").deregister_targets(
                    TargetGroupArn=arn, Targets=[{"Id": task.address, "Port": port}]
                )
            self.world.target_group(arn).forget(task.address)
            moto_state.set_target_health(
                self.world.account, self.world.region, arn, task.address, None
            )
        if task.logs is not None:
            task.logs.close()
        shutil.rmtree(task.folder, ignore_errors=True)
        self.world.block.give_back(task.address)
        self.tasks.pop(task.arn, None)
        self.world.log(f"task {task.id}: stopped ({task.stop_reason})")
        self.world.wake(self.name)  # its service may now replace it, or be gone
