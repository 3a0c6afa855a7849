"""The app's container image in ECR: its repository's keys, is a version there, and the wait.

The repository is section III's (it exists before the database wait, so the image can be
built and pushed meanwhile); the version comes from the source (runbook.image.version), known
before any push, so section V names `<repository>:<version>` and section VI waits for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runbook.aws import Aws
from runbook.plan import Action, Ref, Wait
from runbook.resources import repository
from runbook.settings import Settings
from runbook.steps.base import missing_on


def repository_key(s: Settings) -> str:
    return f"{s.task_definition.family}-repository.repositoryUri"


def image_key(s: Settings) -> str:
    """<repository URI>:<version>: what section V's task definition names."""
    return f"{s.task_definition.family}-repository.image"


def version_key(s: Settings) -> str:
    """The version of the app's source: the engine knows it before anything is called."""
    return f"{s.task_definition.family}-repository.version"


def image_present(aws: Aws, s: Settings, tag: str) -> bool:
    found = missing_on(
        (*repository.NOT_FOUND, *repository.NO_IMAGE),
        lambda: aws.call(
            "ecr",
            "describe_images",
            repositoryName=s.task_definition.family,
            imageIds=[{"imageTag": tag}],
        ),
    )
    return bool(found and found.get("imageDetails"))


def image_in_ecr(s: Settings, known: Mapping[str, Any], section: str) -> Wait:
    """Wait, visibly, for this version of the app's image in the repository."""
    image = known.get(image_key(s), f"<{image_key(s)}>")
    return Wait(
        "ecr",
        "describe_images",
        {
            "repositoryName": s.task_definition.family,
            "imageIds": [{"imageTag": Ref(version_key(s))}],
        },
        # The engine adds how it gets there: its own build and push, or the person's.
        f"the image {image} in ECR",
        until=lambda r: bool(r.get("imageDetails")),
        section=section,
        interval=15,
        timeout=3600,
        retry_on=repository.NO_IMAGE,
    )


def is_image_wait(action: Action) -> bool:
    return isinstance(action, Wait) and (action.service, action.operation) == (
        "ecr",
        "describe_images",
    )
