"""The container runtime: a task's essential container as a process, started and stopped.

What Fargate's agent does for a task: pull its image (from the store the sandbox's ECR
points into), lay out the image's files in the task's folder, make the container's
environment (secrets fetched, the database's and the emulator's addresses), open its log
stream, start the main process in a session of its own, and later signal it (SIGTERM, as
`docker stop`), kill what is left (SIGKILL) and remove the task's files.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runbook.sandbox.ecs.task import DEFAULT_STOP_TIMEOUT, LocalTask
from runbook.sandbox.image import ImageConfig, Images, PullError
from runbook.sandbox.logs import LogSetupError, LogShipper
from runbook.sandbox.task_environment import SecretError, container_environment, in_task


class StartFailed(Exception):
    """The task stops before its container runs; the message is ECS's stopped reason."""


@dataclass(frozen=True)
class Host:
    """What the runtime needs of its region, and nothing more."""

    account: str
    region: str
    client: Callable[[str], Any]  # ECS (task definitions), ECR (pulls), CloudWatch Logs
    images: Images
    ca_bundle: Path  # stands in for Amazon's RDS bundle in the image
    resolve_secret: Callable[[str], str]
    database_address: Callable[[str], str | None]
    endpoint_url: str
    credentials: Mapping[str, str]
    python_bin: Path
    exited: Callable[[], None]  # a main process ended: the scheduler looks again


@dataclass(frozen=True)
class Pulled:
    """A task's image, pulled: its container's definition, files and configuration."""

    container: dict[str, Any]
    root: Path
    image: ImageConfig


def with_overrides(
    container: dict[str, Any], overrides: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """The container as RunTask's containerOverrides change it: `command` replaces the task
    definition's (the entry point stays), `environment` adds to or replaces its variables."""
    override = overrides.get(container["name"])
    if not override:
        return container
    changed = dict(container)
    if override.get("command"):
        changed["command"] = list(override["command"])
    if override.get("environment"):
        names = {e["name"] for e in override["environment"]}
        kept = [e for e in container.get("environment", []) if e["name"] not in names]
        changed["environment"] = kept + list(override["environment"])
    return changed


class Runtime:
    def __init__(self, host: Host) -> None:
        self.host = host
        self._definitions: dict[str, dict[str, Any]] = {}

    def definition(self, arn: str) -> dict[str, Any]:
        """The registered task definition (revisions never change: read once)."""
        if arn not in self._definitions:
            answer = self.host.client("ecs").describe_task_definition(taskDefinition=arn)
            self._definitions[arn] = answer["taskDefinition"]
        return self._definitions[arn]

    def pull(self, task: LocalTask) -> Pulled:
        """The essential container's image; StartFailed with ECS's reason if it cannot be."""
        definition = self.definition(task.task_definition)
        container = definition["containerDefinitions"][0]
        platform = definition.get("runtimePlatform") or {}
        try:
            root, image = self.host.images.pull(
                self.host.client("ecr"),
                container["image"],
                self.host.account,
                self.host.region,
                platform.get("cpuArchitecture", "X86_64"),
            )
        except PullError as exc:
            raise StartFailed(str(exc)) from exc
        return Pulled(container, root, image)

    def start(self, task: LocalTask, pulled: Pulled) -> list[str]:
        """Lay out the image, make the environment, open the log stream, start the main
        process; its command line, or StartFailed with ECS's reason."""
        container, image = with_overrides(pulled.container, task.overrides), pulled.image
        # The image's files first: paths in the environment point into them.
        shutil.copytree(pulled.root, task.folder, symlinks=True)
        certs = task.folder / "app" / "certs"
        certs.mkdir(parents=True, exist_ok=True)
        shutil.copy(self.host.ca_bundle, certs / "rds-global-bundle.pem")
        try:
            env = container_environment(
                container,
                image,
                root=task.folder,
                region=self.host.region,
                resolve=self.host.resolve_secret,
                task_address=task.address,
                database_address=self.host.database_address,
                endpoint_url=self.host.endpoint_url,
                credentials=self.host.credentials,
                # The image's own Python environment; the Todo API's runs with the runbook's.
                python_bin=Path(image.venv, "bin") if image.venv else self.host.python_bin,
            )
            logs = None
            log_config = container.get("logConfiguration") or {}
            if log_config.get("logDriver") == "awslogs":
                logs = LogShipper(
                    self.host.client("logs"), log_config["options"], container["name"], task.id
                )
                logs.open()
        except (SecretError, LogSetupError) as exc:
            raise StartFailed(str(exc)) from exc
        argv = list(container.get("entryPoint") or image.entrypoint) + list(
            container.get("command") or (image.cmd if not container.get("entryPoint") else [])
        )
        workdir = container.get("workingDirectory") or image.working_dir
        cwd = Path(in_task(workdir, task.folder))
        if argv and "/" in argv[0]:
            argv[0] = (
                in_task(argv[0], task.folder) if argv[0].startswith("/") else str(cwd / argv[0])
            )
        try:
            task.process = subprocess.Popen(
                argv,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            raise StartFailed(
                f"CannotStartContainerError: ResourceInitializationError: failed to create "
                f"new container runtime task: exec: {argv[0] if argv else ''}: {exc.strerror}"
            ) from exc
        if logs is not None:
            task.logs = logs
            logs.follow(task.process.stdout)  # type: ignore[arg-type]
        threading.Thread(target=self._wait_exit, args=(task,), daemon=True).start()
        task.stop_timeout = float(container.get("stopTimeout") or DEFAULT_STOP_TIMEOUT)
        return argv

    def _wait_exit(self, task: LocalTask) -> None:
        assert task.process is not None
        task.process.wait()
        self.host.exited()

    @staticmethod
    def alive(task: LocalTask) -> bool:
        return task.process is not None and task.process.poll() is None

    @staticmethod
    def terminate(task: LocalTask) -> None:
        """SIGTERM to the main process, as `docker stop` sends it."""
        if task.process is not None:
            with contextlib.suppress(ProcessLookupError):
                task.process.send_signal(signal.SIGTERM)

    @staticmethod
    def kill(task: LocalTask) -> None:
        """SIGKILL to everything the container started (its session), then reap it."""
        if task.process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(task.process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                task.process.wait(5)

    @staticmethod
    def remove(task: LocalTask) -> None:
        """Close the log stream (its last lines sent) and remove the task's files."""
        if task.logs is not None:
            task.logs.close()
        shutil.rmtree(task.folder, ignore_errors=True)
