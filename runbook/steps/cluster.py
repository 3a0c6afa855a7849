"""Section III: the ECS cluster with Fargate capacity, its log group, ECS's service-linked role,
and the app's image repository (made here, before the database wait, so the image is built
and pushed while RDS creates the database)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runbook.aws import Aws
from runbook.plan import Action, ApiCall, tags
from runbook.resources import cluster as cluster_kind
from runbook.resources import log_group, repository, service_linked_role
from runbook.settings import DEPLOYMENT_TAG, Settings
from runbook.steps import repository_lifecycle
from runbook.steps.base import Observed, Resource, Step, adopt, missing_on, tag_check, tagged
from runbook.steps.image import image_key, repository_key

SLR_PATH = service_linked_role.PATH


def cluster_arn_key(s: Settings) -> str:
    return f"{s.cluster.name}.clusterArn"


def log_tags(deployment: str) -> dict[str, str]:
    """CloudWatch Logs takes tags as a plain map."""
    return {t["Key"]: t["Value"] for t in tags(deployment)}


def ecs_tags(deployment: str) -> list[dict[str, str]]:
    """ECS spells tag keys in lower case."""
    return [{"key": t["Key"], "value": t["Value"]} for t in tags(deployment)]


class ClusterStep(Step):
    number = "III"
    key = "cluster"
    title = "ECS cluster"
    explanation = (
        "An ECS cluster with the FARGATE and FARGATE_SPOT capacity providers: no servers to "
        "manage. The runbook also makes what the guide assumes exists: the CloudWatch log "
        "group the task writes to, and ECS's service-linked role, which a fresh account lacks. "
        "With no image given, it makes the private ECR repository for the app's image here, "
        "so that the image is built and pushed (with docker or podman, when one is installed) "
        "while RDS creates the database: each version keeps its own tag, never overwritten."
    )

    def discover(self, aws: Aws, s: Settings, known: Mapping[str, Any]) -> Observed:
        seen = Observed()
        roles = aws.call("iam", "list_roles", PathPrefix=SLR_PATH)["Roles"]
        seen.found["slr"] = roles[0] if roles else None
        clusters = aws.call(
            "ecs", "describe_clusters", clusters=[s.cluster.name], include=["TAGS"]
        )["clusters"]
        cluster = next((c for c in clusters if c["status"] != "INACTIVE"), None)
        groups = aws.call("logs", "describe_log_groups", logGroupNamePrefix=s.cluster.log_group)[
            "logGroups"
        ]
        group = next((g for g in groups if g["logGroupName"] == s.cluster.log_group), None)
        group_tags: dict[str, str] = {}
        if group:
            group_tags = aws.call(
                "logs", "list_tags_log_group", logGroupName=s.cluster.log_group
            ).get("tags", {})
            seen.found["log_group"] = group
        if cluster:
            seen.found["cluster"] = cluster
            seen.known[cluster_arn_key(s)] = cluster["clusterArn"]
        slr = seen.found["slr"]
        if not s.task_definition.image:
            self._discover_repository(aws, s, seen)
        seen.resources[:0] = [
            # Shared by the whole account: never ours, never deleted.
            Resource.seen(service_linked_role.NAME, service_linked_role.ROLE_NAME, slr, "Arn"),
            Resource.seen(
                cluster_kind.NAME,
                s.cluster.name,
                cluster,
                "clusterArn",
                tag_check(s, "tags"),
                state=lambda found: found["status"],
            ),
            Resource.seen(
                log_group.NAME,
                s.cluster.log_group,
                group,
                "arn",
                group_tags.get(DEPLOYMENT_TAG) == s.deployment.name,
            ),
        ]
        return seen

    def _discover_repository(self, aws: Aws, s: Settings, seen: Observed) -> None:
        name = s.task_definition.family
        repos = missing_on(
            repository.NOT_FOUND,
            lambda: aws.call("ecr", "describe_repositories", repositoryNames=[name]),
        )
        repo = repos["repositories"][0] if repos else None
        ours = False
        if repo:
            seen.found["repository"] = repo
            seen.known[repository_key(s)] = repo["repositoryUri"]
            repo_tags = aws.call(
                "ecr", "list_tags_for_resource", resourceArn=repo["repositoryArn"]
            )["tags"]
            ours = tagged(repo_tags, s.deployment.name)
            if ours:
                got = missing_on(
                    repository.NO_LIFECYCLE_POLICY,
                    lambda: aws.call("ecr", "get_lifecycle_policy", repositoryName=name),
                )
                seen.found["lifecycle"] = got and got.get("lifecyclePolicyText")
        seen.resources.append(Resource.seen(repository.NAME, name, repo, "repositoryArn", ours))

    def plan(self, s: Settings, seen: Observed | None) -> list[Action]:
        found = seen.found if seen else {}
        by_kind = {r.kind: r for r in seen.resources} if seen else {}
        c, deployment = s.cluster, s.deployment.name
        actions: list[Action] = []
        if found.get("slr") is None:
            actions.append(
                ApiCall(
                    "iam",
                    "create_service_linked_role",
                    {"AWSServiceName": "ecs.amazonaws.com"},
                    "create ECS's service-linked role: a fresh account does not have it",
                    self.number,
                    # "has been taken": another tool made it meanwhile, which is just as good.
                    done_on=("InvalidInput",),
                )
            )
        cluster = found.get("cluster")
        if cluster is None:
            actions.append(
                ApiCall(
                    "ecs",
                    "create_cluster",
                    {
                        "clusterName": c.name,
                        "capacityProviders": ["FARGATE", "FARGATE_SPOT"],
                        "defaultCapacityProviderStrategy": [
                            {"capacityProvider": "FARGATE", "weight": 1}
                        ],
                        "tags": ecs_tags(deployment),
                    },
                    f"create {c.name} with Fargate capacity",
                    self.number,
                    captures={cluster_arn_key(s): "cluster.clusterArn"},
                    # The service-linked role may take a moment to be usable.
                    retry_on=("InvalidParameterException",),
                )
            )
        elif not by_kind[cluster_kind.NAME].ours:
            actions.append(
                adopt(
                    "ecs",
                    "tag_resource",
                    {"resourceArn": cluster["clusterArn"], "tags": ecs_tags(deployment)},
                    "cluster",
                    c.name,
                    self.number,
                )
            )
        group = found.get("log_group")
        # Its name and the deployment's tags: what a create sends, and adopting an untagged one.
        tagged_group = {"logGroupName": c.log_group, "tags": log_tags(deployment)}
        if group is None:
            actions.append(
                ApiCall(
                    "logs",
                    "create_log_group",
                    tagged_group,
                    f"create the log group {c.log_group} the task's awslogs driver writes to",
                    self.number,
                    done_on=("ResourceAlreadyExistsException",),
                )
            )
        elif not by_kind[log_group.NAME].ours:
            actions.append(
                adopt("logs", "tag_log_group", tagged_group, "log group", c.log_group, self.number)
            )
        if group is None or group.get("retentionInDays") != c.log_retention_days:
            actions.append(
                ApiCall(
                    "logs",
                    "put_retention_policy",
                    {"logGroupName": c.log_group, "retentionInDays": c.log_retention_days},
                    f"keep logs {c.log_retention_days} days, not forever (cost)",
                    self.number,
                )
            )
        return actions + self._plan_repository(s, seen)

    def _plan_repository(self, s: Settings, seen: Observed | None) -> list[Action]:
        name, deployment = s.task_definition.family, s.deployment.name
        if s.task_definition.image:
            return []
        repo = seen.found.get("repository") if seen else None
        kept = s.task_definition.images_kept
        keep_versions = ApiCall(
            "ecr",
            "put_lifecycle_policy",
            {"repositoryName": name, "lifecyclePolicyText": repository_lifecycle.text(kept)},
            f"keep the app's last {kept} versions in {name} and expire older ones (a rollback "
            "needs the earlier ones; storage is billed)",
            self.number,
        )
        if repo is None:
            return [
                ApiCall(
                    "ecr",
                    "create_repository",
                    {
                        "repositoryName": name,
                        # A version, once pushed, is never overwritten: a task definition
                        # names exactly one image, and going back to it gets that image.
                        # (ECR User Guide, "Preventing image tags from being overwritten")
                        "imageTagMutability": "IMMUTABLE",
                        "imageScanningConfiguration": {"scanOnPush": True},
                        "tags": tags(deployment),
                    },
                    f"create the private ECR repository {name} for the app's image (tags "
                    "immutable: each version keeps its own)",
                    self.number,
                    captures={repository_key(s): "repository.repositoryUri"},
                    done_on=("RepositoryAlreadyExistsException",),
                ),
                keep_versions,
            ]
        ours = any(r.kind == repository.NAME and r.ours for r in seen.resources)  # type: ignore[union-attr]
        actions: list[Action] = []
        if ours and repo.get("imageTagMutability", "MUTABLE") == "MUTABLE":
            actions.append(
                ApiCall(
                    "ecr",
                    "put_image_tag_mutability",
                    {"repositoryName": name, "imageTagMutability": "IMMUTABLE"},
                    f"make {name}'s tags immutable in place: a pushed version is never overwritten",
                    self.number,
                )
            )
        if ours and not repository_lifecycle.same(seen.found.get("lifecycle"), kept):  # type: ignore[union-attr]
            actions.append(keep_versions)
        return actions

    def teardown(self, s: Settings, seen: Observed) -> list[Action]:
        by_kind = {r.kind: r for r in seen.resources}
        actions: list[Action] = []
        cluster, group = by_kind[cluster_kind.NAME], by_kind[log_group.NAME]
        if cluster.exists and cluster.ours:
            actions += cluster_kind.KIND.deletes(cluster.id, cluster.name, self.number)
        if group.exists and group.ours:
            actions += log_group.KIND.deletes(
                group.name, f"the log group {group.name}", self.number
            )
        repo = by_kind.get(repository.NAME)
        if repo is not None and repo.exists and repo.ours:
            actions += repository.KIND.deletes(
                repo.name, f"the ECR repository {repo.name}", self.number
            )
        return actions

    def output_keys(self, s: Settings) -> list[str]:
        # The image (<repository>:<version>) is the engine's, from the repository and the
        # source's version; it is listed here, with the repository it is pushed to.
        return [cluster_arn_key(s), repository_key(s), image_key(s)]
