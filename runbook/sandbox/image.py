"""ECR image <-> what a task runs. The one place that knows what an image is in the sandbox.

With no container engine here, the sandbox's "image" is the build context laid out as the
Dockerfile lays it out, with the Dockerfile's ENV, WORKDIR and ENTRYPOINT as its config, kept
in the sandbox's image store under the content's digest. The Todo API's own image (its
Dockerfile copies the package to /app/src/todo_app) is laid out directly and runs with the
runbook's interpreter, which has its packages; any other Python image is built by following
its Dockerfile (image_build.py), with a virtual environment of its own. The
sandbox's container engine stand-in (container_engine.py) builds it there and pushes its
manifest into the emulator's ECR, as `docker push` would; `pull` turns an image reference from
a task definition back into a folder, or fails as ECS's pull fails.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runbook.image import app_source
from runbook.image.version import content_digest
from runbook.sandbox.image_build import Builder

SOURCE = app_source()
ANNOTATION = "fargate-runbook.sandbox/source-tree"
CONFIG_ANNOTATION = "fargate-runbook.sandbox/config"
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc")
# Docker's names for ECS's runtimePlatform.cpuArchitecture.
ARCHITECTURES = {"X86_64": "amd64", "ARM64": "arm64"}


class PullError(Exception):
    """CannotPullContainerError: the task stops before it starts."""


@dataclass(frozen=True)
class ImageConfig:
    env: dict[str, str] = field(default_factory=dict)
    working_dir: str = "/"
    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)
    architecture: str = "amd64"
    # The image's own Python environment (a folder of the store); empty: the runbook's.
    venv: str = ""
    user: str = ""
    exposed: list[int] = field(default_factory=list)


def dockerfile_config(dockerfile: Path, architecture: str = "amd64") -> ImageConfig:
    """ENV, WORKDIR, ENTRYPOINT and CMD of a Dockerfile (the forms ours uses)."""
    env: dict[str, str] = {}
    working_dir, entrypoint, cmd = "/", [], []
    for keyword, rest in instructions(dockerfile):
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
    return ImageConfig(env, working_dir, entrypoint, cmd, architecture)


def is_todo_api(dockerfile: Path) -> bool:
    """The Todo API's own Dockerfile (it copies the package to /app/src/todo_app)."""
    return ("COPY", ". /app/src/todo_app/") in instructions(dockerfile)


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(KEYWORD, rest) per instruction, continuation lines joined, comments left out."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    found = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        keyword, _, rest = stripped.partition(" ")
        found.append((keyword.upper(), rest.strip()))
    return found


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
    """The sandbox's image store: built source trees by digest, under its folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def build(
        self,
        source: Path = SOURCE,
        architecture: str = "amd64",
        dockerfile: Path | None = None,
        say: Callable[[str], None] = print,
    ) -> tuple[str, ImageConfig]:
        """Lay out the build context as the Dockerfile does; its digest and config.
        image_build.Refusal names an instruction that cannot be followed here."""
        dockerfile = dockerfile or source / "Dockerfile"
        if not is_todo_api(dockerfile):
            return self._follow(source, dockerfile, architecture, say)
        digest = source_digest(source)
        config = dockerfile_config(dockerfile, architecture)
        root = self.root(digest)
        if not root.exists():
            staging = root.with_name(root.name + ".tmp")
            shutil.rmtree(staging, ignore_errors=True)
            shutil.copytree(source, staging / "app" / "src" / "todo_app", ignore=IGNORED)
            shutil.copytree(source / "bin", staging / "app" / "bin", ignore=IGNORED)
            staging.rename(root)
        return digest, config

    def _follow(
        self, source: Path, dockerfile: Path, architecture: str, say: Callable[[str], None]
    ) -> tuple[str, ImageConfig]:
        """Any other Python image: its Dockerfile followed, kept by the digest of its inputs."""
        inputs = hashlib.sha256(
            (content_digest(source) + dockerfile.read_text() + architecture).encode()
        )
        digest = f"sha256:{inputs.hexdigest()}"
        root, kept = self.root(digest), self.folder / (digest.replace(":", "-") + ".json")
        if root.exists() and kept.exists():
            config = ImageConfig(**json.loads(kept.read_text()))
            if Path(config.venv).joinpath(".complete").exists():
                say("#  CACHED image " + digest[:19])
                return digest, config
        staging = self.folder / (root.name + ".tmp")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        try:
            built = Builder(source, dockerfile, self.folder.parent, architecture).run(staging, say)
            config = ImageConfig(
                {**built.env},
                built.workdir,
                built.entrypoint,
                built.cmd,
                architecture,
                str(built.venv),
                built.user,
                built.exposed,
            )
            shutil.rmtree(root, ignore_errors=True)
            built.root.rename(root)
            kept.write_text(json.dumps(config.__dict__))
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return digest, config

    def root(self, digest: str) -> Path:
        return self.folder / digest.replace(":", "-")

    def size(self, digest: str) -> int:
        return sum(p.stat().st_size for p in self.root(digest).rglob("*") if p.is_file())

    @staticmethod
    def manifest(digest: str, config: ImageConfig, layers: list[dict[str, Any]]) -> str:
        """An OCI image manifest naming the source tree (and the config) in its annotations."""
        blob = json.dumps(config.__dict__)
        return json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {
                    "mediaType": "application/vnd.oci.image.config.v1+json",
                    "digest": "sha256:" + hashlib.sha256(blob.encode()).hexdigest(),
                    "size": len(blob),
                },
                "layers": layers,
                "annotations": {ANNOTATION: digest, CONFIG_ANNOTATION: blob},
            }
        )

    def pull(
        self, ecr: Any, image: str, account: str, region: str, architecture: str = "X86_64"
    ) -> tuple[Path, ImageConfig]:
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
                f"CannotPullContainerError: {image}: not an image the sandbox built "
                "(without a container engine it runs only images its stand-in built)"
            )
        config = ImageConfig(**json.loads(annotations[CONFIG_ANNOTATION]))
        wanted = ARCHITECTURES.get(architecture, "amd64")
        if config.architecture != wanted:
            # What Fargate says of a single-platform image built for another CPU.
            raise PullError(
                f"CannotPullContainerError: pull image manifest has been retried 1 time(s): "
                f"image Manifest does not contain descriptor matching platform 'linux/{wanted}'"
            )
        return self.root(digest), config
