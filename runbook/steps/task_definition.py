"""Section V: the task definition (0.25 vCPU, 0.5 GB, port 5000), its roles and image."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runbook import rds_ca
from runbook.aws import Aws
from runbook.plan import Action, ApiCall, Ref, resolve
from runbook.resources import secret as secret_kind
from runbook.resources import task_definition as revisions
from runbook.rules import fargate
from runbook.settings import Settings
from runbook.steps import app_secrets, database, roles
from runbook.steps.base import Observed, Resource, Step, missing_on, tagged
from runbook.steps.cluster import ecs_tags
from runbook.steps.image import image_key
from runbook.steps.role_policies import ACCOUNT_KEY
from runbook.task_wrapper import database_url

# The RDS CA bundle the image carries: the app checks the database's certificate and name.
RDS_CA_BUNDLE = rds_ca.IN_IMAGE


def task_definition_key(s: Settings) -> str:
    return f"{s.task_definition.family}.taskDefinitionArn"


def image(s: Settings) -> str | Ref:
    """The image to run: as given, or this version of the app in section III's repository."""
    return s.task_definition.image or Ref(image_key(s))


def runtime_platform(s: Settings) -> dict[str, str]:
    """Fargate runs Linux; the architecture is the setting's (the image is built for it)."""
    return {"cpuArchitecture": s.task_definition.cpu_architecture, "operatingSystemFamily": "LINUX"}


# What ECS runs when a task definition names no runtimePlatform (ECS API Reference,
# RuntimePlatform): an older revision without one says the same as this.
DEFAULT_PLATFORM = {"cpuArchitecture": "X86_64", "operatingSystemFamily": "LINUX"}


def container_definition(s: Settings, *, inject_password: bool = True) -> dict[str, Any]:
    """The one container. inject_password: ECS puts DB_PWD in (only with our execution role)."""
    td, db, k = s.task_definition, s.database, database.keys(s)
    container = {
        "name": td.container_name,
        "image": image(s),
        "essential": True,
        "portMappings": [{"containerPort": s.security_groups.app_port, "protocol": "tcp"}],
        "memory": td.container_memory,
        "memoryReservation": td.container_memory_reservation,
        "entryPoint": ["bin/flask-run.sh"],
        "environment": [
            {"name": "DB_HOST", "value": Ref(k["host"])},
            {"name": "DB_PORT", "value": str(s.security_groups.db_port)},
            {"name": "DB_NAME", "value": db.db_name},
            # Encrypted, and the server proven to be our database (RDS's CA, its host name).
            {"name": "DB_SSLMODE", "value": "verify-full"},
            {"name": "DB_SSLROOTCERT", "value": RDS_CA_BUNDLE},
            # Where the app re-reads the password after a rotation (an ARN is no secret).
            {"name": "DB_SECRET_ARN", "value": Ref(k["secret"])},
            {"name": "DB_USER_NAME", "value": db.master_username},
            {"name": "FLASK_APP", "value": td.flask_app},
            {"name": "FLASK_ENV", "value": td.flask_env},
            {"name": "PYTHONPATH", "value": "/app/src"},
            {"name": "PORT", "value": str(s.security_groups.app_port)},
        ],
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": s.cluster.log_group,
                "awslogs-region": s.deployment.region,
                "awslogs-stream-prefix": td.container_name,
            },
        },
    }
    if s.app.database_env or s.app.database_parts:
        # Ahead of the app's own entry point: DATABASE_URL (no password in it) and a password
        # file libpq reads at each login, kept current across rotations.
        container["entryPoint"] = [*database_url.ENTRY_POINT, *container["entryPoint"]]
        container["environment"] += database_url.environment(
            s.app.database_env, s.app.database_parts
        )
    if inject_password:
        # The password never sits in a plain variable: ECS fetches it at task start.
        container["secrets"] = [
            {"name": "DB_PWD", "valueFrom": Ref(k["secret"], fmt="{}:password::")}
        ]
    if s.app.folder:
        _own_app(container, s)
    return container


# The Todo API's own variables: another app (an [app] folder) gets its own instead.
TODO_API_ONLY = ("FLASK_APP", "FLASK_ENV", "PYTHONPATH")


def _own_app(container: dict[str, Any], s: Settings) -> None:
    """Another app than the Todo API: its image's own ENTRYPOINT and CMD, its variables and
    secrets beside the database's (which every app may read)."""
    del container["entryPoint"]
    container["environment"] = [
        e for e in container["environment"] if e["name"] not in TODO_API_ONLY
    ] + [{"name": name, "value": value} for name, value in sorted(s.app.environment.items())]
    secrets = container.get("secrets", []) + app_secrets.container_secrets(s)
    if secrets:
        container["secrets"] = secrets


def _registration(s: Settings, *, inject_password: bool) -> dict[str, Any]:
    td = s.task_definition
    return {
        "family": td.family,
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        # ECS stores ".25 vCPU" and "0.5 GB" as 256 and 512: send what it will describe.
        "cpu": fargate.cpu_units(td.cpu) or td.cpu,
        "memory": str(fargate.memory_mib(td.memory, td.cpu) or td.memory),
        "runtimePlatform": runtime_platform(s),
        "executionRoleArn": Ref(roles.arn_key(td.execution_role)),
        "taskRoleArn": Ref(roles.arn_key(td.task_role)),
        "containerDefinitions": [container_definition(s, inject_password=inject_password)],
    }


def _same(current: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """Does the registered revision already say what we would register?"""

    def norm(container: dict[str, Any]) -> dict[str, Any]:
        subset = {
            k: container.get(k)
            for k in (
                "name",
                "image",
                "memory",
                "memoryReservation",
                "entryPoint",
                "logConfiguration",
            )
        }
        subset["ports"] = sorted(p["containerPort"] for p in container.get("portMappings", []))
        subset["environment"] = sorted(
            (e["name"], e["value"]) for e in container.get("environment", [])
        )
        subset["secrets"] = sorted(
            (e["name"], e["valueFrom"]) for e in container.get("secrets", [])
        )
        return subset

    platform = current.get("runtimePlatform") or DEFAULT_PLATFORM
    return (
        all(
            str(current.get(k)) == str(wanted[k])
            for k in ("cpu", "memory", "executionRoleArn", "taskRoleArn")
        )
        and platform == wanted["runtimePlatform"]
        and norm(current["containerDefinitions"][0]) == norm(wanted["containerDefinitions"][0])
    )


def _why_new(current: dict[str, Any], wanted: dict[str, Any] | None) -> str:
    if wanted is None:
        return "settings changed"
    image = wanted["containerDefinitions"][0]["image"]
    if current["containerDefinitions"][0].get("image") != image:
        return f"the app's image is now {image.rsplit('/', 1)[-1]}"
    return "settings changed"


class TaskDefinitionStep(Step):
    number = "V"
    key = "task_definition"
    title = "Task definition"
    explanation = (
        "The task definition: 0.25 vCPU and 0.5 GB on Fargate, one container todo-api on "
        "port 5000 (hard limit 500 MiB, soft 300), started by bin/flask-run.sh, logging to "
        "CloudWatch. The database host comes from section IV; the password is injected from "
        "Secrets Manager, never written in a plain variable as the guide does, and the "
        "connection checks the database's certificate (verify-full). Where the guide uses the "
        "account-wide ecsTaskExecutionRole, the deployment gets roles of its own, which "
        "destroy deletes: an execution role (pulls the image, writes logs, injects the "
        "password) and a task role, with which the app re-reads the password after RDS "
        "rotates it; each may read that one secret and nothing else. Name an existing role "
        "instead and it is used as it is, never changed. With no image given, the task runs "
        "this version of the app (the git commit of todo_app/, or a digest of its content "
        "when it has uncommitted changes) from section III's repository, never `latest`: a "
        "code change is a new revision, which section VI rolls out."
    )

    def discover(self, aws: Aws, s: Settings, known: Mapping[str, Any]) -> Observed:
        td, seen, deployment = s.task_definition, Observed(), s.deployment.name
        roles.discover(aws, s, seen)
        app_secrets.discover(aws, s, seen)
        current = missing_on(
            revisions.NOT_FOUND,
            lambda: aws.call(
                "ecs", "describe_task_definition", taskDefinition=td.family, include=["TAGS"]
            ),
        )
        definition = current["taskDefinition"] if current else None
        if definition and definition.get("status") != "ACTIVE":
            # AWS describes the family's latest ACTIVE revision; an emulator may answer with a
            # newer deregistered one, which is gone as far as a deploy is concerned.
            active = revisions.listed(aws, td.family, "ACTIVE")
            current = (
                aws.call(
                    "ecs", "describe_task_definition", taskDefinition=active[-1], include=["TAGS"]
                )
                if active
                else None
            )
            definition = current["taskDefinition"] if current else None
        if definition:
            seen.found["task_definition"] = definition
            seen.known[task_definition_key(s)] = definition["taskDefinitionArn"]
            # Older revisions (from earlier settings) are ours to deregister too.
            seen.found["revisions"] = revisions.listed(aws, td.family, "ACTIVE")
        seen.resources.append(
            Resource.seen(
                revisions.NAME,
                td.family,
                definition,
                "taskDefinitionArn",
                bool(current) and tagged(current.get("tags"), deployment),
                state=lambda found: f"revision {found['revision']}",
            )
        )
        # Section IV's endpoint, if it is known by now; else the plan waits for it.
        db_seen = (
            database.DatabaseStep().discover(aws, s, known)
            if database.keys(s)["host"] not in known
            else None
        )
        if db_seen:
            seen.known.update(db_seen.known)
            seen.found["db"] = db_seen.found.get("db")
        return seen

    def plan(self, s: Settings, seen: Observed | None) -> list[Action]:
        td, deployment = s.task_definition, s.deployment.name
        found = seen.found if seen else {}
        known = dict(seen.known) if seen else {}
        actions: list[Action] = []
        if "db" in found and database.keys(s)["host"] not in known:
            actions.append(database.database_available(s, self.number))
        actions += roles.plan(s, seen, Ref(database.keys(s)["secret"]), self.number)
        actions += app_secrets.plan(s, seen, self.number)
        inject = not roles.lent(s, seen, "execution role")
        wanted = _registration(s, inject_password=inject)
        current = found.get("task_definition")
        try:
            resolved = resolve(wanted, known)
        except LookupError:
            resolved = None
        unchanged = current is not None and resolved is not None and _same(current, resolved)
        if not unchanged:
            actions.append(
                ApiCall(
                    "ecs",
                    "register_task_definition",
                    {**wanted, "tags": ecs_tags(deployment)},
                    f"register {td.family}"
                    + (f" (a new revision: {_why_new(current, resolved)})" if current else "")
                    + f": {wanted['cpu']} CPU units, {wanted['memory']} MiB"
                    + (
                        ""
                        if inject
                        else f"; {td.execution_role} is the account's, not ours, so ECS does not "
                        "inject DB_PWD: the app reads the password through DB_SECRET_ARN with "
                        f"its task role {td.task_role}"
                    ),
                    self.number,
                    captures={task_definition_key(s): "taskDefinition.taskDefinitionArn"},
                )
            )
        return actions

    def teardown(self, s: Settings, seen: Observed) -> list[Action]:
        actions: list[Action] = []
        for r in seen.ours():
            if r.kind == revisions.NAME:
                active = seen.found.get("revisions") or [r.id]
                actions += revisions.delete(active, (), self.number)
            elif r.kind == secret_kind.NAME:
                actions += secret_kind.KIND.deletes(r.id, f"the secret {r.name}", self.number)
        return actions + roles.teardown(s, seen, self.number)

    def output_keys(self, s: Settings) -> list[str]:
        td = s.task_definition
        return [
            roles.arn_key(td.execution_role),
            roles.arn_key(td.task_role),
            task_definition_key(s),
            ACCOUNT_KEY,
        ]
