"""A container's environment as ECS gives it (secrets in every valueFrom form), plus the
sandbox's documented stand-ins and nothing else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runbook.sandbox.image import ImageConfig
from runbook.sandbox.task_environment import (
    SecretError,
    container_environment,
    in_task,
    resolve_secret,
)


@pytest.fixture
def secret_arn(aws) -> str:
    made = aws.call(
        "secretsmanager",
        "create_secret",
        Name="db-master",
        SecretString=json.dumps({"username": "todo", "password": "p@ss:word"}),
    )
    return made["ARN"]


def resolve(aws, value_from: str) -> str:
    return resolve_secret(value_from, aws.client("secretsmanager"), aws.client("ssm"))


def test_secrets_manager_forms_as_ecs_reads_them(aws, secret_arn: str) -> None:
    assert json.loads(resolve(aws, secret_arn))["password"] == "p@ss:word"
    assert resolve(aws, f"{secret_arn}:password::") == "p@ss:word"
    assert resolve(aws, f"{secret_arn}:username:AWSCURRENT:") == "todo"


def test_an_ssm_parameter_by_name(aws) -> None:
    aws.call("ssm", "put_parameter", Name="/app/token", Value="t0k3n", Type="SecureString")
    assert resolve(aws, "/app/token") == "t0k3n"


def test_a_missing_secret_or_json_key_fails_the_task_as_ecs_does(aws, secret_arn: str) -> None:
    with pytest.raises(SecretError, match="ResourceInitializationError: unable to pull secrets"):
        resolve(aws, secret_arn.replace("db-master", "nope") + ":password::")
    with pytest.raises(SecretError, match="did not contain json key pwd"):
        resolve(aws, f"{secret_arn}:pwd::")


def test_paths_inside_the_image_point_into_the_tasks_folder(tmp_path: Path) -> None:
    (tmp_path / "app" / "src").mkdir(parents=True)
    assert in_task("/app/src", tmp_path) == f"{tmp_path}/app/src"
    assert in_task("/app/src:/usr/lib/x", tmp_path) == f"{tmp_path}/app/src:/usr/lib/x"
    assert in_task("production", tmp_path) == "production"
    assert in_task("/etc/hosts", tmp_path) == "/etc/hosts"


def test_the_environment_is_ecss_plus_the_documented_stand_ins(
    aws, secret_arn: str, tmp_path: Path
) -> None:
    (tmp_path / "app" / "certs").mkdir(parents=True)
    container = {
        "environment": [
            {"name": "DB_HOST", "value": "db.abc.us-east-1.rds.amazonaws.com"},
            {"name": "DB_SSLROOTCERT", "value": "/app/certs/rds-global-bundle.pem"},
            {"name": "FLASK_ENV", "value": "production"},
        ],
        "secrets": [{"name": "DB_PWD", "valueFrom": f"{secret_arn}:password::"}],
    }
    env = container_environment(
        container,
        ImageConfig({"PYTHONUNBUFFERED": "1", "PATH": "/usr/local/bin:/usr/bin"}, "/app"),
        root=tmp_path,
        region="eu-west-1",
        resolve=lambda value_from: resolve(aws, value_from),
        task_address="127.1.2.5",
        database_address={"db.abc.us-east-1.rds.amazonaws.com": "127.1.2.3"}.get,
        endpoint_url="http://127.0.0.1:9",
        credentials={"aws_access_key_id": "sandbox", "aws_secret_access_key": "sandbox"},
        python_bin=tmp_path / "bin",
    )
    assert env["DB_PWD"] == "p@ss:word"
    assert env["DB_HOST"] == "db.abc.us-east-1.rds.amazonaws.com"  # the name, for TLS
    assert env["PGHOSTADDR"] == "127.1.2.3"  # where it answers
    assert env["DB_SSLROOTCERT"] == f"{tmp_path}/app/certs/rds-global-bundle.pem"
    assert env["HOST"] == "127.1.2.5"
    assert env["PATH"].startswith(f"{tmp_path / 'bin'}:/usr/local/bin")
    assert (env["AWS_REGION"], env["AWS_DEFAULT_REGION"]) == ("eu-west-1", "eu-west-1")
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:9"
    assert env["PYTHONUNBUFFERED"] == "1" and env["FLASK_ENV"] == "production"
    stand_ins = {"HOST", "PGHOSTADDR", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID"}
    stand_ins |= {"AWS_SECRET_ACCESS_KEY", "HOME", "PATH", "RUNBOOK_SANDBOX_TASK_ADDRESS"}
    ecs = {"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV", "PYTHONUNBUFFERED"}
    ecs |= {"DB_HOST", "DB_SSLROOTCERT", "FLASK_ENV", "DB_PWD"}
    assert set(env) == stand_ins | ecs
