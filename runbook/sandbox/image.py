"""ECR image -> what a task runs. The one place that knows what an image is in the sandbox.

With no container engine here, the sandbox's "image" is the todo_app source laid out as the
Dockerfile lays it out (/app/src/todo_app, /app/bin), with the Dockerfile's ENV, WORKDIR and
ENTRYPOINT as its config. `publish` pushes it (a manifest naming the source tree's digest) to
an empty ECR repository a deployment made, as `docker push` would; `pull` turns an image
reference from a task definition back into a folder, or fails as ECS's pull fails.
A container engine, where one exists, would slot in here: build and push, pull and run.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import todo_app

SOURCE = Path(todo_app.__file__).parent
ANNOTATION = "fargate-runbook.sandbox/source-tree"
CONFIG_ANNOTATION = "fargate-runbook.sandbox/config"
DEPLOYMENT_TAG = "fargate-runbook:deployment"
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc")


class PullError(Exception):
    """CannotPullContainerError: the task stops before it starts."""


@dataclass(frozen=True)
class ImageConfig:
    env: dict[str, str] = field(default_factory=dict)
    working_dir: str = "/"
    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)


def dockerfile_config(dockerfile: Path) -> ImageConfig:
    """ENV, WORKDIR, ENTRYPOINT and CMD of a Dockerfile (the forms ours uses)."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    env: dict[str, str] = {}
    working_dir, entrypoint, cmd = "/", [], []
    for line in text.splitlines():
        keyword, _, rest = line.strip().partition(" ")
        keyword, rest = keyword.upper(), rest.strip()
        if keyword == "ENV":
            for pair in shlex.split(rest):
                key, _, value = pair.partition("=")
                env[key] = value
        elif keyword == "WORKDIR":
            working_dir = rest
        elif keyword in ("ENTRYPOINT", "CMD"):
            value = json.loads(rest) if rest.startswith("[") else ["/bin/sh", "-c", rest]
            entrypoint, cmd = (value, []) if keyword == "ENTRYPOINT" else (entrypoint, value)
    # Docker's default PATH, which python:3.11-slim keeps.
    env.setdefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    return ImageConfig(env, working_dir, entrypoint, cmd)


def source_digest(source: Path = SOURCE) -> str:
    """sha256 over the build context's files (names and contents), as a layer digest is."""
    digest = hashlib.sha256()
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        if "__pycache__" in path.parts or path.suffix == ".pyc":
            continue
        digest.update(str(path.relative_to(source)).encode() + b"\0")
        digest.update(path.read_bytes())
    return f"sha256:{digest.hexdigest()}"


class Images:
    """The sandbox's image store: published source trees by digest, under its folder."""

    def __init__(self, folder: Path, source: Path = SOURCE) -> None:
        self.folder, self.source = folder, source

    def build(self) -> tuple[str, ImageConfig]:
        """Lay out the build context as the Dockerfile's COPY lines do; its digest and config."""
        digest = source_digest(self.source)
        config = dockerfile_config(self.source / "Dockerfile")
        root = self.root(digest)
        if not root.exists():
            staging = root.with_name(root.name + ".tmp")
            shutil.rmtree(staging, ignore_errors=True)
            shutil.copytree(self.source, staging / "app" / "src" / "todo_app", ignore=IGNORED)
            shutil.copytree(self.source / "bin", staging / "app" / "bin", ignore=IGNORED)
            staging.rename(root)
        return digest, config

    def root(self, digest: str) -> Path:
        return self.folder / digest.replace(":", "-")

    def publish(self, ecr: Any, repository: str, tag: str = "latest") -> str:
        """Push the local source as repository:tag; the manifest's digest."""
        digest, config = self.build()
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": "sha256:"
                + hashlib.sha256(json.dumps(config.__dict__).encode()).hexdigest(),
                "size": len(json.dumps(config.__dict__)),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": digest,
                    "size": sum(
                        p.stat().st_size for p in self.root(digest).rglob("*") if p.is_file()
                    ),
                }
            ],
            "annotations": {ANNOTATION: digest, CONFIG_ANNOTATION: json.dumps(config.__dict__)},
        }
        answer = ecr.put_image(
            repositoryName=repository, imageManifest=json.dumps(manifest), imageTag=tag
        )
        return str(answer["image"]["imageId"].get("imageDigest", digest))

    def pull(self, ecr: Any, image: str, account: str, region: str) -> tuple[Path, ImageConfig]:
        """The folder and config of an image a task definition names, or PullError."""
        registry, _, rest = image.partition("/")
        if registry != f"{account}.dkr.ecr.{region}.amazonaws.com" or not rest:
            raise PullError(
                f"CannotPullContainerError: pull image manifest has been retried 1 time(s): "
                f"{image}: the sandbox runs only images in its own ECR "
                f"({account}.dkr.ecr.{region}.amazonaws.com/...; no container engine here)"
            )
        if "@" in rest:
            repository, reference = rest.split("@", 1)
            image_id = {"imageDigest": reference}
        else:
            repository, _, tag = rest.partition(":")
            image_id = {"imageTag": tag or "latest"}
        try:
            found = ecr.batch_get_image(repositoryName=repository, imageIds=[image_id])
        except Exception as exc:
            raise PullError(
                f"CannotPullContainerError: pull image manifest has been retried 1 time(s): "
                f"failed to resolve ref {image}: {exc}"
            ) from exc
        if not found.get("images"):
            raise PullError(
                f"CannotPullContainerError: pull image manifest has been retried 1 time(s): "
                f"failed to resolve ref {image}: {image}: not found"
            )
        manifest = json.loads(found["images"][0]["imageManifest"])
        annotations = manifest.get("annotations") or {}
        digest = annotations.get(ANNOTATION)
        if not digest or not self.root(digest).exists():
            raise PullError(
                f"CannotPullContainerError: {image}: not an image the sandbox published "
                "(without a container engine it runs only its own todo_app images)"
            )
        config = ImageConfig(**json.loads(annotations[CONFIG_ANNOTATION]))
        return self.root(digest), config


def publish_where_missing(images: Images, ecr: Any, log: Any) -> None:
    """Every empty repository a deployment made gets the local app as :latest."""
    for repo in ecr.describe_repositories().get("repositories", []):
        tags = ecr.list_tags_for_resource(resourceArn=repo["repositoryArn"]).get("tags", [])
        if not any(t["Key"] == DEPLOYMENT_TAG for t in tags):
            continue
        if ecr.list_images(repositoryName=repo["repositoryName"]).get("imageIds"):
            continue
        digest = images.publish(ecr, repo["repositoryName"])
        log(
            f"image: published the local todo_app source as {repo['repositoryUri']}:latest "
            f"({digest[:19]}), where a real deploy pushes the built image"
        )
