"""The sandbox's image: the build context laid out as the Dockerfile lays it, built and pushed
by the container engine stand-in, pulled back by a task, or refused as ECS refuses."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest

from runbook.image import ContainerEngine
from runbook.sandbox.container_engine import recorded
from runbook.sandbox.image import SOURCE, Images, PullError, dockerfile_config


def test_the_dockerfile_gives_the_images_config() -> None:
    config = dockerfile_config(SOURCE / "Dockerfile")
    assert config.working_dir == "/app"
    assert config.entrypoint == ["bin/flask-run.sh"]
    assert config.env["PYTHONPATH"] == "/app/src"
    assert "/usr/local/bin" in config.env["PATH"]


def engine(shim: ContainerEngine, *args: str, stdin: str | None = None) -> tuple[int, str]:
    done = subprocess.run(
        [shim.path, *args], input=stdin, capture_output=True, text=True, timeout=60
    )
    return done.returncode, done.stdout + done.stderr


def test_built_pushed_then_pulled_as_the_dockerfile_lays_it_out(
    aws, container_engine: ContainerEngine, engine_store: Path
) -> None:
    """As a person would with docker: log in with ECR's token, build, push; a task pulls it."""
    ecr = aws.client("ecr")
    uri = ecr.create_repository(repositoryName="app")["repository"]["repositoryUri"]
    registry, image = uri.split("/")[0], f"{uri}:v1"
    token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    password = base64.b64decode(token).decode().partition(":")[2]

    assert engine(container_engine, "push", image)[0] == 1  # nothing built yet
    login = ["login", "--username", "AWS", "--password-stdin", registry]
    code, said = engine(container_engine, *login, stdin="not-the-token\n")
    assert code == 1 and "400 Bad Request" in said
    code, said = engine(container_engine, *login, stdin=password + "\n")
    assert (code, said.strip()) == (0, "Login Succeeded")
    code, said = engine(
        container_engine, "build", "--platform", "linux/amd64", "-t", image, str(SOURCE)
    )
    assert code == 0 and f"naming to {image} done" in said
    code, said = engine(container_engine, "push", image)
    assert code == 0 and "v1: digest: sha256:" in said

    account = aws.call("sts", "get_caller_identity")["Account"]
    root, config = Images(engine_store / "images").pull(ecr, image, account, "us-east-1")
    assert (root / "app" / "bin" / "flask-run.sh").exists()
    assert (root / "app" / "src" / "todo_app" / "__init__.py").exists()
    assert not list(root.rglob("__pycache__"))
    assert config.entrypoint == ["bin/flask-run.sh"]
    with pytest.raises(PullError, match="descriptor matching platform 'linux/arm64'"):
        Images(engine_store / "images").pull(ecr, image, account, "us-east-1", "ARM64")
    mine = [c for c in recorded(engine_store) if registry in " ".join(c["argv"])]
    assert password not in str(mine)  # stdin is never recorded


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
