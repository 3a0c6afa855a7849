"""AWS's naming and sizing rules, checked before any call so bad input changes nothing."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runbook.rules import app_env, cfn, ecs_task, fargate, rds_versions
from runbook.rules.common import HEALTH_CHECK_PATH, INT_MAX
from runbook.rules.core import compiled
from runbook.rules.names import image_problem, region_problem, reserved_database, reserved_user
from runbook.rules.quotas import TASKS_PER_SERVICE
from runbook.settings import Settings

# CloudWatch Logs' retention values, from CloudFormation's AWS::Logs::LogGroup schema (cfn-lint).
LOG_RETENTION_DAYS: tuple[int, ...] = tuple(
    cfn.constraints("AWS::Logs::LogGroup", "RetentionInDays")["enum"]
)
# CloudWatch Logs User Guide (Working with log groups): "Log group names can't start with
# the string aws/" -- AWS's own services write there.
LOG_GROUP_RESERVED = "aws/"
# RFC 5280 via ACM's RequestCertificate: the first domain (the Common Name) at most 64 octets.
ACM_FIRST_DOMAIN = 64
# A top-level domain: letters, or an internationalised one in its xn-- (punycode) form.
TLD = r"(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})"
HTTPS_PORT = 443  # section VII's HTTPS listener (runbook/steps/domain.py)
# ECR's "Images per repository" quota (Amazon ECR service quotas): keeping more is keeping all.
IMAGES_PER_REPOSITORY = 100_000


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


def _schema(resource_type: str, prop: str, rule: str) -> Rule:
    """A property's pattern and lengths as CloudFormation's schema states them (cfn-lint)."""
    c = cfn.constraints(resource_type, prop)
    pattern = compiled(c["pattern"]) if "pattern" in c else None
    low, high = c.get("minLength", 0), c.get("maxLength")

    def check(v: Any) -> str | None:
        ok = isinstance(v, str) and low <= len(v) and (high is None or len(v) <= high)
        return None if ok and (pattern is None or pattern.search(v)) else rule

    return check


# CreateLoadBalancer Name: "a maximum of 32 characters, must contain only alphanumeric characters
# or hyphens, must not begin or end with a hyphen, and must not begin with "internal-"".
# CreateTargetGroup Name: the same but for "internal-" (no schema states either).
TARGET_GROUP_NAME = _pattern(
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?",
    "must be 1-32 letters, digits or hyphens, not starting or ending with a hyphen",
)
ELB_NAME = _all(
    TARGET_GROUP_NAME,
    _not(lambda v: v.startswith("internal-"), "must not start with 'internal-'"),
)
SG_NAME = _all(
    _pattern(
        r"[A-Za-z0-9 ._\-:/()#,@\[\]+=&;{}!$*]{1,255}",
        "must be 1-255 letters, digits, spaces or ._-:/()#,@[]+=&;{}!$*",
    ),
    _not(lambda v: v.lower().startswith("sg-"), "must not start with 'sg-'"),
    # Every VPC already has a group named default, and EC2 compares names without case.
    _not(lambda v: v.lower() == "default", "must not be 'default', the VPC's own group's name"),
)
ECS_NAME = _pattern(
    r"[A-Za-z0-9_-]{1,255}", "must be 1-255 letters, digits, hyphens or underscores"
)
RDS_IDENTIFIER = _schema(
    "AWS::RDS::DBInstance",
    "DBInstanceIdentifier",
    "must be 1-63 letters, digits or hyphens, starting with a letter, not ending with a "
    "hyphen or containing '--'",
)
PG_NAME = _all(
    _pattern(
        r"[A-Za-z][A-Za-z0-9_]{0,62}",
        "must be 1-63 letters, digits or underscores, starting with a letter",
    ),
    _not(reserved_database, "is a word PostgreSQL reserves or a database it already has"),
)
# CreateDBInstance MasterUsername: "Must be 1 to 16 letters, numbers, or underscores. First
# character must be a letter. Can't be a reserved word for the chosen database engine."
PG_USER = _all(
    _pattern(
        r"[A-Za-z][A-Za-z0-9_]{0,15}",
        "must be 1-16 letters, digits or underscores, starting with a letter",
    ),
    _not(reserved_user, "is a word PostgreSQL reserves or a role RDS keeps (rdsadmin, rds_*)"),
)


def _domain_form(value: str) -> str | None:
    """What ACM and Route 53 take but the runbook cannot use, each with its true reason."""
    if value.startswith("*."):
        return (
            "must be one name, not a wildcard: ACM would issue a certificate for it, but the "
            "runbook points one name at the load balancer and checks it answers; give that "
            f"name (e.g. {'todo' + value[1:]})"
        )
    if value.endswith("."):
        return f"must be written without the final dot ({value.rstrip('.')})"
    if value != value.lower():
        # Route 53 "stores alphabetic characters as lowercase letters (a-z), regardless of
        # how you specify them" (Developer Guide, DNS domain name format); the runbook finds
        # its zone and record by comparing with Route 53's names.
        return (
            f"must be written in lower case ({value.lower()}): DNS names have no case, Route "
            "53 keeps them in lower case, and the runbook finds its zone and record by "
            "Route 53's names"
        )
    return None


def _release_command(value: object) -> str | None:
    """A command line as a list of words (RunTask's containerOverrides `command`); its size
    with the container's name is a cross check."""
    if not isinstance(value, list) or not all(isinstance(w, str) for w in value):
        return 'must be a list of strings, e.g. ["python", "-m", "app.migrate"]'
    if value and not value[0].strip():
        return "must start with the program to run"
    return None


ROLE_NAME = _schema(
    "AWS::IAM::Role", "RoleName", "must be 1-64 ASCII letters, digits or +=,.@_- (an IAM role name)"
)
LOG_GROUP_NAME = _schema(
    "AWS::Logs::LogGroup", "LogGroupName", "must be 1-512 letters, digits or . _ - / #"
)
# The repository the app is pushed to is named after the family when no image is given.
REPOSITORY_NAME = _schema(
    "AWS::ECR::Repository",
    "RepositoryName",
    "names the app's ECR repository (no image given), so it must also be 2-256 lower-case "
    "letters and digits, with single . _ or - (or __, or several -) between them",
)
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
    ("deployment", "region"): region_problem,
    ("security_groups", "elb_sg"): SG_NAME,
    ("security_groups", "ecs_sg"): SG_NAME,
    ("security_groups", "db_sg"): SG_NAME,
    ("security_groups", "listener_port"): PORT,
    ("security_groups", "app_port"): PORT,
    ("security_groups", "db_port"): _between(1150, 65535, "a PostgreSQL port on RDS "),
    ("load_balancer", "name"): ELB_NAME,
    ("load_balancer", "target_group"): TARGET_GROUP_NAME,
    ("load_balancer", "health_check_path"): _pattern(
        HEALTH_CHECK_PATH,
        "must start with / and be at most 1024 URL characters, no spaces",
    ),
    ("load_balancer", "health_check_interval"): _between(5, 300, "seconds "),
    ("load_balancer", "healthy_threshold"): _between(2, 10),
    ("load_balancer", "deregistration_delay"): _between(0, 3600, "seconds "),
    ("cluster", "name"): ECS_NAME,
    ("cluster", "log_group"): _all(
        LOG_GROUP_NAME,
        _not(
            lambda v: v.startswith(LOG_GROUP_RESERVED),
            "must not start with 'aws/', which CloudWatch Logs keeps for AWS's services",
        ),
    ),
    ("cluster", "log_retention_days"): _one_of(LOG_RETENTION_DAYS),
    ("database", "identifier"): RDS_IDENTIFIER,
    ("database", "instance_class"): _pattern(
        r"db\.[a-z0-9]+\.[a-z0-9]+", "must be an RDS instance class such as db.t4g.micro"
    ),
    # Checked against RDS's versions in the cross checks (cfn-lint's data).
    ("database", "engine_version"): _pattern(
        r"\d+(\.\d+)*(-rds\.\d+)?", "must be a PostgreSQL version such as 16 or 16.9"
    ),
    ("database", "db_name"): PG_NAME,
    ("database", "master_username"): PG_USER,
    ("database", "allocated_storage"): _between(20, 65536, "GiB "),
    ("task_definition", "family"): ECS_NAME,
    ("task_definition", "container_name"): ECS_NAME,
    ("task_definition", "image"): lambda v: image_problem(v) if v else None,
    ("task_definition", "cpu"): lambda v: (
        None
        if fargate.cpu_units(v)
        else "must be one of "
        + ", ".join(size.units for size in fargate.sizes())
        + " (CPU units), or vCPUs such as .25 vCPU"
    ),
    ("task_definition", "memory"): lambda v: (
        None if fargate.memory_mib(v) else "must be MiB such as 512, or GB such as 1 GB"
    ),
    # ECS API Reference, RuntimePlatform: cpuArchitecture X86_64 | ARM64.
    ("task_definition", "cpu_architecture"): _one_of(("X86_64", "ARM64")),
    ("task_definition", "container_memory"): _between(6, 122880, "MiB "),
    ("task_definition", "container_memory_reservation"): _between(6, 122880, "MiB "),
    ("task_definition", "execution_role"): ROLE_NAME,
    ("task_definition", "task_role"): ROLE_NAME,
    # ECR's lifecycle countNumber is any positive count; 2: a rollback needs the version before.
    ("task_definition", "images_kept"): _between(2, IMAGES_PER_REPOSITORY, "a number of images "),
    ("task_definition", "flask_app"): _pattern(r"[A-Za-z_][\w.:]*", "must be a module name"),
    ("task_definition", "flask_env"): _one_of(("production", "development")),
    ("service", "name"): ECS_NAME,
    ("service", "desired_count"): _between(0, TASKS_PER_SERVICE),
    ("service", "health_check_grace_period"): _between(0, INT_MAX, "seconds "),
    ("app", "release_command"): _release_command,
    ("app", "database_parts"): lambda v: _database_parts(v),
    ("app", "database_env"): _pattern(
        r"|[A-Za-z_][A-Za-z0-9_]{0,254}",
        "must be empty or an environment variable's name (letters, digits, underscores)",
    ),
    ("domain", "name"): _all(
        _domain_form,
        _pattern(
            rf"(|(?=.{{4,253}}$)([a-z0-9]([a-z0-9-]{{0,61}}[a-z0-9])?\.)+{TLD})",
            "must be a domain name such as todo.example.com (labels of letters, digits and "
            "hyphens, not starting or ending with one), or empty",
        ),
        _not(
            lambda v: len(v) > ACM_FIRST_DOMAIN,
            f"must be at most {ACM_FIRST_DOMAIN} characters: ACM puts it in the certificate's "
            "Common Name (RFC 5280); use a shorter name",
        ),
    ),
    ("domain", "hosted_zone"): _all(
        _domain_form,
        _pattern(
            rf"(|([a-z0-9]([a-z0-9-]{{0,61}}[a-z0-9])?\.)+{TLD})",
            "must be a hosted zone name such as example.com, or empty",
        ),
    ),
    ("auto_scaling", "max_tasks"): _between(0, TASKS_PER_SERVICE, "a task count "),
    # TargetTrackingScalingPolicyConfiguration TargetValue: for CPU utilization "a percent value".
    ("auto_scaling", "target_cpu"): _between(1, 100, "a CPU percentage "),
    ("app", "folder"): lambda v: None if v == "" or v.startswith("/") else "must be absolute",
    ("app", "dockerfile"): _all(
        _not(lambda v: v.startswith("/"), "must be a path relative to the app's folder"),
        _not(lambda v: ".." in v.split("/"), "must be inside the app's folder"),
    ),
    ("app", "environment"): lambda v: app_env.plain_name_problem(v) or _environment_size(v),
    ("app", "secrets"): lambda v: app_env.secret_name_problem(v) or _repeated(v),
}


def _environment_size(environment: dict[str, str]) -> str | None:
    size = app_env.environment_size(environment)
    if size <= app_env.TASK_DEFINITION_MOST:
        return None
    return (
        f"is {size} characters as JSON, more than ECS's whole task definition takes "
        f"({app_env.TASK_DEFINITION_MOST}, 64 KiB): keep long values in the image or a secret"
    )


# A variable name a shell and `docker run -e` both take; ECS passes names as they are.
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,254}")


def _env_names(names: list[str]) -> str | None:
    return app_env.misnamed(
        names,
        ENV_NAME,
        "a variable name is letters, digits and underscores, not starting with a digit",
    )


def dockerfile_problem(folder: str, dockerfile: str) -> str | None:
    """The [app] Dockerfile as the build will find it: a file inside the folder (a symbolic
    link leading out of it counts as outside). Reads the disk, so it is not one of RULES:
    recorded settings stay readable on a machine without the app's folder."""
    if not folder:
        return None
    if msg := RULES[("app", "dockerfile")](dockerfile):
        return msg
    root = Path(folder)
    if not root.is_dir():
        return f"the app's folder {folder} is not on this machine: run `runbook init DIR` here"
    path = (root / (dockerfile or "Dockerfile")).resolve()
    if not path.is_relative_to(root.resolve()):
        return f"must be inside the app's folder: it leads to {path}"
    if not path.is_file():
        return f"is not a file in {folder}"
    return None


DATABASE_PARTS = ("host", "port", "name", "user")


def _database_parts(parts: dict[str, str]) -> str | None:
    unknown = sorted(set(parts) - set(DATABASE_PARTS))
    if "password" in unknown:
        return (
            "has no password part: a password read once at start goes stale when RDS rotates "
            "it; libpq finds it in PGPASSFILE, which the runbook keeps current"
        )
    if unknown:
        return f"{', '.join(unknown)}: the parts are {', '.join(DATABASE_PARTS)}"
    return _env_names(list(parts.values())) or _repeated(list(parts.values()))


def _repeated(names: list[str]) -> str | None:
    twice = sorted({n for n in names if names.count(n) > 1})
    return f"names {', '.join(twice)} more than once" if twice else None


def _cross_checks(s: Settings) -> Iterator[FieldError]:
    """Rules that tie two fields together."""
    td = s.task_definition
    pair = fargate.problem(td.cpu, td.memory) if fargate.cpu_units(td.cpu) else None
    if pair and pair[0] == "memory":
        yield FieldError("task_definition", "memory", td.memory, pair[1])
    task_mib = fargate.memory_mib(td.memory)
    if task_mib is not None and td.container_memory > task_mib:
        yield FieldError(
            "task_definition",
            "container_memory",
            td.container_memory,
            f"the container's hard limit must fit in the task's memory ({task_mib} MiB)",
        )
    # ContainerDefinition: "If you specify both, memory must be greater than memoryReservation."
    if td.container_memory_reservation >= td.container_memory:
        yield FieldError(
            "task_definition",
            "container_memory_reservation",
            td.container_memory_reservation,
            f"the soft limit must be less than the hard limit ({td.container_memory} MiB)",
        )
    if not td.image and (msg := REPOSITORY_NAME(td.family)):
        yield FieldError("task_definition", "family", td.family, msg)
    scaling = s.auto_scaling
    if scaling.max_tasks and scaling.max_tasks < s.service.desired_count:
        yield FieldError(
            "auto_scaling",
            "max_tasks",
            scaling.max_tasks,
            f"must be 0 (off) or at least the service's desired count ({s.service.desired_count})",
        )
    domain = s.domain
    # Without case, as DNS compares names: capitals have their own rule and reason.
    name, zone = domain.name.lower(), domain.hosted_zone.lower()
    if name and zone and not (name == zone or name.endswith("." + zone)):
        yield FieldError(
            "domain", "hosted_zone", domain.hosted_zone, f"must be {domain.name} or a parent of it"
        )
    # IAM: "Names are not distinguished by case" (CreateRole RoleName), so Web and web are one.
    if td.task_role.lower() == td.execution_role.lower():
        yield FieldError(
            "task_definition",
            "task_role",
            td.task_role,
            "must differ from the execution role other than in case (IAM compares role names "
            "without case): the task's own role reads only its secret",
        )
    sg = s.security_groups
    seen: dict[str, str] = {}
    for name in ("elb_sg", "ecs_sg", "db_sg"):
        value = getattr(sg, name)
        if (other := seen.setdefault(value.lower(), name)) != name:
            # EC2 refuses a second group whose name differs from one in the VPC only in case.
            yield FieldError(
                "security_groups",
                name,
                value,
                f"must differ from {other} ({getattr(sg, other)}) other than in case: "
                "EC2 compares group names without case",
            )
    if domain.name and sg.listener_port == HTTPS_PORT:
        yield FieldError(
            "security_groups",
            "listener_port",
            sg.listener_port,
            f"cannot be {HTTPS_PORT} with [domain] set: the HTTPS listener takes {HTTPS_PORT}; "
            "use 80 for the listener that redirects to it",
        )
    database_names = [n for n in (s.app.database_env, *s.app.database_parts.values()) if n]
    for name in ("environment", "secrets"):
        names = list(getattr(s.app, name))
        if msg := app_env.taken_names(names, database_names):
            yield FieldError("app", name, getattr(s.app, name), msg)
    both = sorted(set(s.app.environment) & set(s.app.secrets))
    if both:
        # Both would give the container two values for one name; which wins is not ours to say.
        yield FieldError(
            "app",
            "secrets",
            s.app.secrets,
            f"{', '.join(both)} also in app.environment: a variable is plain or secret, not both",
        )
    command = s.app.release_command
    if (
        isinstance(command, list)
        and command
        and not _release_command(command)
        and (msg := ecs_task.command_too_long(td.container_name, command))
    ):
        yield FieldError("app", "release_command", command, msg)
    db = s.database
    if not RULES[("database", "instance_class")](db.instance_class) and (
        msg := _class_in_region(db.instance_class, s.deployment.region)
    ):
        yield FieldError("database", "instance_class", db.instance_class, msg)
    if not RULES[("database", "engine_version")](db.engine_version) and (
        msg := rds_versions.problem("postgres", db.engine_version)
    ):
        yield FieldError("database", "engine_version", db.engine_version, msg)
    if s.master_password is not None and (msg := PASSWORD(s.master_password)):
        yield FieldError("database", "master_password", s.master_password, msg)


def _class_in_region(klass: str, region: str) -> str | None:
    """A class RDS offers for PostgreSQL in no version in this region (cfn-lint's per-region
    table); the class for the chosen version is preflight's and the call's to check."""
    if region_problem(region):
        return None  # the region has its own message
    if klass.startswith("db.t2."):
        return None  # the guide's class: preflight offers its replacement, in every region
    here = cfn.instance_classes_in("postgres", region)
    if here is None or klass in here:
        return None
    offer = next((c for c in ("db.t4g.micro", "db.t3.micro") if c in here), None)
    return (
        f"RDS offers no {klass} for PostgreSQL in {region} (its orderable classes, as "
        "cfn-lint ships them)"
        + (f"; set database.instance_class to {offer}, which it offers there" if offer else "")
    )


def validate(settings: Settings) -> list[FieldError]:
    """Every rule broken by these settings; empty when they are good to use."""
    errors = []
    for (key, name), rule in RULES.items():
        value = getattr(settings.section(key), name)
        if msg := rule(value):
            errors.append(FieldError(key, name, value, msg))
    errors.extend(_cross_checks(settings))
    return [_derived(settings, e) for e in errors]


def _derived(settings: Settings, error: FieldError) -> FieldError:
    """Name the deployment name as the cause when the broken value is the one made from it
    (a 16-character deployment name makes a 33-character target group name)."""
    name = settings.deployment.name
    if error.section == "deployment" or not isinstance(error.value, str):
        return error
    made = getattr(Settings.for_deployment(name).section(error.section), error.field, None)
    if made != error.value or name not in made:
        return error
    return dataclasses.replace(
        error,
        rule=f"{error.rule} (it is made from deployment.name {name!r}: set "
        f"{error.section}.{error.field} yourself, or choose a shorter deployment name)",
    )


def field_errors(settings: Settings, section: str) -> dict[str, str]:
    """One section's broken rules by field name, for a form that validates as you type."""
    return {e.field: e.rule for e in validate(settings) if e.section == section}
