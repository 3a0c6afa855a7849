"""Section V: the task definition (0.25 vCPU, 0.5 GB, port 5000), its execution role and image."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from runbook.aws import Aws
from runbook.plan import Action, ApiCall, Ref, resolve, tags
from runbook.settings import Settings
from runbook.steps import database
from runbook.steps.base import Observed, Resource, Step, adopt_why, missing_on, tagged
from runbook.steps.cluster import ecs_tags
from runbook.steps.image import repository_key

EXECUTION_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
SECRET_POLICY = "fargate-runbook-read-db-secret"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ecs-tasks.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def role_arn_key(s: Settings) -> str:
    return f"{s.task_definition.execution_role}.Arn"


def task_definition_key(s: Settings) -> str:
    return f"{s.task_definition.family}.taskDefinitionArn"


def image(s: Settings) -> str | Ref:
    """The image to run: as given, or the family's ECR repository, tag latest."""
    return s.task_definition.image or Ref(repository_key(s), fmt="{}:latest")


def _secret_policy(secret_arn: Any) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": secret_arn,
            }
        ],
    }


def container_definition(s: Settings) -> dict[str, Any]:
    td, db, k = s.task_definition, s.database, database.keys(s)
    return {
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
            # RDS for PostgreSQL 15+ refuses unencrypted connections; say so, do not hope.
            {"name": "DB_SSLMODE", "value": "require"},
            {"name": "DB_USER_NAME", "value": db.master_username},
            {"name": "FLASK_APP", "value": td.flask_app},
            {"name": "FLASK_ENV", "value": td.flask_env},
            {"name": "PYTHONPATH", "value": "/app/src"},
            {"name": "PORT", "value": str(s.security_groups.app_port)},
        ],
        # The password never sits in a plain variable: ECS fetches it at task start.
        "secrets": [{"name": "DB_PWD", "valueFrom": Ref(k["secret"], fmt="{}:password::")}],
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": s.cluster.log_group,
                "awslogs-region": s.deployment.region,
                "awslogs-stream-prefix": td.container_name,
            },
        },
    }


def _registration(s: Settings) -> dict[str, Any]:
    td = s.task_definition
    return {
        "family": td.family,
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": td.cpu,
        "memory": td.memory,
        "executionRoleArn": Ref(role_arn_key(s)),
        "containerDefinitions": [container_definition(s)],
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

    return all(
        str(current.get(k)) == str(wanted[k]) for k in ("cpu", "memory", "executionRoleArn")
    ) and norm(current["containerDefinitions"][0]) == norm(wanted["containerDefinitions"][0])


class TaskDefinitionStep(Step):
    number = "V"
    key = "task_definition"
    title = "Task definition"
    explanation = (
        "The task definition: 0.25 vCPU and 0.5 GB on Fargate, one container todo-api on "
        "port 5000 (hard limit 500 MiB, soft 300), started by bin/flask-run.sh, logging to "
        "CloudWatch. The database host comes from section IV; the password is injected from "
        "Secrets Manager, never written in a plain variable as the guide does. The runbook "
        "creates ecsTaskExecutionRole when the account lacks it, with read access to that "
        "one secret, and, when no image is given, a private ECR repository to push to."
    )

    def discover(self, aws: Aws, s: Settings, known: Mapping[str, Any]) -> Observed:
        td, seen, deployment = s.task_definition, Observed(), s.deployment.name
        role = missing_on(
            ("NoSuchEntity",), lambda: aws.call("iam", "get_role", RoleName=td.execution_role)
        )
        if role:
            role = role["Role"]
            seen.found["role"] = role
            seen.known[role_arn_key(s)] = role["Arn"]
            attached = aws.call("iam", "list_attached_role_policies", RoleName=td.execution_role)
            seen.found["attached"] = [p["PolicyArn"] for p in attached["AttachedPolicies"]]
            inline = missing_on(
                ("NoSuchEntity",),
                lambda: aws.call(
                    "iam", "get_role_policy", RoleName=td.execution_role, PolicyName=SECRET_POLICY
                ),
            )
            seen.found["inline"] = inline and inline["PolicyDocument"]
        seen.resources.append(
            Resource(
                "execution role",
                td.execution_role,
                role["Arn"] if role else "",
                "exists" if role else "missing",
                bool(role) and tagged(role.get("Tags"), deployment),
            )
        )
        if not td.image:
            repos = missing_on(
                ("RepositoryNotFoundException",),
                lambda: aws.call("ecr", "describe_repositories", repositoryNames=[td.family]),
            )
            repo = repos["repositories"][0] if repos else None
            ours = False
            if repo:
                seen.found["repository"] = repo
                seen.known[repository_key(s)] = repo["repositoryUri"]
                repo_tags = aws.call(
                    "ecr", "list_tags_for_resource", resourceArn=repo["repositoryArn"]
                )["tags"]
                ours = tagged(repo_tags, deployment)
            seen.resources.append(
                Resource(
                    "image repository",
                    td.family,
                    repo["repositoryArn"] if repo else "",
                    "exists" if repo else "missing",
                    ours,
                )
            )
        current = missing_on(
            ("ClientException",),
            lambda: aws.call(
                "ecs", "describe_task_definition", taskDefinition=td.family, include=["TAGS"]
            ),
        )
        definition = current["taskDefinition"] if current else None
        if definition and definition.get("status") == "INACTIVE":
            definition = None  # deregistered revisions stay describable, but are gone
        if definition:
            seen.found["task_definition"] = definition
            seen.known[task_definition_key(s)] = definition["taskDefinitionArn"]
            # Older revisions (from earlier settings) are ours to deregister too.
            seen.found["revisions"] = aws.call(
                "ecs", "list_task_definitions", familyPrefix=td.family, status="ACTIVE"
            )["taskDefinitionArns"]
        seen.resources.append(
            Resource(
                "task definition",
                td.family,
                definition["taskDefinitionArn"] if definition else "",
                f"revision {definition['revision']}" if definition else "missing",
                bool(definition) and tagged(current.get("tags"), deployment),
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
        role = found.get("role")
        if role is None:
            actions.append(
                ApiCall(
                    "iam",
                    "create_role",
                    {
                        "RoleName": td.execution_role,
                        "AssumeRolePolicyDocument": json.dumps(TRUST),
                        "Description": "Lets ECS pull the image, write logs and read the DB secret",
                        "Tags": tags(deployment),
                    },
                    f"create {td.execution_role}: a fresh account does not have it",
                    self.number,
                    captures={role_arn_key(s): "Role.Arn"},
                )
            )
        elif seen and not seen.resources[0].ours:
            actions.append(
                ApiCall(
                    "iam",
                    "tag_role",
                    {"RoleName": td.execution_role, "Tags": tags(deployment)},
                    adopt_why("role", td.execution_role),
                    self.number,
                )
            )
        if EXECUTION_POLICY not in found.get("attached", []):
            actions.append(
                ApiCall(
                    "iam",
                    "attach_role_policy",
                    {"RoleName": td.execution_role, "PolicyArn": EXECUTION_POLICY},
                    "let ECS pull images and write logs (AmazonECSTaskExecutionRolePolicy)",
                    self.number,
                )
            )
        secret = known.get(database.keys(s)["secret"])
        if found.get("inline") != _secret_policy(secret) or secret is None:
            actions.append(
                ApiCall(
                    "iam",
                    "put_role_policy",
                    {
                        "RoleName": td.execution_role,
                        "PolicyName": SECRET_POLICY,
                        "PolicyDocument": _policy_json(Ref(database.keys(s)["secret"])),
                    },
                    "let ECS read the database password from Secrets Manager, and nothing else",
                    self.number,
                )
            )
        if not td.image and "repository" not in found:
            actions.append(
                ApiCall(
                    "ecr",
                    "create_repository",
                    {
                        "repositoryName": td.family,
                        "imageScanningConfiguration": {"scanOnPush": True},
                        "tags": tags(deployment),
                    },
                    f"create the private ECR repository {td.family} for the app's image",
                    self.number,
                    captures={repository_key(s): "repository.repositoryUri"},
                    done_on=("RepositoryAlreadyExistsException",),
                )
            )
        wanted = _registration(s)
        current = found.get("task_definition")
        try:
            unchanged = current is not None and _same(current, resolve(wanted, known))
        except LookupError:
            unchanged = False
        if not unchanged:
            actions.append(
                ApiCall(
                    "ecs",
                    "register_task_definition",
                    {**wanted, "tags": ecs_tags(deployment)},
                    f"register {td.family}"
                    + (" (a new revision: settings changed)" if current else "")
                    + f": {td.cpu} CPU units, {td.memory} MiB",
                    self.number,
                    captures={task_definition_key(s): "taskDefinition.taskDefinitionArn"},
                )
            )
        return actions

    def teardown(self, s: Settings, seen: Observed) -> list[Action]:
        td = s.task_definition
        actions: list[Action] = []
        for r in seen.resources:
            if not (r.exists and r.ours):
                continue
            if r.kind == "task definition":
                actions += [
                    ApiCall(
                        "ecs",
                        "deregister_task_definition",
                        {"taskDefinition": arn},
                        f"deregister {arn.rsplit('/', 1)[-1]}",
                        self.number,
                    )
                    for arn in seen.found.get("revisions") or [r.id]
                ]
            elif r.kind == "image repository":
                actions.append(
                    ApiCall(
                        "ecr",
                        "delete_repository",
                        {"repositoryName": r.name, "force": True},
                        f"delete the ECR repository {r.name} and its images",
                        self.number,
                        done_on=("RepositoryNotFoundException",),
                    )
                )
            elif r.kind == "execution role":
                actions += [
                    ApiCall(
                        "iam",
                        "delete_role_policy",
                        {"RoleName": td.execution_role, "PolicyName": SECRET_POLICY},
                        "remove the role's secret access",
                        self.number,
                        done_on=("NoSuchEntity",),
                    ),
                    ApiCall(
                        "iam",
                        "detach_role_policy",
                        {"RoleName": td.execution_role, "PolicyArn": EXECUTION_POLICY},
                        "detach AmazonECSTaskExecutionRolePolicy",
                        self.number,
                        done_on=("NoSuchEntity",),
                    ),
                    ApiCall(
                        "iam",
                        "delete_role",
                        {"RoleName": td.execution_role},
                        f"delete {td.execution_role}",
                        self.number,
                        done_on=("NoSuchEntity",),
                    ),
                ]
        return actions

    def output_keys(self, s: Settings) -> list[str]:
        return [role_arn_key(s), repository_key(s), task_definition_key(s)]


def _policy_json(secret_arn: Ref) -> Ref:
    """The policy names the secret's ARN, known only once section IV has run."""
    return Ref(secret_arn.key, fmt=json.dumps(_secret_policy("{}")))
