"""An engine's failure as a Problem: its own message, what it means, and what to do.

Matched on the words docker and podman print (checked against their sources and the real
CLI); anything else keeps the engine's message with general advice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from runbook.errors import Problem
from runbook.image.container_engine import ContainerEngine

AGAIN = "then run section VI again: it logs in, builds and pushes again"
OWN_IMAGE = "or set task_definition.image to an image you pushed yourself"


@dataclass(frozen=True)
class Cause:
    pattern: str
    code: str
    advice: str
    steps: tuple[str, ...] = ("login", "build", "push")


def _causes(engine: ContainerEngine, platform: str) -> tuple[Cause, ...]:
    start = (
        "Start podman (`podman machine start` on macOS and Windows; on Linux, "
        "`systemctl --user start podman.socket`)"
        if engine.kind == "podman"
        else "Start Docker (Docker Desktop, or `sudo systemctl start docker` on Linux)"
    )
    return (
        Cause(
            r"cannot connect to the docker daemon|is the docker daemon running"
            r"|cannot connect to podman|unable to connect to podman",
            "ContainerEngineNotRunning",
            f"{start}, {AGAIN}; {OWN_IMAGE}.",
        ),
        Cause(
            r"permission denied while trying to connect to the docker daemon socket",
            "ContainerEnginePermission",
            "Your user may not use Docker's socket: add it to the docker group (`sudo usermod "
            f"-aG docker $USER`, then log in again), {AGAIN}.",
        ),
        Cause(
            r"no space left on device",
            "NoSpaceLeftOnDevice",
            "The disk is full: free space (`docker system prune` removes unused images and "
            f"build cache), {AGAIN}.",
        ),
        Cause(
            r"no such host|dial tcp|i/o timeout|tls handshake timeout|connection refused"
            r"|network is unreachable",
            "RegistryUnreachable",
            "This machine cannot reach the registry: check the network, a proxy or VPN "
            f"(HTTPS_PROXY) and the region, {AGAIN}.",
            ("login", "push"),
        ),
        Cause(
            r"unauthorized|incorrect username or password|login attempt to .* failed|401",
            "RegistryLoginRefused",
            "ECR refused the login token: check that your credentials may call "
            "ecr:GetAuthorizationToken in this region and that this machine's clock is right, "
            f"{AGAIN}.",
            ("login",),
        ),
        Cause(
            r"no basic auth credentials|authorization token has expired",
            "RegistryLoginMissing",
            f"The engine has no valid login for the registry (tokens last 12 hours): {AGAIN} "
            "(it logs in first).",
            ("push",),
        ),
        Cause(
            # The job takes this one as done: a version is its source, so the image there is
            # this one (pushed by another run).
            r"tag invalid|cannot be overwritten because the repository is immutable",
            "ImageTagAlreadyExists",
            f"This version is in the repository already, and its tags are immutable: {AGAIN}.",
            ("push",),
        ),
        Cause(
            r"name unknown|repositorynotfound|repository .* does not exist",
            "RepositoryNotFound",
            "The ECR repository is gone: run section III again (it makes it), then section VI.",
            ("push",),
        ),
        Cause(
            r"denied|not authorized to perform|accessdenied",
            "RegistryPushDenied",
            "Your credentials may not push to this repository: they need "
            "ecr:BatchCheckLayerAvailability, ecr:InitiateLayerUpload, ecr:UploadLayerPart, "
            "ecr:CompleteLayerUpload and ecr:PutImage on it (the managed policy "
            f"AmazonEC2ContainerRegistryPowerUser has them), {AGAIN}.",
            ("push",),
        ),
        Cause(
            r"toomanyrequests|pull rate limit",
            "BaseImageRateLimited",
            "Docker Hub limits anonymous pulls of the base image: `docker login` to Docker "
            f"Hub, or wait an hour, {AGAIN}.",
            ("build",),
        ),
        Cause(
            r"exec format error|no match for platform|does not match the specified platform",
            "PlatformNotBuildable",
            f"The engine cannot build for {platform} on this machine: install QEMU emulation "
            "(`docker run --privileged --rm tonistiigi/binfmt --install all`), or set "
            f"task_definition.cpu_architecture to this machine's, {AGAIN}.",
            ("build",),
        ),
        Cause(
            r"unknown flag|unknown shorthand flag",
            "ContainerEngineTooOld",
            "This engine does not take an option the runbook passes: update it (Docker 23 or "
            f"later, podman 4 or later), {AGAIN}; {OWN_IMAGE}.",
        ),
        Cause(
            r"failed to solve|error building|executor failed running|returned a non-zero code"
            r"|building at step|dockerfile parse error",
            "ImageBuildFailed",
            "A step of the Dockerfile failed (the engine's message names it): fix the app's "
            f"source or its Dockerfile, {AGAIN}.",
            ("build",),
        ),
    )


def tail(lines: list[str], count: int = 3) -> str:
    kept = [line for line in lines if line.strip()][-count:]
    return " / ".join(kept) if kept else "(it printed nothing)"


def engine_failed(
    engine: ContainerEngine,
    step: str,
    shown: str,
    returncode: int,
    output: list[str],
    platform: str = "linux/amd64",
) -> Problem:
    """A command that exited non-zero: the engine's words, and what fits them."""
    text = "\n".join(output).lower()
    message = f"`{shown}` failed (exit {returncode}): {tail(output)}"
    for cause in _causes(engine, platform):
        if step in cause.steps and re.search(cause.pattern, text):
            return Problem(cause.code, message, cause.advice, f"{engine.kind} {step}")
    return Problem(
        f"Container{step.capitalize()}Failed",
        message,
        f"Read the engine's message, fix what it names, {AGAIN}; {OWN_IMAGE}.",
        f"{engine.kind} {step}",
    )


def engine_missing(engine: ContainerEngine, error: OSError) -> Problem:
    return Problem(
        "ContainerEngineMissing",
        f"Cannot run {engine.path}: {error.strerror or error}",
        f"Install docker or podman, or point RUNBOOK_CONTAINER_ENGINE at one, {AGAIN}; "
        f"{OWN_IMAGE}.",
        f"{engine.kind}",
    )
