"""Where what exists differs from the settings: each difference applied in place, or explained.

Discovery keeps AWS's own descriptions (Observed.found). Each section's facts compare them with
the settings: the instance class, the task's size, log retention, health checks, the desired
count. A plan applies what AWS lets change in place; a fact says how, or, when AWS does not let
it change, what to do instead. `status` shows the same facts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from runbook.rules import fargate
from runbook.settings import Settings
from runbook.steps.base import Observed, Step
from runbook.steps.image import image_key
from runbook.steps.task_definition import task_definition_key


@dataclass(frozen=True)
class Fact:
    section: str
    label: str  # in the guide's words: "instance class", "CPU / memory"
    current: Any  # as AWS has it
    wanted: Any  # as the settings say
    applies: str = ""  # how a difference is applied in place; empty: it cannot be
    advice: str = ""  # what to do about what is not applied in place
    # Sections (by settings key) that would build on the new value while the old one stays,
    # e.g. a task pointed at a database name the database does not have: they refuse.
    blocks: tuple[str, ...] = ()

    @property
    def differs(self) -> bool:
        return str(self.current) != str(self.wanted)

    @property
    def in_place(self) -> bool:
        return bool(self.applies) and not self.advice

    def explain(self) -> str:
        """One line: the change, and how it is made or why it is not."""
        change = f"{self.label}: {self.current} -> {self.wanted}"
        if self.in_place:
            return f"{change}: changed in place ({self.applies})"
        if self.applies:
            return f"{change}: {self.applies}; but {self.advice}"
        return f"{change}: not changeable in place; {self.advice}"


BUILDS_ON_DB = ("task_definition",)
# For each section, the earlier sections whose facts may block it (looked at before it runs).
BLOCKED_BY = {"task_definition": ("database",)}


def facts(step: Step, s: Settings, seen: Observed | None) -> list[Fact]:
    """The settings that matter for this section, next to what exists (none if nothing does)."""
    if seen is None or not step.enabled(s):
        return []
    read = FACTS.get(step.key)
    return read(s, seen.found, seen.known, step.number) if read else []


def differences(step: Step, s: Settings, seen: Observed | None) -> list[Fact]:
    return [f for f in facts(step, s, seen) if f.differs]


def _ports(perms: list[dict[str, Any]]) -> list[int]:
    return sorted(
        {p["FromPort"] for p in perms if p.get("IpProtocol") == "tcp" and "FromPort" in p}
    )


def _security_groups(s: Settings, found: dict, known: dict, n: str) -> list[Fact]:
    sg = s.security_groups
    wanted = {sg.elb_sg: sg.listener_port, sg.ecs_sg: sg.app_port, sg.db_sg: sg.db_port}
    result = []
    for name, port in wanted.items():
        group = found.get(name)
        if not group:
            continue
        # Section VII opens 443 on the load balancer's group: not a port of this section.
        ports = [p for p in _ports(group.get("IpPermissions", [])) if p != 443]
        result.append(
            _port(
                n,
                f"{name} port",
                ports,
                port,
                str(port),
                "rule for",
                "revoke it",
                "once nothing uses it",
            )
        )
    return result


def _port(
    n: str, name: str, ports: list[int], port: int, wanted: Any, what: str, how: str, when: str
) -> Fact:
    """A port in the settings against those AWS has: the one wanted is added, any other stays
    (a change never removes what may be in use), and the person is told how to remove it."""
    old = ", ".join(str(p) for p in ports if p != port)
    return Fact(
        n,
        name,
        ", ".join(map(str, ports)) or "none",
        wanted,
        "" if port in ports else f"a {what} port {port} is added",
        f"the {what} port {old} stays: {how} in the EC2 console {when}" if old else "",
    )


def _load_balancer(s: Settings, found: dict, known: dict, n: str) -> list[Fact]:
    lb, result = s.load_balancer, []
    tg = found.get("tg")
    if tg:
        modify = "modify_target_group"
        result += [
            Fact(n, "health check path", tg.get("HealthCheckPath"), lb.health_check_path, modify),
            Fact(
                n,
                "health check every (s)",
                tg.get("HealthCheckIntervalSeconds"),
                lb.health_check_interval,
                modify,
            ),
            Fact(
                n,
                "healthy after (n)",
                tg.get("HealthyThresholdCount"),
                lb.healthy_threshold,
                modify,
            ),
            Fact(
                n,
                "target group port",
                tg.get("Port"),
                s.security_groups.app_port,
                advice="a target group's port is fixed when it is made: set the app port back, "
                "or give the target group a new name (the old one is removed by runbook destroy)",
            ),
        ]
        delay = found.get("tg_attrs", {}).get("deregistration_delay.timeout_seconds")
        if delay is not None:
            result.append(
                Fact(
                    n,
                    "draining (s)",
                    delay,
                    lb.deregistration_delay,
                    "modify_target_group_attributes",
                )
            )
    listeners = [x["Port"] for x in found.get("listeners") or [] if x["Port"] != 443]
    if found.get("lb") and listeners:
        port = s.security_groups.listener_port
        result.append(
            _port(
                n,
                "listener port",
                sorted(listeners),
                port,
                port,
                "listener on",
                "delete it",
                "(Load balancers, Listeners)",
            )
        )
    return result


def _cluster(s: Settings, found: dict, known: dict, n: str) -> list[Fact]:
    group = found.get("log_group")
    if not group:
        return []
    return [
        Fact(
            n,
            "keep logs (days)",
            group.get("retentionInDays", "forever"),
            s.cluster.log_retention_days,
            "put_retention_policy",
        )
    ]


def _major(version: Any) -> str:
    return str(version or "").split(".")[0]


def _database(s: Settings, found: dict, known: dict, n: str) -> list[Fact]:
    db, d = found.get("db"), s.database
    if not db:
        return []
    fixed = (
        "fixed when the database is made: set it back, or destroy the database and deploy "
        "again (its data is lost)"
    )
    storage = db.get("AllocatedStorage")
    result = [
        Fact(
            n,
            "instance class",
            db.get("DBInstanceClass"),
            d.instance_class,
            "modify_db_instance, applied at once: a few minutes without the database",
        ),
        Fact(
            n,
            "storage (GiB)",
            storage,
            d.allocated_storage,
            "modify_db_instance" if storage is None or d.allocated_storage >= storage else "",
            ""
            if storage is None or d.allocated_storage >= storage
            else "RDS cannot shrink storage: set it back",
        ),
        Fact(
            n,
            "PostgreSQL version",
            _major(db.get("EngineVersion")),
            _major(d.engine_version),
            advice="the runbook does not upgrade a database: take a snapshot, then upgrade it "
            "in the RDS console (major versions need --allow-major-version-upgrade), and "
            "set the version to match",
        ),
        # The task would connect to a database or user that does not exist: V waits for it.
        Fact(n, "database name", db.get("DBName"), d.db_name, advice=fixed, blocks=BUILDS_ON_DB),
        Fact(
            n,
            "master user",
            db.get("MasterUsername"),
            d.master_username,
            advice=fixed,
            blocks=BUILDS_ON_DB,
        ),
    ]
    return result


def _task_definition(s: Settings, found: dict, known: dict, n: str) -> list[Fact]:
    td = found.get("task_definition")
    if not td:
        return []
    t = s.task_definition
    container = (td.get("containerDefinitions") or [{}])[0]
    revision = "a new revision; section VI rolls the service onto it"
    image = t.image or known.get(image_key(s)) or container.get("image")
    platform = (td.get("runtimePlatform") or {}).get("cpuArchitecture", "X86_64")
    env = {e["name"]: e["value"] for e in container.get("environment", [])}
    return [
        Fact(
            n,
            "CPU / memory",
            f"{td.get('cpu')} / {td.get('memory')}",
            f"{fargate.cpu_units(t.cpu) or t.cpu} / {fargate.memory_mib(t.memory) or t.memory}",
            revision,
        ),
        Fact(
            n,
            "container memory (hard / soft)",
            f"{container.get('memory')} / {container.get('memoryReservation')}",
            f"{t.container_memory} / {t.container_memory_reservation}",
            revision,
        ),
        Fact(n, "image", container.get("image"), image, revision),
        Fact(n, "CPU architecture", platform, t.cpu_architecture, revision),
        Fact(n, "FLASK_ENV", env.get("FLASK_ENV"), t.flask_env, revision),
    ]


def _service(s: Settings, found: dict, known: dict, n: str) -> list[Fact]:
    svc = found.get("service")
    if not svc:
        return []
    update = "update_service"
    result = []
    if s.auto_scaling.max_tasks:
        count = svc["desiredCount"]  # Auto Scaling's to change, not the settings'
        result.append(Fact(n, "tasks to run (Auto Scaling)", count, count))
    else:
        result.append(Fact(n, "tasks to run", svc["desiredCount"], s.service.desired_count, update))
    wanted_revision = known.get(task_definition_key(s))
    if wanted_revision:  # a new revision, or one the service was rolled back from
        result.append(
            Fact(
                n,
                "task definition",
                svc["taskDefinition"].rsplit("/", 1)[-1],
                str(wanted_revision).rsplit("/", 1)[-1],
                "update_service rolls the service onto it",
            )
        )
    network = svc.get("networkConfiguration", {}).get("awsvpcConfiguration", {})
    if "assignPublicIp" in network:
        result.append(
            Fact(
                n,
                "public IP",
                "on" if network["assignPublicIp"] == "ENABLED" else "off",
                "on" if s.service.assign_public_ip else "off",
                update,
            )
        )
    # Some emulators leave the grace period out of their answer: compare only when given.
    if "healthCheckGracePeriodSeconds" in svc:
        result.append(
            Fact(
                n,
                "grace period (s)",
                svc["healthCheckGracePeriodSeconds"],
                s.service.health_check_grace_period,
                update,
            )
        )
    return result


def _auto_scaling(s: Settings, found: dict, known: dict, n: str) -> list[Fact]:
    target = found.get("target")
    if not target:
        return []
    low, high = s.service.desired_count, s.auto_scaling.max_tasks
    return [
        Fact(
            n,
            "tasks (min to max)",
            f"{target['MinCapacity']} to {target['MaxCapacity']}",
            f"{low} to {high}",
            "register_scalable_target",
        )
    ]


FACTS: dict[str, Callable[[Settings, dict, dict, str], list[Fact]]] = {
    "security_groups": _security_groups,
    "load_balancer": _load_balancer,
    "cluster": _cluster,
    "database": _database,
    "task_definition": _task_definition,
    "service": _service,
    "auto_scaling": _auto_scaling,
}
