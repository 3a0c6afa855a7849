"""A container's environment as ECS gives it, plus the few mapping rules a local data plane needs.

ECS's part, exactly: the image's ENV, then AWS_REGION and friends, then the container
definition's `environment`, then its `secrets` fetched from Secrets Manager (full ARN, with
the optional `:json-key:version-stage:version-id` suffix) or Systems Manager.

The sandbox's stand-ins, and only these:
- paths inside the image (values under a top folder the image has, e.g. /app/src) point into
  the task's own folder, where the image is laid out;
- HOST is the task's address (its ENI), so the app listens where the load balancer looks;
- PGHOSTADDR is the local database's address for the endpoint DB_HOST names, so libpq
  connects there while still checking the certificate against DB_HOST's name;
- AWS_ENDPOINT_URL, the sandbox's keys and AWS_REGION stand in for the task role's credentials;
- PATH starts with the image's Python environment's bin folder (for the Todo API's image, a
  folder whose `python` is the runbook's own interpreter: it has the app's packages), and
  HOME is the task's folder;
- RUNBOOK_SANDBOX_TASK_ADDRESS tells a process of the image's environment which address
  0.0.0.0 means for this task (runbook/sandbox/image_build.py: tasks share this machine).
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from runbook.sandbox.image import ImageConfig
from runbook.sandbox.image_build import ADDRESS_ENV


class SecretError(Exception):
    """ResourceInitializationError: the task stops before it starts."""


def _fail(detail: str) -> SecretError:
    return SecretError(
        f"ResourceInitializationError: unable to pull secrets or registry auth: "
        f"execution resource retrieval failed: {detail}"
    )


def resolve_secret(value_from: str, secretsmanager: Any, ssm: Any) -> str:
    """What ECS injects for one `secrets` entry.

    valueFrom is a Secrets Manager ARN, optionally followed by json-key:version-stage:
    version-id (each may be empty), or an SSM parameter's ARN or name.
    (docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html)
    """
    parts = value_from.split(":")
    if value_from.startswith("arn:") and len(parts) >= 7 and parts[2] == "secretsmanager":
        arn = ":".join(parts[:7])
        json_key, stage, version = ([*parts[7:], "", "", ""])[:3]
        params: dict[str, str] = {"SecretId": arn}
        if stage:
            params["VersionStage"] = stage
        if version:
            params["VersionId"] = version
        try:
            secret = secretsmanager.get_secret_value(**params)["SecretString"]
        except Exception as exc:
            raise _fail(f"unable to retrieve secret from asm: {_aws_error(exc)}") from exc
        if not json_key:
            return str(secret)
        try:
            fields = json.loads(secret)
            return str(fields[json_key])
        except (ValueError, KeyError, TypeError) as exc:
            raise _fail(
                f"retrieved secret from Secrets Manager did not contain json key {json_key}"
            ) from exc
    name = value_from.split(":parameter", 1)[-1] if value_from.startswith("arn:") else value_from
    try:
        answer = ssm.get_parameter(Name=name, WithDecryption=True)
        return str(answer["Parameter"]["Value"])
    except Exception as exc:
        raise _fail(f"unable to retrieve secrets from ssm: {_aws_error(exc)}") from exc


def _aws_error(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and "Error" in response:
        return f"{response['Error'].get('Code')}: {response['Error'].get('Message')}"
    return str(exc)


def in_task(value: str, root: Path) -> str:
    """Absolute paths inside the image point into the task's folder (':'-lists too)."""

    def one(part: str) -> str:
        if not part.startswith("/"):
            return part
        top = part.split("/")[1]
        return str(root) + part if top and (root / top).exists() else part

    return ":".join(one(part) for part in value.split(":"))


def container_environment(
    container: Mapping[str, Any],
    image: ImageConfig,
    *,
    root: Path,
    region: str,
    resolve: Callable[[str], str],
    task_address: str,
    database_address: Callable[[str], str | None],
    endpoint_url: str,
    credentials: Mapping[str, str],
    python_bin: Path,
) -> dict[str, str]:
    """The environment of the container's main process; SecretError if a secret is missing."""
    env = dict(image.env)
    env.update({"AWS_REGION": region, "AWS_DEFAULT_REGION": region})
    env["AWS_EXECUTION_ENV"] = "AWS_ECS_FARGATE"
    env.update({e["name"]: e["value"] for e in container.get("environment", [])})
    env.update({s["name"]: resolve(s["valueFrom"]) for s in container.get("secrets", [])})
    # The stand-ins (module docstring), and nothing else.
    env = {key: in_task(value, root) for key, value in env.items()}
    env["PATH"] = f"{python_bin}:{env.get('PATH', '/usr/bin:/bin')}"
    env["HOME"] = str(root)
    env["HOST"] = task_address
    env[ADDRESS_ENV] = task_address
    if env.get("DB_HOST") and (address := database_address(env["DB_HOST"])):
        env["PGHOSTADDR"] = address
    env["AWS_ENDPOINT_URL"] = endpoint_url
    env["AWS_ACCESS_KEY_ID"] = credentials["aws_access_key_id"]
    env["AWS_SECRET_ACCESS_KEY"] = credentials["aws_secret_access_key"]
    return env


def python_shim(folder: Path, interpreter: str) -> Path:
    """A folder whose `python` runs this interpreter (a script, so a venv stays a venv)."""
    folder.mkdir(parents=True, exist_ok=True)
    shim = folder / "python"
    # Quoted for the shell: no character of the interpreter's path runs ($(...), `...`, quotes).
    shim.write_text(f'#!/bin/sh\nexec {shlex.quote(interpreter)} "$@"\n')
    os.chmod(shim, 0o755)
    return folder
