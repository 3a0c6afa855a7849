"""The sandbox's image: the todo_app source laid out as the Dockerfile lays it, published to
a deployment's empty ECR repository, pulled back by a task, or refused as ECS refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from runbook.sandbox.image import (
    SOURCE,
    Images,
    PullError,
    dockerfile_config,
    publish_where_missing,
)


def test_the_dockerfile_gives_the_images_config() -> None:
    config = dockerfile_config(SOURCE / "Dockerfile")
    assert config.working_dir == "/app"
    assert config.entrypoint == ["bin/flask-run.sh"]
    assert config.env["PYTHONPATH"] == "/app/src"
    assert "/usr/local/bin" in config.env["PATH"]


def test_published_then_pulled_as_the_dockerfile_lays_it_out(aws, tmp_path: Path) -> None:
    images = Images(tmp_path)
    ecr = aws.client("ecr")
    ecr.create_repository(repositoryName="app")
    images.publish(ecr, "app")
    account = aws.call("sts", "get_caller_identity")["Account"]
    root, config = images.pull(
        ecr, f"{account}.dkr.ecr.us-east-1.amazonaws.com/app:latest", account, "us-east-1"
    )
    assert (root / "app" / "bin" / "flask-run.sh").exists()
    assert (root / "app" / "src" / "todo_app" / "__init__.py").exists()
    assert not list(root.rglob("__pycache__"))
    assert config.entrypoint == ["bin/flask-run.sh"]


def test_only_a_deployments_empty_repository_gets_the_image(
    aws, emulator, account: str, tmp_path: Path
) -> None:
    emulator.data_plane.ignore(account)  # this test publishes; the emulator's own must not race
    ecr = aws.client("ecr")
    tag = [{"Key": "fargate-runbook:deployment", "Value": "d"}]
    ecr.create_repository(repositoryName="ours", tags=tag)
    ecr.create_repository(repositoryName="theirs")
    said: list[str] = []
    publish_where_missing(Images(tmp_path), ecr, said.append)
    publish_where_missing(Images(tmp_path), ecr, said.append)  # once is enough
    assert ecr.list_images(repositoryName="ours")["imageIds"]
    assert not ecr.list_images(repositoryName="theirs")["imageIds"]
    assert len(said) == 1 and "ours:latest" in said[0]


@pytest.mark.parametrize(
    ("image", "says"),
    [
        ("nginx:latest", "only images in its own ECR"),
        ("{account}.dkr.ecr.us-east-1.amazonaws.com/app:v9", "not found"),
        ("{account}.dkr.ecr.us-east-1.amazonaws.com/missing:latest", "CannotPullContainerError"),
    ],
)
def test_an_image_it_cannot_pull_fails_the_task(aws, tmp_path: Path, image: str, says: str) -> None:
    ecr = aws.client("ecr")
    ecr.create_repository(repositoryName="app")
    account = aws.call("sts", "get_caller_identity")["Account"]
    with pytest.raises(PullError, match=says):
        Images(tmp_path).pull(ecr, image.format(account=account), account, "us-east-1")
