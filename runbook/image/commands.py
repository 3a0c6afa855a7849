"""The engine's command lines, exactly as Docker documents them, and the same for a person.

docs.docker.com/reference/cli/docker/login/ (--username, --password-stdin),
.../docker/buildx/build/ (`docker build` is its alias: --platform, -t), .../docker/image/push/;
ECR's own: docs.aws.amazon.com/AmazonECR/latest/userguide/docker-push-ecr-image.html
(`aws ecr get-login-password --region <region> | docker login --username AWS
--password-stdin <account>.dkr.ecr.<region>.amazonaws.com`). The password goes through
stdin only: never in an argument, where `ps` and shell history would show it; the engine's
processes get only the environment an engine reads (`environment`).
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from pathlib import Path

from runbook.image.container_engine import ContainerEngine

# ECS's runtimePlatform.cpuArchitecture -> the platform to build for (Fargate runs linux).
PLATFORMS = {"X86_64": "linux/amd64", "ARM64": "linux/arm64"}


# What a container engine's command line reads from the environment (docker's and podman's
# documented variables, the locale, proxies, where its config and sockets are), and nothing
# else: never the runbook's AWS credentials, RUNBOOK_DB_PASSWORD or any other secret of ours.
ENGINE_ENVIRONMENT = frozenset(
    {
        "PATH", "HOME", "USER", "LOGNAME", "SHELL", "TERM", "TZ", "TMPDIR", "LANG", "LANGUAGE",
        "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME",
        "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
        "SSL_CERT_FILE", "SSL_CERT_DIR", "REGISTRY_AUTH_FILE",
    }
)  # fmt: skip
ENGINE_PREFIXES = ("LC_", "DOCKER_", "BUILDKIT_", "BUILDX_", "CONTAINER_", "CONTAINERS_")


def environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The part of `environ` an engine's process gets (the password goes on its stdin)."""
    return {
        name: value
        for name, value in environ.items()
        if name in ENGINE_ENVIRONMENT or name.startswith(ENGINE_PREFIXES)
    }


def platform_for(cpu_architecture: str) -> str:
    return PLATFORMS.get(cpu_architecture, PLATFORMS["X86_64"])


def registry_of(image: str) -> str:
    """123456789012.dkr.ecr.us-east-1.amazonaws.com/flask-todo:v1 -> the registry's host."""
    return image.split("/", 1)[0]


def login(engine: ContainerEngine, registry: str) -> list[str]:
    return [engine.path, "login", "--username", "AWS", "--password-stdin", registry]


def build(
    engine: ContainerEngine,
    image: str,
    context: Path,
    platform: str,
    dockerfile: Path | None = None,
) -> list[str]:
    named = ["-f", str(dockerfile)] if dockerfile else []
    return [engine.path, "build", "--platform", platform, *named, "-t", image, str(context)]


def push(engine: ContainerEngine, image: str) -> list[str]:
    return [engine.path, "push", image]


def shown(argv: list[str]) -> str:
    """A command line to print: the engine by its name, not its full path."""
    return shlex.join([Path(argv[0]).name, *argv[1:]])


def for_a_person(
    image: str, context: Path, platform: str, region: str, dockerfile: Path | None = None
) -> str:
    """What to run in another terminal when no engine is on this machine's PATH."""
    where = _near(context)
    named = f"-f {shlex.quote(_near(dockerfile))} " if dockerfile else ""
    return (
        f"aws ecr get-login-password --region {region} | docker login --username AWS "
        f"--password-stdin {registry_of(image)} && docker build --platform {platform} "
        f"{named}-t {image} {shlex.quote(where)} && docker push {image}"
    )


def _near(context: Path) -> str:
    """The context as the person would type it: relative to here when it is below here."""
    try:
        relative = context.resolve().relative_to(Path(os.getcwd()).resolve())
    except ValueError:
        return str(context)
    return str(relative) or "."
