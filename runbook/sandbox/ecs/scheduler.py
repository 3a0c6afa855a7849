"""ECS's service scheduler for one account and region: desired counts, rolling updates, the
circuit breaker, the service throttle, and what describe_services reports of it all.

For each service it keeps the PRIMARY deployment's desired count of tasks. A rolling update
starts the new deployment's tasks within maximumPercent, waits for them to be healthy in the
target group, then has the old ones stopped (drained first), keeping minimumHealthyPercent.
A task that fails counts towards the deployment circuit breaker, and a deployment whose tasks
keep failing is launched again no sooner than a backoff allows (1 s, doubling, at most 60 s),
as ECS's service throttle stretches the time between launches. Events use ECS's words.
(docs.aws.amazon.com/AmazonECS/latest/developerguide/service-event-messages.html)
"""

from __future__ import annotations

import math
from typing import Any

from runbook.sandbox import moto_state
from runbook.sandbox.backoff import Backoff
from runbook.sandbox.ecs.circuit_breaker import CircuitBreaker, Service
from runbook.sandbox.ecs.lifecycle import Lifecycle
from runbook.sandbox.ecs.region import Region
from runbook.sandbox.ecs.runtime import Runtime
from runbook.sandbox.ecs.task import LocalTask

FAILED_DWELL = 3.0  # seconds a failed deployment stays listed after its rollback completed
UNSTEADY_LOOK = 1.0  # a rollout in progress is looked at this often, whatever else happens
# ECS says a service "is unable to consistently start tasks" after failed tasks in a row and
# stretches the time between launches (its service throttle); here from 1 s up to 60 s.
UNABLE_AFTER = 3


def scaling_activity(deployment: str) -> str:
    """ECS's stopped reason for a task its scheduler stops."""
    return f"Scaling activity initiated by (deployment {deployment})"


class Services:
    """The data plane's part for ECS ("tasks"): run on every change to ECS and on its clocks."""

    name = "tasks"

    def __init__(self, region: Region, runtime: Runtime) -> None:
        self.region = region
        self.lifecycle = Lifecycle(region, runtime, self)
        self.breaker = CircuitBreaker()
        self.steady: set[Service] = set()
        self.unsteady: set[Service] = set()
        # deployment id -> its launches' backoff after failed tasks (cleared once one is healthy)
        self.throttle: dict[str, Backoff] = {}
        # Every task ARN this scheduler has run: a one-off is started once, never again.
        self.seen: set[str] = set()

    @property
    def tasks(self) -> dict[str, LocalTask]:
        return self.lifecycle.tasks

    # -- the loop ----------------------------------------------------------------------------

    def reconcile(self) -> None:
        ecs = self.region.ecs()
        seen: set[Service] = set()
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
            self._one_offs(cluster)
        self.unsteady &= seen
        for task in list(self.tasks.values()):
            if task.one_off:
                self._one_off_stopped(task)
            elif (task.cluster, task.service) not in seen and not task.stopping:
                self.lifecycle.stop(task, scaling_activity(task.deployment))
            self.lifecycle.advance(task)

    def next_due(self) -> float | None:
        """The next moment a clock moves a task or a rollout on."""
        now, due = self.region.clock(), self.lifecycle.due()
        due += [
            at + FAILED_DWELL for at in self.breaker.failed_at.values() if at + FAILED_DWELL > now
        ]
        due += [b.next_at for b in self.throttle.values() if b.next_at > now]
        if self.unsteady:
            due.append(now + UNSTEADY_LOOK)
        return min(due, default=None)

    def close(self) -> None:
        self.lifecycle.close()

    def pids(self) -> list[int]:
        return self.lifecycle.pids()

    # -- what its tasks tell it ----------------------------------------------------------------

    def task_failed(self, task: LocalTask) -> None:
        """A task of this deployment failed: the circuit breaker counts it, and the scheduler
        waits longer before the deployment's next launch (ECS's service throttle)."""
        if task.one_off:
            return  # no deployment to count it against: its exit code tells the caller
        self.breaker.task_failed(task.deployment)
        throttle = self.throttle.setdefault(task.deployment, Backoff())
        throttle.failed("task failed", self.region.clock())
        if throttle.tries == UNABLE_AFTER:  # once an episode, as ECS says it
            self.region.records.event(
                task.cluster,
                task.service,
                f"(service {task.service}) is unable to consistently start tasks successfully. "
                "For more information, see the Troubleshooting section of the Amazon ECS "
                "Developer Guide.",
            )

    def task_running(self, task: LocalTask) -> None:
        """Register the running task in its service's target groups."""
        if task.one_off:
            return  # RunTask registers nothing with a load balancer
        svc = self._describe(task)
        if svc is None:
            return
        registered = []
        for lb in svc.get("loadBalancers", []):
            arn, port = lb["targetGroupArn"], lb["containerPort"]
            self.region.targets.register(arn, task.address, port)
            task.targets.append((arn, port))
            registered.append(arn)
        for arn in registered:
            self.region.records.event(
                task.cluster,
                task.service,
                f"(service {task.service}) registered 1 targets in (target-group {arn})",
            )

    # -- one service ---------------------------------------------------------------------------

    def _service(self, cluster: str, svc: dict[str, Any]) -> None:
        name, key = svc["serviceName"], (cluster, svc["serviceName"])
        model = self.region.records.service(cluster, name)
        mine = [t for t in self.tasks.values() if (t.cluster, t.service) == key]
        for task in mine:
            self.lifecycle.advance(task)
        desired = svc["desiredCount"]
        config = svc.get("deploymentConfiguration") or {}
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
        if self.breaker.trips(svc, primary):
            self._fail(model, svc, primary, key)
            return

        # Start the primary's missing tasks, within maximumPercent of all running tasks; after
        # failed tasks, no sooner than the throttle allows (never more than once a second).
        if any(t.deployment == primary["id"] for t in healthy):
            self.throttle.pop(primary["id"], None)
        throttle = self.throttle.get(primary["id"])
        if primary["rolloutState"] != "FAILED" and (
            throttle is None or throttle.due(self.region.clock())
        ):
            room = max(most, 1) - len(live)
            for _ in range(min(desired - len(of_primary), room)):
                self._launch(cluster, svc, primary)
        # Scale in, or retire older deployments' tasks while minimumHealthyPercent holds.
        for task in of_primary[desired:]:
            self.lifecycle.stop(task, scaling_activity(primary["id"]))
        primary_healthy = [t for t in healthy if t.deployment == primary["id"]]
        others = [t for t in live if t.deployment != primary["id"]]
        still_healthy = len(healthy)
        for task in sorted(others, key=lambda t: self._healthy(t, svc)):
            if self._healthy(task, svc):
                if still_healthy - 1 < least or len(primary_healthy) < desired:
                    continue
                still_healthy -= 1
            self.lifecycle.stop(task, scaling_activity(primary["id"]))
        self._report(model, svc, primary, key)

    def _drain(self, cluster: str, svc: dict[str, Any]) -> None:
        """A deleted service: stop its tasks, then it is INACTIVE (as ECS after DRAINING)."""
        key = (cluster, svc["serviceName"])
        mine = [t for t in self.tasks.values() if (t.cluster, t.service) == key]
        for task in mine:
            self.lifecycle.stop(task, scaling_activity(task.deployment))
            self.lifecycle.advance(task)
        if not any((t.cluster, t.service) == key for t in self.tasks.values()):
            model = self.region.records.service(*key)
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
            (h := self.region.targets.health(arn, task.address)) is not None
            and h.state == "healthy"
            for arn, _ in task.targets
        ) and bool(task.targets)

    def _fail(self, model: Any, svc: dict[str, Any], primary: dict[str, Any], key: Service) -> None:
        self.breaker.fail(model, svc["serviceName"], primary)
        self.steady.discard(key)
        for task in self.tasks.values():
            if task.deployment == primary["id"] and not task.stopping:
                self.lifecycle.stop(task, scaling_activity(primary["id"]))
        rollback = self.breaker.rolls_back(svc)
        self.breaker.roll_back(model, key, primary, rollback, self.region.clock())

    def _report(
        self, model: Any, svc: dict[str, Any], primary: dict[str, Any], key: Service
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
            deployment["failedTasks"] = self.breaker.failed.get(deployment["id"], 0)
        primary["desiredCount"] = svc["desiredCount"]
        live_others = [t for t in mine if t.deployment != primary["id"]]
        healthy = [t for t in mine if t.deployment == primary["id"] and self._healthy(t, svc)]
        done = len(healthy) == svc["desiredCount"] and not live_others
        if primary["rolloutState"] == "IN_PROGRESS" and done:
            primary["rolloutState"] = "COMPLETED"
            primary["rolloutStateReason"] = f"ECS deployment {primary['id']} completed."
            primary["updatedAt"] = moto_state.now()
            self.breaker.completed[key] = primary["taskDefinition"]
            moto_state.add_service_event(
                model, f"(service {name}) (deployment {primary['id']}) deployment completed."
            )
        # Older deployments leave the list once their tasks are gone; a failed one stays a
        # while longer, so a waiter polling at its own pace sees why its rollout ended.
        if primary["rolloutState"] == "COMPLETED":
            dwell = max(FAILED_DWELL, self.region.timings.scaled(60))
            model.deployments[:] = [
                d
                for d in model.deployments
                if d["status"] == "PRIMARY"
                or any(t.deployment == d["id"] for t in mine)
                or self.region.clock() - self.breaker.failed_at.get(d["id"], -1e9) < dwell
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
        answer = self.region.ecs().run_task(
            cluster=cluster,
            taskDefinition=deployment["taskDefinition"],
            count=1,
            launchType="FARGATE",
            networkConfiguration=svc.get("networkConfiguration")
            or deployment.get("networkConfiguration"),
            startedBy=deployment["id"],
        )
        arn = answer["tasks"][0]["taskArn"]
        self.seen.add(arn)
        address = self.region.addresses.take()
        model = self.region.records.task(cluster, arn)
        moto_state.adopt_task(model, address, f"service:{svc['serviceName']}")
        task = LocalTask(
            arn,
            cluster,
            svc["serviceName"],
            deployment["id"],
            deployment["taskDefinition"],
            address,
            self.region.folder / arn.rsplit("/", 1)[-1],
            next_at=self.region.clock() + self.region.timings.seconds("task_provisioning"),
        )
        self.lifecycle.add(task)
        self.region.records.event(
            cluster,
            task.service,
            f"(service {task.service}) has started 1 tasks: (task {task.id}).",
        )
        self.region.log(
            f"task {task.id}: provisioning at {address} ({task.task_definition.rsplit('/', 1)[-1]})"
        )

    def _one_offs(self, cluster: str) -> None:
        """Tasks RunTask started (not this scheduler): each run once, as Fargate would."""
        ecs = self.region.ecs()
        arns = [
            a
            for a in ecs.list_tasks(cluster=cluster, desiredStatus="RUNNING")["taskArns"]
            if a not in self.tasks and a not in self.seen
        ]
        for start in range(0, len(arns), 100):
            for found in ecs.describe_tasks(cluster=cluster, tasks=arns[start : start + 100])[
                "tasks"
            ]:
                self._start_one_off(cluster, found)

    def _start_one_off(self, cluster: str, found: dict[str, Any]) -> None:
        arn = found["taskArn"]
        self.seen.add(arn)
        address = self.region.addresses.take()
        model = self.region.records.task(cluster, arn)
        moto_state.adopt_task(model, address, found.get("group") or "")
        overrides = {
            o["name"]: o
            for o in (found.get("overrides") or {}).get("containerOverrides", [])
            if o.get("name")
        }
        task = LocalTask(
            arn,
            cluster,
            "",
            "",
            found["taskDefinitionArn"],
            address,
            self.region.folder / arn.rsplit("/", 1)[-1],
            next_at=self.region.clock() + self.region.timings.seconds("task_provisioning"),
            overrides=overrides,
        )
        self.lifecycle.add(task)
        self.region.log(
            f"task {task.id}: one-off (RunTask, started by {found.get('startedBy') or '-'}), "
            f"provisioning at {address} ({task.task_definition.rsplit('/', 1)[-1]})"
        )

    def _one_off_stopped(self, task: LocalTask) -> None:
        """StopTask on a one-off: stopped as ECS stops it (SIGTERM, then SIGKILL)."""
        if task.stopping:
            return
        model = self.region.records.task_or_detached(task.cluster, task.arn)
        if getattr(model, "desired_status", "RUNNING") == "STOPPED":
            reason = getattr(model, "stopped_reason", "") or "Task stopped by user"
            self.lifecycle.stop(task, reason, "UserInitiated")

    def _describe(self, task: LocalTask) -> dict[str, Any] | None:
        found = self.region.ecs().describe_services(cluster=task.cluster, services=[task.service])[
            "services"
        ]
        return found[0] if found else None
