"""The app's container image in ECR: is it there, and how to push it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runbook.aws import Aws
from runbook.plan import Wait
from runbook.settings import Settings
from runbook.steps.base import missing_on


def repository_key(s: Settings) -> str:
    return f"{s.task_definition.family}-repository.repositoryUri"


def push_commands(repository_uri: str) -> str:
    registry = repository_uri.split("/", 1)[0]
    return (
        f"aws ecr get-login-password | docker login --username AWS --password-stdin {registry}"
        f" && docker build -t {repository_uri}:latest todo_app"
        f" && docker push {repository_uri}:latest"
    )


def image_present(aws: Aws, s: Settings) -> bool:
    found = missing_on(
        ("RepositoryNotFoundException", "ImageNotFoundException"),
        lambda: aws.call(
            "ecr",
            "describe_images",
            repositoryName=s.task_definition.family,
            imageIds=[{"imageTag": "latest"}],
        ),
    )
    return bool(found and found.get("imageDetails"))


def image_pushed(s: Settings, known: Mapping[str, Any], section: str) -> Wait:
    """Wait, visibly, for the person to push the image the task will run."""
    uri = known.get(repository_key(s), f"<{repository_key(s)}>")
    return Wait(
        "ecr",
        "describe_images",
        {"repositoryName": s.task_definition.family, "imageIds": [{"imageTag": "latest"}]},
        f"the image {uri}:latest in ECR; push it from another terminal: {push_commands(uri)}",
        until=lambda r: bool(r.get("imageDetails")),
        section=section,
        interval=15,
        timeout=3600,
        retry_on=("ImageNotFoundException",),
    )
