"""Section VI: the ECS service that keeps the task running behind the load balancer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runbook.aws import Aws
from runbook.plan import Action, ApiCall, Ref, Wait
from runbook.resources import service as service_kind
from runbook.settings import Settings
from runbook.steps import release
from runbook.steps.base import Observed, Resource, Step, adopt, missing_on, tag_check
from runbook.steps.cluster import cluster_arn_key, ecs_tags
from runbook.steps.image import image_in_ecr, image_present, version_key
from runbook.steps.load_balancer import tg_arn
from runbook.steps.rollout import RolloutWatch, steady
from runbook.steps.security_groups import SUBNETS, group_id
from runbook.steps.task_definition import task_definition_key
from runbook.words import count


def service_key(s: Settings) -> str:
    return f"{s.service.name}.serviceArn"


def service_stable(s: Settings, section: str) -> Wait:
    """Until the rollout ends: stable, or failed (and rolled back); reporting it meanwhile."""
    watch = RolloutWatch(section, s.service.name)
    return Wait(
        "ecs",
        "describe_services",
        {"cluster": s.cluster.name, "services": [s.service.name]},
        f"service {s.service.name} to be stable ({count(s.service.desired_count, 'task')} running "
        "and healthy)",
        until=watch.until,
        section=section,
        interval=10,
        timeout=1800,
        report=watch.report,
    )


def _network(s: Settings) -> dict[str, Any]:
    return {
        "awsvpcConfiguration": {
            "subnets": Ref(SUBNETS),
            "securityGroups": [group_id(s.security_groups.ecs_sg)],
            "assignPublicIp": "ENABLED" if s.service.assign_public_ip else "DISABLED",
        }
    }


def _in_place(s: Settings, svc: dict[str, Any]) -> dict[str, Any]:
    """The grace period and public IP, where they differ; update_service takes both."""
    changes: dict[str, Any] = {}
    # Some emulators leave the grace period out of their answer: only a given one differs.
    grace = svc.get("healthCheckGracePeriodSeconds")
    if grace is not None and grace != s.service.health_check_grace_period:
        changes["healthCheckGracePeriodSeconds"] = s.service.health_check_grace_period
    network = svc.get("networkConfiguration", {}).get("awsvpcConfiguration", {})
    public = "ENABLED" if s.service.assign_public_ip else "DISABLED"
    if network.get("assignPublicIp", public) != public:
        changes["networkConfiguration"] = _network(s)
    return changes


def _update_why(
    s: Settings, svc: dict[str, Any], wanted_td: Any, count_changes: bool, changes: dict[str, Any]
) -> str:
    parts = []
    if svc["taskDefinition"] != wanted_td:
        parts.append("roll it onto the current task definition")
    if count_changes:
        parts.append(f"run {count(s.service.desired_count, 'task')}, not {svc['desiredCount']}")
    if "healthCheckGracePeriodSeconds" in changes:
        parts.append(f"grace period {s.service.health_check_grace_period} s")
    if "networkConfiguration" in changes:
        parts.append("public IP " + ("on" if s.service.assign_public_ip else "off"))
    return f"update {s.service.name} in place: " + ", ".join(parts)


class ServiceStep(Step):
    number = "VI"
    key = "service"
    title = "Service"
    explanation = (
        "The ECS service runs the task on Fargate and registers it with the target group on "
        "todo-api:5000. Where the guide turns the public IP off, the runbook turns it on: the "
        "default VPC has no NAT, so a task without one cannot pull its image or read its "
        "secret. It also gives new tasks 60 s before health checks count, and turns on the "
        "deployment circuit breaker with rollback, so a crash-looping release stops and "
        "rolls back instead of retrying forever. It first waits for this version of the "
        "app's image in ECR (built and pushed in the background since section III, or by "
        "you). A new version or changed settings roll the service onto a new revision: new "
        "tasks start, the old ones stop once the new are healthy, and the log follows both, "
        "with ECS's events, until the rollout is done or has been rolled back."
    )

    def discover(self, aws: Aws, s: Settings, known: Mapping[str, Any]) -> Observed:
        seen = Observed()
        # A missing cluster is an error, not an empty answer; state-file hints are no proof.
        got = missing_on(
            service_kind.CLUSTER_NOT_FOUND,
            lambda: aws.call(
                "ecs",
                "describe_services",
                cluster=s.cluster.name,
                services=[s.service.name],
                include=["TAGS"],
            ),
        ) or {"services": []}
        svc = next((x for x in got["services"] if x["status"] != "INACTIVE"), None)
        if svc:
            seen.found["service"] = svc
            seen.known[service_key(s)] = svc["serviceArn"]
        seen.resources.append(
            Resource.seen(
                service_kind.NAME,
                s.service.name,
                svc,
                "serviceArn",
                tag_check(s, "tags"),
                state=lambda found: (
                    f"{found['status']}, {found['runningCount']}/{found['desiredCount']} running"
                ),
            )
        )
        tag = known.get(version_key(s))
        if tag and not s.task_definition.image:
            # Without the image, new tasks fail to pull until the circuit breaker stops them:
            # the version the task definition names must be in ECR before they start.
            seen.found["image_missing"] = not image_present(aws, s, tag)
        return seen

    def plan(self, s: Settings, seen: Observed | None) -> list[Action]:
        sv, svc = s.service, (seen.found.get("service") if seen else None)
        known = seen.known if seen else {}
        actions: list[Action] = []
        offline_and_ecr = seen is None and not s.task_definition.image
        if offline_and_ecr or (seen and seen.found.get("image_missing")):
            actions.append(image_in_ecr(s, known, self.number))
        new_revision = svc is None or svc["taskDefinition"] != known.get(task_definition_key(s))
        if s.app.release_command and new_revision:
            # Before any task of the new revision takes traffic; a failure stops the deploy here.
            actions += release.release_actions(
                s, Ref(task_definition_key(s)), _network(s), self.number
            )
        if svc is None:
            actions.append(
                ApiCall(
                    "ecs",
                    "create_service",
                    {
                        "cluster": s.cluster.name,
                        "serviceName": sv.name,
                        "taskDefinition": Ref(task_definition_key(s)),
                        "desiredCount": sv.desired_count,
                        "launchType": "FARGATE",
                        "platformVersion": "LATEST",
                        "networkConfiguration": _network(s),
                        "loadBalancers": [
                            {
                                "targetGroupArn": tg_arn(s),
                                "containerName": s.task_definition.container_name,
                                "containerPort": s.security_groups.app_port,
                            }
                        ],
                        "healthCheckGracePeriodSeconds": sv.health_check_grace_period,
                        "deploymentConfiguration": {
                            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
                            "maximumPercent": 200,
                            "minimumHealthyPercent": 100,
                        },
                        "propagateTags": "SERVICE",
                        "enableECSManagedTags": True,
                        "tags": ecs_tags(s.deployment.name),
                    },
                    f"create {sv.name}: {count(sv.desired_count, 'Fargate task')} behind the load "
                    "balancer, public IP on, circuit breaker with rollback",
                    self.number,
                    captures={service_key(s): "service.serviceArn"},
                    # A listener made seconds ago may not be attached to its target group yet.
                    retry_on=("InvalidParameterException",),
                )
            )
        else:
            if not seen.resources[0].ours:  # type: ignore[union-attr]
                actions.append(
                    adopt(
                        "ecs",
                        "tag_resource",
                        {"resourceArn": svc["serviceArn"], "tags": ecs_tags(s.deployment.name)},
                        "service",
                        sv.name,
                        self.number,
                    )
                )
            wanted_td = known.get(task_definition_key(s))
            # With auto scaling on, the count is Auto Scaling's to change, not ours.
            count_drift = not s.auto_scaling.max_tasks and svc["desiredCount"] != sv.desired_count
            changes = _in_place(s, svc)
            if svc["taskDefinition"] != wanted_td or count_drift or changes:
                actions.append(
                    ApiCall(
                        "ecs",
                        "update_service",
                        {
                            "cluster": s.cluster.name,
                            "service": sv.name,
                            "taskDefinition": Ref(task_definition_key(s)),
                            **(
                                {}
                                if s.auto_scaling.max_tasks
                                else {"desiredCount": sv.desired_count}
                            ),
                            **changes,
                        },
                        _update_why(s, svc, wanted_td, count_drift, changes),
                        self.number,
                    )
                )
        if svc is None or actions or not steady(svc):
            actions.append(service_stable(s, self.number))
        return actions

    def teardown(self, s: Settings, seen: Observed) -> list[Action]:
        r = seen.resources[0]
        if not (r.exists and r.ours):
            return []
        return service_kind.delete(s.cluster.name, r.name, r.name, self.number)

    def output_keys(self, s: Settings) -> list[str]:
        return [service_key(s)]

    def needs(self, s: Settings) -> list[str]:
        return [cluster_arn_key(s)]
