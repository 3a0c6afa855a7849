"""The guide's settings: one dataclass per section, prefilled with the guide's defaults."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

# The tag every resource we create (or adopt) carries; teardown touches nothing without it.
DEPLOYMENT_TAG = "fargate-runbook:deployment"
# Where a person may hand us a database password of their own; never a file, never state.
PASSWORD_ENV = "RUNBOOK_DB_PASSWORD"


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


@dataclass
class TaskDefinition:
    family: str = "flask-todo"
    container_name: str = "todo-api"
    # Empty means: the ECR repository named after the family, in this account, tag latest.
    image: str = ""
    cpu: str = "256"
    memory: str = "512"
    container_memory: int = 500
    container_memory_reservation: int = 300
    # The deployment's own roles (created, tagged and deleted by the runbook). Name an
    # existing role of the account (e.g. the guide's ecsTaskExecutionRole) and it is used as
    # it is: never tagged, changed or deleted.
    execution_role: str = "flask-todo-execution-role"
    task_role: str = "flask-todo-task-role"
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


def load(path: Path | None = None, *, region: str | None = None) -> Settings:
    """Defaults, then the TOML file, then the region from the command line or environment."""
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(path.read_text())
        except OSError as exc:
            raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    name = data.get("deployment", {}).get("name", Deployment.name)
    settings = Settings.for_deployment(name if isinstance(name, str) else Deployment.name)
    for key, values in data.items():
        settings = _apply_table(settings, key, values, path)
    env_region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if region or (env_region and "region" not in data.get("deployment", {})):
        settings = settings.replace("deployment", region=region or env_region)
    password = os.environ.get(PASSWORD_ENV)
    if password:
        settings = dataclasses.replace(settings, master_password=password)
    return settings


def _apply_table(settings: Settings, key: str, values: Any, path: Path | None) -> Settings:
    if key not in SECTION_KEYS or not isinstance(values, dict):
        raise ConfigError(f"{path}: unknown section [{key}]; known: {', '.join(SECTION_KEYS)}")
    known = {f.name: f for f in fields(settings.section(key))}
    for name, value in values.items():
        if name not in known:
            raise ConfigError(
                f"{path}: unknown setting {key}.{name}; known: {', '.join(sorted(known))}"
            )
        expected = type(getattr(settings.section(key), name))
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ConfigError(f"{path}: {key}.{name} = {value!r} should be {expected.__name__}")
    return settings.replace(key, **values)
