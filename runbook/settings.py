"""The guide's settings: one dataclass per section, prefilled with the guide's defaults."""

from __future__ import annotations

import dataclasses
import difflib
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

# The tag every resource we create (or adopt) carries; teardown touches nothing without it.
DEPLOYMENT_TAG = "fargate-runbook:deployment"
# Where a person may hand us a database password of their own; never a file, never state.
PASSWORD_ENV = "RUNBOOK_DB_PASSWORD"
# An app secret's value comes only from RUNBOOK_SECRET_<NAME> in the environment of the person
# deploying (a prefix, so a local development value of NAME is never sent by accident).
SECRET_ENV_PREFIX = "RUNBOOK_SECRET_"


@dataclass
class Deployment:
    name: str = "flask-todo"
    region: str = "us-east-1"


@dataclass
class SecurityGroups:
    elb_sg: str = "flask-todo-elb-sg"
    ecs_sg: str = "flask-todo-ecs-sg"
    db_sg: str = "flask-todo-db-sg"
    listener_port: int = 80
    app_port: int = 5000
    db_port: int = 5432


@dataclass
class LoadBalancer:
    name: str = "flask-todo-elb"
    target_group: str = "flask-todo-elb-target-group"
    health_check_path: str = "/healthz"
    # Faster than the console's 30 s x 5: about 30 s to healthy instead of about 150 s.
    health_check_interval: int = 15
    healthy_threshold: int = 2
    # Draining 30 s instead of 300 s makes redeploys and teardown quicker.
    deregistration_delay: int = 30


@dataclass
class Cluster:
    name: str = "flask-todo-cluster"
    log_group: str = "/ecs/flask-todo"
    log_retention_days: int = 30


@dataclass
class Database:
    identifier: str = "flask-todo-db"
    # The guide's prefill; preflight proposes db.t4g.micro for current PostgreSQL versions.
    instance_class: str = "db.t2.micro"
    # A major version: RDS picks its current minor, so the default never goes stale.
    engine_version: str = "16"
    db_name: str = "flask_todo"
    master_username: str = "flask_todo"
    allocated_storage: int = 20
    # Off, as the guide and RDS's own default: destroy already keeps a final snapshot, and
    # with it on, deleting the instance (or a CloudFormation stack) refuses until it is
    # turned off. On: RDS refuses every delete, from any tool, until it is turned off;
    # destroy turns it off itself after its confirmation. (README: "Destroy and the data")
    deletion_protection: bool = False


@dataclass
class TaskDefinition:
    family: str = "flask-todo"
    container_name: str = "todo-api"
    # Empty means: the app built from todo_app/ and pushed to the ECR repository named after
    # the family, tagged with its version (git commit or content digest), never `latest`.
    image: str = ""
    cpu: str = "256"
    memory: str = "512"
    # X86_64 or ARM64 (Graviton): the task's runtimePlatform, and the platform it is built for.
    cpu_architecture: str = "X86_64"
    container_memory: int = 500
    container_memory_reservation: int = 300
    # The deployment's own roles (created, tagged and deleted by the runbook). Name an
    # existing role of the account (e.g. the guide's ecsTaskExecutionRole) and it is used as
    # it is: never tagged, changed or deleted.
    execution_role: str = "flask-todo-execution-role"
    task_role: str = "flask-todo-task-role"
    # The app's versions its ECR repository keeps (a lifecycle policy expires older ones):
    # `runbook rollback` goes back to an earlier one, so it must still be there. 2 to 1000.
    images_kept: int = 10
    flask_app: str = "todo_app"
    flask_env: str = "production"


@dataclass
class Service:
    name: str = "flask-todo-service"
    desired_count: int = 1
    health_check_grace_period: int = 60
    # The default VPC has no NAT: without a public IP the task cannot pull its image.
    assign_public_ip: bool = True


@dataclass
class Domain:
    """The guide's to-do: HTTPS on the ALB and a name for it. Empty: plain HTTP, as the guide."""

    name: str = ""  # e.g. todo.example.com, in a Route 53 hosted zone of this account
    hosted_zone: str = ""  # the zone's name; empty: the closest zone the name ends with


@dataclass
class AutoScaling:
    """The guide's to-do: scale the service on CPU. 0 keeps the guide's fixed task count."""

    max_tasks: int = 0
    target_cpu: int = 70


@dataclass
class App:
    """The app that gets deployed, as `runbook init DIR` found it. An empty folder: the Todo API.

    Its port is security_groups.app_port and its health check load_balancer.health_check_path:
    one setting each, wherever it is shown.
    """

    # The app's folder (the build context), absolute; empty: the Todo API in todo_app/.
    folder: str = ""
    # Relative to the folder; empty: its Dockerfile (the app's own, or the one init wrote).
    dockerfile: str = ""
    # Plain environment variables for the app's container, name -> value.
    environment: dict[str, str] = field(default_factory=dict)
    # Names of variables whose values are secret: read from the environment of the person
    # deploying, kept in Secrets Manager, injected by ECS; never in settings, state or output.
    secrets: list[str] = field(default_factory=list)
    # A command run as a one-off task with each new revision before it takes traffic (e.g.
    # database migrations); the deploy stops if it fails. Empty: none.
    release_command: list[str] = field(default_factory=list)
    # For an app that reads its database as a URL (SQLAlchemy, Django): the variable to set,
    # e.g. "DATABASE_URL". The password stays out of it, in a file libpq reads at each login,
    # kept current across RDS's rotations (runbook/task_wrapper). Empty: the DB_* variables.
    database_env: str = ""
    # The database's parts under names the app reads, e.g. {host = "POSTGRES_HOST", port =
    # "POSTGRES_PORT", name = "POSTGRES_DB", user = "POSTGRES_USER"} (with the same wrapper;
    # no password part: libpq's PGPASSFILE, kept current, carries it).
    database_parts: dict[str, str] = field(default_factory=dict)


@dataclass
class Settings:
    deployment: Deployment = field(default_factory=Deployment)
    security_groups: SecurityGroups = field(default_factory=SecurityGroups)
    load_balancer: LoadBalancer = field(default_factory=LoadBalancer)
    cluster: Cluster = field(default_factory=Cluster)
    database: Database = field(default_factory=Database)
    task_definition: TaskDefinition = field(default_factory=TaskDefinition)
    service: Service = field(default_factory=Service)
    domain: Domain = field(default_factory=Domain)
    auto_scaling: AutoScaling = field(default_factory=AutoScaling)
    app: App = field(default_factory=App)
    # Only from the environment (PASSWORD_ENV); None lets RDS generate and keep it.
    master_password: str | None = field(default=None, repr=False)

    @classmethod
    def for_deployment(cls, name: str) -> Settings:
        """The guide's defaults, with every resource name derived from the deployment name."""
        return cls(
            deployment=Deployment(name=name),
            security_groups=SecurityGroups(
                elb_sg=f"{name}-elb-sg", ecs_sg=f"{name}-ecs-sg", db_sg=f"{name}-db-sg"
            ),
            load_balancer=LoadBalancer(name=f"{name}-elb", target_group=f"{name}-elb-target-group"),
            cluster=Cluster(name=f"{name}-cluster", log_group=f"/ecs/{name}"),
            database=Database(identifier=f"{name}-db"),
            task_definition=TaskDefinition(
                family=name,
                execution_role=f"{name}-execution-role",
                task_role=f"{name}-task-role",
            ),
            service=Service(name=f"{name}-service"),
        )

    def section(self, key: str) -> Any:
        return getattr(self, key)

    def replace(self, key: str, **changes: Any) -> Settings:
        """A copy with some fields of one section changed (the UI's forms use this)."""
        return dataclasses.replace(self, **{key: dataclasses.replace(self.section(key), **changes)})


SECTION_KEYS = tuple(f.name for f in fields(Settings) if f.name != "master_password")


class ConfigError(ValueError):
    """A config file we cannot read: its path and what is wrong."""


@dataclass(frozen=True)
class Change:
    """One field that differs between two settings, e.g. recorded and --config."""

    section: str
    field: str
    old: Any
    new: Any

    def __str__(self) -> str:
        return f"{self.section}.{self.field}: {self.old!r} -> {self.new!r}"


def read_config(path: Path | None) -> dict[str, Any]:
    """The TOML file's tables, as written (nothing applied yet)."""
    if path is None:
        return {}
    import tomllib  # only with a settings file: a plan of the defaults reads none

    try:
        return tomllib.loads(path.read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc


def load(
    path: Path | None = None, *, region: str | None = None, base: Settings | None = None
) -> Settings:
    """`base` (the recorded settings, or the guide's defaults), then the TOML file, then the region.

    With a base, only the fields the file names change; the environment's region never
    overrides a recorded one (the deployment's resources are there).
    """
    data = read_config(path)
    if base is None:
        name = data.get("deployment", {}).get("name", Deployment.name)
        base = Settings.for_deployment(name if isinstance(name, str) else Deployment.name)
        env_region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        if env_region and "region" not in data.get("deployment", {}):
            base = base.replace("deployment", region=env_region)
    settings = dataclasses.replace(base, master_password=None)
    for key, values in data.items():
        settings = _apply_table(settings, key, values, str(path))
    if region:
        settings = settings.replace("deployment", region=region)
    password = os.environ.get(PASSWORD_ENV)
    if password:
        settings = dataclasses.replace(settings, master_password=password)
    return settings


def to_record(settings: Settings) -> dict[str, dict[str, Any]]:
    """Every field of every section, for the state file; never the password."""
    return {key: dataclasses.asdict(settings.section(key)) for key in SECTION_KEYS}


def from_record(record: dict[str, Any], where: str) -> Settings:
    """Settings recorded by to_record; fields this version no longer has are dropped."""
    if not isinstance(record, dict):
        raise ConfigError(f"{where}: the recorded settings are damaged")
    name = record.get("deployment", {}).get("name", Deployment.name)
    settings = Settings.for_deployment(name if isinstance(name, str) else Deployment.name)
    for key, values in record.items():
        if key not in SECTION_KEYS or not isinstance(values, dict):
            continue
        known = {f.name for f in fields(settings.section(key))}
        kept = {k: v for k, v in values.items() if k in known}
        settings = _apply_table(settings, key, kept, where)
    return settings


def differences(old: Settings, new: Settings) -> list[Change]:
    """Every field that differs, in the order of the sections and their fields."""
    changes = []
    for key in SECTION_KEYS:
        for f in fields(old.section(key)):
            before, after = getattr(old.section(key), f.name), getattr(new.section(key), f.name)
            if before != after:
                changes.append(Change(key, f.name, before, after))
    return changes


def _apply_table(settings: Settings, key: str, values: Any, where: str) -> Settings:
    if key not in SECTION_KEYS or not isinstance(values, dict):
        close = difflib.get_close_matches(key, SECTION_KEYS, n=1)
        hint = f"did you mean [{close[0]}]? " if close else ""
        raise ConfigError(
            f"{where}: unknown section [{key}]; {hint}known: {', '.join(SECTION_KEYS)}"
        )
    known = {f.name: f for f in fields(settings.section(key))}
    for name, value in values.items():
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean {key}.{close[0]}? " if close else ""
            raise ConfigError(
                f"{where}: unknown setting {key}.{name}; {hint}known: {', '.join(sorted(known))}"
            )
        expected = type(getattr(settings.section(key), name))
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ConfigError(f"{where}: {key}.{name} = {value!r} should be {expected.__name__}")
        if not _strings_inside(value):
            kind = "a table of strings" if isinstance(value, dict) else "a list of strings"
            raise ConfigError(f"{where}: {key}.{name} = {value!r} should be {kind}")
    return settings.replace(key, **values)


def _strings_inside(value: Any) -> bool:
    """A table's names and values, or a list's items, are all strings (the [app] section's)."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
    if isinstance(value, list):
        return all(isinstance(item, str) for item in value)
    return True
