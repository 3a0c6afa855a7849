"""AWS's naming and sizing rules, checked before any call so bad input changes nothing."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from runbook.settings import Settings

# Fargate's fixed CPU units -> allowed task memory (MiB). "Between 16 GB and 60 GB in 4 GB
# increments - Available cpu values: 8192 (8 vCPU)", "Between 32GB and 120 GB in 8 GB
# increments - Available cpu values: 16384 (16 vCPU)"; both need Linux platform 1.4.0 or
# later, which LATEST is (Amazon ECS API Reference, RegisterTaskDefinition, memory).
FARGATE_SIZES: dict[str, tuple[int, ...]] = {
    "256": (512, 1024, 2048),
    "512": tuple(range(1024, 4097, 1024)),
    "1024": tuple(range(2048, 8193, 1024)),
    "2048": tuple(range(4096, 16385, 1024)),
    "4096": tuple(range(8192, 30721, 1024)),
    "8192": tuple(range(16384, 61441, 4096)),
    "16384": tuple(range(32768, 122881, 8192)),
}
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827)
# Words PostgreSQL or RDS will not take as a database or user name.
RESERVED_NAMES = {
    "postgres",
    "rdsadmin",
    "rdsrepladmin",
    "rds_superuser",
    "user",
    "select",
    "table",
    "order",
    "group",
    "all",
    "public",
    "template0",
    "template1",
}


@dataclass(frozen=True)
class FieldError:
    section: str
    field: str
    value: Any
    rule: str

    def __str__(self) -> str:
        shown = "********" if self.field == "master_password" else repr(self.value)
        return f"{self.section}.{self.field} = {shown}: {self.rule}"


Rule = Callable[[Any], str | None]


def _pattern(regex: str, rule: str) -> Rule:
    compiled = re.compile(regex)
    return lambda v: None if isinstance(v, str) and compiled.fullmatch(v) else rule


def _between(low: int, high: int, what: str = "") -> Rule:
    return lambda v: None if low <= v <= high else f"must be {what}between {low} and {high}"


def _one_of(choices: tuple[Any, ...]) -> Rule:
    return lambda v: None if v in choices else f"must be one of {', '.join(map(str, choices))}"


def _all(*rules: Rule) -> Rule:
    def check(value: Any) -> str | None:
        return next((msg for rule in rules if (msg := rule(value))), None)

    return check


def _not(predicate: Callable[[str], bool], rule: str) -> Rule:
    return lambda v: rule if predicate(v) else None


ELB_NAME = _all(
    _pattern(
        r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?",
        "must be 1-32 letters, digits or hyphens, not starting or ending with a hyphen",
    ),
    _not(lambda v: v.startswith("internal-"), "must not start with 'internal-'"),
)
SG_NAME = _all(
    _pattern(
        r"[A-Za-z0-9 ._\-:/()#,@\[\]+=&;{}!$*]{1,255}",
        "must be 1-255 letters, digits, spaces or ._-:/()#,@[]+=&;{}!$*",
    ),
    _not(lambda v: v.lower().startswith("sg-"), "must not start with 'sg-'"),
)
ECS_NAME = _pattern(
    r"[A-Za-z0-9_-]{1,255}", "must be 1-255 letters, digits, hyphens or underscores"
)
RDS_IDENTIFIER = _all(
    _pattern(
        r"[A-Za-z][A-Za-z0-9-]{0,62}",
        "must be 1-63 letters, digits or hyphens, starting with a letter",
    ),
    _not(lambda v: v.endswith("-") or "--" in v, "must not end with a hyphen or contain '--'"),
)
PG_NAME = _all(
    _pattern(
        r"[A-Za-z][A-Za-z0-9_]{0,62}",
        "must be 1-63 letters, digits or underscores, starting with a letter",
    ),
    _not(lambda v: v.lower() in RESERVED_NAMES, "is a name PostgreSQL or RDS reserves"),
)
ROLE_NAME = _pattern(r"[\w+=,.@-]{1,64}", "must be 1-64 characters of an IAM role name")
PORT = _between(1, 65535)
PASSWORD = _all(
    _pattern(r"[\x21-\x7e]{8,128}", "must be 8-128 printable ASCII characters, no spaces"),
    _not(lambda v: any(c in v for c in '/"@'), 'must not contain / " or @'),
)

RULES: dict[tuple[str, str], Rule] = {
    ("deployment", "name"): _all(
        _pattern(r"[a-z][a-z0-9-]{0,19}", "must be 1-20 lowercase letters, digits or hyphens"),
        _not(lambda v: v.endswith("-"), "must not end with a hyphen"),
    ),
    ("deployment", "region"): _pattern(
        r"[a-z]{2}(-gov)?-[a-z]+-\d", "must be an AWS region such as us-east-1"
    ),
    ("security_groups", "elb_sg"): SG_NAME,
    ("security_groups", "ecs_sg"): SG_NAME,
    ("security_groups", "db_sg"): SG_NAME,
    ("security_groups", "listener_port"): PORT,
    ("security_groups", "app_port"): PORT,
    ("security_groups", "db_port"): _between(1150, 65535, "a PostgreSQL port on RDS "),
    ("load_balancer", "name"): ELB_NAME,
    ("load_balancer", "target_group"): ELB_NAME,
    ("load_balancer", "health_check_path"): _pattern(
        r"/[A-Za-z0-9\-._~!$&'()*+,;=:@/%?]{0,1023}",
        "must start with / and be at most 1024 URL characters, no spaces",
    ),
    ("load_balancer", "health_check_interval"): _between(5, 300, "seconds "),
    ("load_balancer", "healthy_threshold"): _between(2, 10),
    ("load_balancer", "deregistration_delay"): _between(0, 3600, "seconds "),
    ("cluster", "name"): ECS_NAME,
    ("cluster", "log_group"): _pattern(
        r"[A-Za-z0-9._/#-]{1,512}", "must be 1-512 letters, digits or . _ - / #"
    ),
    ("cluster", "log_retention_days"): _one_of(LOG_RETENTION_DAYS),
    ("database", "identifier"): RDS_IDENTIFIER,
    ("database", "instance_class"): _pattern(
        r"db\.[a-z0-9]+\.[a-z0-9]+", "must be an RDS instance class such as db.t4g.micro"
    ),
    ("database", "engine_version"): _pattern(
        r"1[2-9](\.\d+)?", "must be a PostgreSQL version such as 16.4"
    ),
    ("database", "db_name"): PG_NAME,
    ("database", "master_username"): PG_NAME,
    ("database", "allocated_storage"): _between(20, 65536, "GiB "),
    ("task_definition", "family"): ECS_NAME,
    ("task_definition", "container_name"): ECS_NAME,
    ("task_definition", "image"): _pattern(
        r"(|[a-z0-9][A-Za-z0-9._/:@-]{0,254})", "must be an image reference without spaces"
    ),
    ("task_definition", "cpu"): _one_of(tuple(FARGATE_SIZES)),
    ("task_definition", "memory"): _pattern(r"\d{3,6}", "must be MiB as digits, such as 512"),
    # ECS API Reference, RuntimePlatform: cpuArchitecture X86_64 | ARM64.
    ("task_definition", "cpu_architecture"): _one_of(("X86_64", "ARM64")),
    ("task_definition", "container_memory"): _between(6, 122880, "MiB "),
    ("task_definition", "container_memory_reservation"): _between(6, 122880, "MiB "),
    ("task_definition", "execution_role"): ROLE_NAME,
    ("task_definition", "task_role"): ROLE_NAME,
    # ECR lifecycle policy countNumber (at least 1); 2: a rollback needs the version before.
    ("task_definition", "images_kept"): _between(2, 1000, "a number of images "),
    ("task_definition", "flask_app"): _pattern(r"[A-Za-z_][\w.:]*", "must be a module name"),
    ("task_definition", "flask_env"): _one_of(("production", "development")),
    ("service", "name"): ECS_NAME,
    ("service", "desired_count"): _between(0, 100),
    ("service", "health_check_grace_period"): _between(0, 7200, "seconds "),
    ("domain", "name"): _pattern(
        r"(|(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63})",
        "must be a lowercase domain name such as todo.example.com, or empty",
    ),
    ("domain", "hosted_zone"): _pattern(
        r"(|([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63})",
        "must be a hosted zone name such as example.com, or empty",
    ),
    ("auto_scaling", "max_tasks"): _between(0, 100, "a task count "),
    ("auto_scaling", "target_cpu"): _between(10, 90, "a CPU percentage "),
}


def _cross_checks(s: Settings) -> Iterator[FieldError]:
    """Rules that tie two fields together."""
    td = s.task_definition
    allowed = FARGATE_SIZES.get(td.cpu, ())
    if allowed and td.memory.isdigit() and int(td.memory) not in allowed:
        step = allowed[1] - allowed[0]
        sizes = (
            ", ".join(str(m) for m in allowed)
            if len(allowed) <= 4
            else f"{allowed[0]} to {allowed[-1]} in steps of {step}"
        )
        yield FieldError(
            "task_definition",
            "memory",
            td.memory,
            f"Fargate with cpu {td.cpu} takes memory {sizes}",
        )
    if td.memory.isdigit() and td.container_memory > int(td.memory):
        yield FieldError(
            "task_definition",
            "container_memory",
            td.container_memory,
            f"the container's hard limit must fit in the task's memory ({td.memory} MiB)",
        )
    if td.container_memory_reservation > td.container_memory:
        yield FieldError(
            "task_definition",
            "container_memory_reservation",
            td.container_memory_reservation,
            f"the soft limit must not exceed the hard limit ({td.container_memory} MiB)",
        )
    scaling = s.auto_scaling
    if scaling.max_tasks and scaling.max_tasks < s.service.desired_count:
        yield FieldError(
            "auto_scaling",
            "max_tasks",
            scaling.max_tasks,
            f"must be 0 (off) or at least the service's desired count ({s.service.desired_count})",
        )
    domain = s.domain
    if (
        domain.name
        and domain.hosted_zone
        and not (
            domain.name == domain.hosted_zone or domain.name.endswith("." + domain.hosted_zone)
        )
    ):
        yield FieldError(
            "domain", "hosted_zone", domain.hosted_zone, f"must be {domain.name} or a parent of it"
        )
    if td.task_role == td.execution_role:
        yield FieldError(
            "task_definition",
            "task_role",
            td.task_role,
            "must differ from the execution role: the task's own role reads only its secret",
        )
    sg = s.security_groups
    if len({sg.elb_sg, sg.ecs_sg, sg.db_sg}) < 3:
        yield FieldError("security_groups", "db_sg", sg.db_sg, "the three groups need three names")
    if s.master_password is not None and (msg := PASSWORD(s.master_password)):
        yield FieldError("database", "master_password", s.master_password, msg)


def validate(settings: Settings) -> list[FieldError]:
    """Every rule broken by these settings; empty when they are good to use."""
    errors = []
    for (key, name), rule in RULES.items():
        value = getattr(settings.section(key), name)
        if msg := rule(value):
            errors.append(FieldError(key, name, value, msg))
    errors.extend(_cross_checks(settings))
    return errors


def field_errors(settings: Settings, section: str) -> dict[str, str]:
    """One section's broken rules by field name, for a form that validates as you type."""
    return {e.field: e.rule for e in validate(settings) if e.section == section}
