"""Checks before the first mutating call: identity, region, network, DB class, roles, image."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from runbook.aws import Aws
from runbook.errors import RunbookError, problem_from
from runbook.image import Build
from runbook.resources import role as role_kind
from runbook.rules import cfn
from runbook.settings import Settings
from runbook.steps import app_secrets
from runbook.steps.base import Observed, missing_on
from runbook.steps.cluster import SLR_PATH
from runbook.steps.image import image_present
from runbook.steps.roles import WELL_KNOWN, is_ours
from runbook.steps.security_groups import SUBNETS, VPC, discover_default_vpc

# RDS stopped offering the t2 classes with PostgreSQL 13 and later.
REPLACEMENT_CLASS = "db.t4g.micro"


@dataclass(frozen=True)
class Fix:
    """A change to the settings that resolves a finding, offered to the person."""

    description: str
    section: str
    changes: dict[str, Any] = field(default_factory=dict)

    def apply(self, settings: Settings) -> Settings:
        return settings.replace(self.section, **self.changes)


@dataclass(frozen=True)
class Finding:
    topic: str
    level: str  # ok | info | warning | error
    message: str
    fix: Fix | None = None
    # The person's input, not the account: a deploy stopped by it exits 2, as bad settings do.
    bad_input: bool = False


def class_retired(instance_class: str, engine_version: str) -> bool:
    major = engine_version.split(".")[0]
    return instance_class.startswith("db.t2.") and major.isdigit() and int(major) >= 13


def replacement_class(region: str) -> tuple[str, str | None]:
    """The small class to offer in this region, and the other one if it has both: cfn-lint's
    per-region data has no db.t4g.micro for PostgreSQL in some regions (ca-west-1)."""
    offered = cfn.instance_classes_in("postgres", region)
    found = [c for c in (REPLACEMENT_CLASS, "db.t3.micro") if offered is None or c in offered]
    if not found:
        return REPLACEMENT_CLASS, None
    return found[0], (found[1] if len(found) > 1 else None)


def check_instance_class(aws: Aws | None, s: Settings) -> Finding:
    d = s.database
    replacement, other = replacement_class(s.deployment.region)
    fix = Fix(
        f"use {replacement}{f' (or {other})' if other else ''} instead",
        "database",
        {"instance_class": replacement},
    )
    if class_retired(d.instance_class, d.engine_version):
        return Finding(
            "instance class",
            "warning",
            f"{d.instance_class} cannot run PostgreSQL {d.engine_version}: RDS "
            "offers the t2 classes only up to PostgreSQL 12.",
            fix,
        )
    if aws is None:
        return Finding("instance class", "info", f"{d.instance_class} not checked (offline)")
    # A major version ("16") matches no offer exactly: ask for the class, match the major.
    options = aws.call(
        "rds",
        "describe_orderable_db_instance_options",
        Engine="postgres",
        DBInstanceClass=d.instance_class,
        MaxRecords=100,
    )
    major = d.engine_version.split(".")[0] + "."
    options["OrderableDBInstanceOptions"] = [
        o
        for o in options.get("OrderableDBInstanceOptions", [])
        if f"{o.get('EngineVersion', '')}.".startswith(major)
        and (o["EngineVersion"] == d.engine_version or "." not in d.engine_version)
    ]
    if options.get("OrderableDBInstanceOptions"):
        return Finding(
            "instance class",
            "ok",
            f"{d.instance_class} is orderable for PostgreSQL {d.engine_version}",
        )
    # An empty answer from an emulator means "no data", so we only inform; and offer the
    # replacement only when it is not what is already chosen.
    if d.instance_class == replacement:
        fix = None
    return Finding(
        "instance class",
        "info",
        f"AWS listed no {d.instance_class} offer for PostgreSQL {d.engine_version}; "
        "if creation fails, choose another class.",
        fix,
    )


def run(
    aws: Aws,
    s: Settings,
    *,
    sandbox: bool = False,
    build: Build | None = None,
    version: str = "",
) -> tuple[list[Finding], dict[str, Any]]:
    """The findings, and the network values they discovered (for later references)."""
    findings: list[Finding] = []
    known: dict[str, Any] = {}
    who = aws.call("sts", "get_caller_identity")
    findings.append(Finding("identity", "ok", f"account {who['Account']} as {who['Arn']}"))
    findings.append(Finding("region", "ok", aws.region + (" (local emulator)" if sandbox else "")))
    try:
        known = discover_default_vpc(aws)
        findings.append(
            Finding(
                "network",
                "ok",
                f"default VPC {known[VPC]}, subnets in {len(known[SUBNETS])} Availability Zones",
            )
        )
    except RunbookError as exc:
        findings.append(Finding("network", "error", str(exc.problem)))
    try:
        findings.append(check_instance_class(aws, s))
    except Exception as exc:  # a look-up we cannot make is no reason to stop
        findings.append(Finding("instance class", "info", problem_from(exc).message))
    findings.append(_roles_finding(aws, s))
    if not aws.call("iam", "list_roles", PathPrefix=SLR_PATH)["Roles"]:
        findings.append(
            Finding("roles", "info", "ECS's service-linked role is missing: section III creates it")
        )
    findings.append(_image_finding(aws, s, build or Build(), version))
    if s.app.secrets:
        findings.append(_secrets_finding(aws, s))
    return findings, known


def _secrets_finding(aws: Aws, s: Settings) -> Finding:
    """Every secret [app] names has a value (given now, or kept from an earlier deploy):
    found before the first call, not at section V with four sections made."""
    seen = Observed()
    app_secrets.discover(aws, s, seen)
    without = app_secrets.missing(s, seen)
    if not without:
        return Finding("app secrets", "ok", f"a value for each of {', '.join(s.app.secrets)}")
    problem = app_secrets.missing_problem(without)
    return Finding("app secrets", "error", f"{problem.message} {problem.advice}", bad_input=True)


def _roles_finding(aws: Aws, s: Settings) -> Finding:
    td = s.task_definition
    role = missing_on(
        role_kind.NOT_FOUND, lambda: aws.call("iam", "get_role", RoleName=td.execution_role)
    )
    if role is None:
        if td.execution_role in WELL_KNOWN:
            return Finding(
                "roles",
                "error",
                f"{td.execution_role} is an account-wide role the runbook never creates, and "
                "this account lacks it: leave task_definition.execution_role at its default.",
            )
        return Finding(
            "roles",
            "info",
            f"section V creates {td.execution_role} and {td.task_role}, this deployment's own "
            "roles (destroy deletes them)",
        )
    if is_ours(td.execution_role, role["Role"].get("Tags"), s.deployment.name):
        return Finding("roles", "ok", f"{td.execution_role} exists and is this deployment's")
    return Finding(
        "roles",
        "info",
        f"{td.execution_role} is the account's: used as it is, never changed or deleted; "
        f"ECS injects no DB_PWD, the app reads the password with its task role {td.task_role}",
    )


def _image_finding(aws: Aws, s: Settings, build: Build, version: str) -> Finding:
    td = s.task_definition
    if td.image:
        return Finding("image", "ok", f"the task will run {td.image}")
    image = f"{td.family}:{version}"
    if version and image_present(aws, s, version):
        return Finding("image", "ok", f"{image} is in ECR already: nothing to build")
    if build.engine is not None:
        return Finding(
            "image",
            "ok",
            f"{build.engine.name} ({build.engine.path}) builds {image} from {build.context} "
            "and pushes it as soon as section III has made the repository, while the "
            "database is created",
        )
    return Finding(
        "image",
        "info",
        f"no docker or podman on PATH: section VI waits for you to push {image} (it shows "
        "how), or set task_definition.image to an image of your own",
    )
