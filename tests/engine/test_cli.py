"""The command line: plan offline, bad input, missing credentials, sandbox end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from runbook import cli
from runbook.cli import target


def no_credentials_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_CONFIG_FILE=str(tmp_path / "none"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


def run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "runbook.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def fixed_class(tmp_path: Path) -> list[str]:
    """The settings with preflight's fix: the guide's db.t2.micro cannot run PostgreSQL 16."""
    config = tmp_path / "fixed.toml"
    config.write_text('[database]\ninstance_class = "db.t4g.micro"\n')
    return ["--config", str(config)]


def test_plan_json_works_with_no_credentials_and_no_network(tmp_path: Path) -> None:
    done = run(["plan", "--json", *fixed_class(tmp_path)], tmp_path, no_credentials_env(tmp_path))
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert all(row["refused"] == [] for row in rows)
    assert {"section", "service", "operation", "params"} <= set(rows[0])
    assert rows[0]["section"] == "I" and rows[-1]["section"] == "VI"
    ops = [r["operation"] for r in rows]
    assert ops[0] == "CreateSecurityGroup" and "CreateService" in ops
    text = json.dumps(rows)
    assert "<flask-todo-elb-sg.GroupId>" in text
    assert not list(tmp_path.glob("runbook-state*"))  # a plan writes nothing


@pytest.mark.parametrize(
    ("password", "taken", "exit_code", "said"),
    [
        # Taken (with the class fixed): the JSON plan shows it masked.
        ("Very-s3cret-pw", True, 0, "********"),
        # Refused: the table names the field, never the value.
        ("has/slash-123", False, cli.BAD_INPUT, "database.master_password"),
    ],
    ids=["masked", "refused"],
)
def test_a_password_of_ones_own_is_never_shown(
    tmp_path: Path, password: str, taken: bool, exit_code: int, said: str
) -> None:
    env = no_credentials_env(tmp_path) | {"RUNBOOK_DB_PASSWORD": password}
    plan = ["plan", "--json", *fixed_class(tmp_path)] if taken else ["plan"]
    done = run(plan, tmp_path, env)
    assert done.returncode == exit_code
    assert password not in done.stdout + done.stderr
    assert said in done.stdout


def test_the_guides_class_is_refused_in_the_plan_with_reason_and_fix(tmp_path: Path) -> None:
    """db.t2.micro on PostgreSQL 16: marked in the JSON and the table, and the exit is 2."""
    done = run(["plan", "--json"], tmp_path, no_credentials_env(tmp_path))
    assert done.returncode == cli.BAD_INPUT
    rows = json.loads(done.stdout)
    (refused,) = [row for row in rows if row["refused"]]
    assert refused["operation"] == "CreateDBInstance"
    (why,) = refused["refused"]
    assert (why["param"], why["value"]) == ("DBInstanceClass", "'db.t2.micro'")
    assert "db.t4g.micro" in why["fix"] and "db_instance_class" in why["source"]
    assert "would be refused by AWS" in done.stderr
    table = run(["plan"], tmp_path, no_credentials_env(tmp_path))
    assert table.returncode == cli.BAD_INPUT
    assert "AWS would refuse" in table.stdout and "database.instance_class" in table.stdout


def test_invalid_settings_exit_2_naming_field_value_rule_and_call_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[task_definition]\ncpu = "256"\nmemory = "4096"\n')
    monkeypatch.setattr(target, "aws_for", lambda *a: pytest.fail("an AWS client was made"))
    assert cli.main(["deploy", "--yes", "--config", str(config)]) == cli.BAD_INPUT
    out = capsys.readouterr().out
    assert "task_definition.memory = '4096'" in out
    assert "Fargate with cpu 256 takes memory 512, 1024, 2048" in out


def test_missing_credentials_name_both_ways_forward(tmp_path: Path) -> None:
    done = run(["deploy", "--yes"], tmp_path, no_credentials_env(tmp_path))
    assert done.returncode == cli.FAILED
    assert "No AWS credentials" in done.stdout
    assert "--sandbox" in done.stdout and "--dry-run" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
