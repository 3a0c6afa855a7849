"""Settings: the guide's defaults, TOML overrides, and rules checked before any AWS call."""

from __future__ import annotations

from pathlib import Path

import pytest

from runbook import settings as settings_module
from runbook.settings import ConfigError, Settings
from runbook.validation import field_errors, validate


def test_defaults_are_the_guides() -> None:
    s = Settings()
    assert (s.security_groups.elb_sg, s.security_groups.ecs_sg, s.security_groups.db_sg) == (
        "flask-todo-elb-sg",
        "flask-todo-ecs-sg",
        "flask-todo-db-sg",
    )
    assert s.load_balancer.name == "flask-todo-elb"
    assert s.load_balancer.target_group == "flask-todo-elb-target-group"
    assert s.load_balancer.health_check_path == "/healthz"
    assert s.cluster.name == "flask-todo-cluster"
    assert s.database.identifier == "flask-todo-db"
    assert s.database.instance_class == "db.t2.micro"
    td = s.task_definition
    assert (td.family, td.container_name, td.cpu, td.memory) == (
        "flask-todo",
        "todo-api",
        "256",
        "512",
    )
    assert (td.container_memory, td.container_memory_reservation) == (500, 300)
    # The deployment's own roles, not the account-wide ecsTaskExecutionRole of the guide.
    assert (td.execution_role, td.task_role) == (
        "flask-todo-execution-role",
        "flask-todo-task-role",
    )
    assert s.security_groups.app_port == 5000
    assert s.service.name == "flask-todo-service"
    assert s.deployment.region == "us-east-1"
    assert validate(s) == []


def test_toml_overrides_and_derived_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    config = tmp_path / "runbook.toml"
    config.write_text(
        '[deployment]\nname = "shop"\nregion = "eu-west-1"\n'
        '[task_definition]\ncpu = "512"\nmemory = "1024"\n'
    )
    s = settings_module.load(config)
    assert s.deployment.region == "eu-west-1"
    assert s.security_groups.elb_sg == "shop-elb-sg"
    assert s.cluster.name == "shop-cluster"
    assert (s.task_definition.cpu, s.task_definition.memory) == ("512", "1024")


def test_region_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-central-1")
    assert settings_module.load().deployment.region == "eu-central-1"
    assert settings_module.load(region="ap-south-1").deployment.region == "ap-south-1"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[nope]\nx = 1\n", "unknown section [nope]"),
        ("[database]\ncolour = 'red'\n", "unknown setting database.colour"),
        ("[service]\ndesired_count = 'two'\n", "service.desired_count = 'two' should be int"),
        ("[service\n", "is not valid TOML"),
    ],
)
def test_bad_config_files_are_named(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(text)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        settings_module.load(config)


@pytest.mark.parametrize(
    ("section", "changes", "field", "rule"),
    [
        ("task_definition", {"cpu": "256", "memory": "4096"}, "memory", "cpu 256 takes memory 512"),
        ("task_definition", {"cpu": "300"}, "cpu", "must be one of 256"),
        ("task_definition", {"container_memory": 600}, "container_memory", "must fit"),
        (
            "task_definition",
            {"container_memory_reservation": 501},
            "container_memory_reservation",
            "must be less than the hard limit",
        ),
        ("security_groups", {"app_port": 70000}, "app_port", "between 1 and 65535"),
        ("security_groups", {"elb_sg": "sg-web"}, "elb_sg", "must not start with 'sg-'"),
        ("load_balancer", {"name": "a" * 33}, "name", "1-32 letters"),
        ("load_balancer", {"name": "-elb"}, "name", "not starting or ending with a hyphen"),
        ("load_balancer", {"target_group": "tg_under"}, "target_group", "1-32 letters"),
        ("load_balancer", {"health_check_path": "healthz"}, "health_check_path", "start with /"),
        ("load_balancer", {"health_check_path": "/a b"}, "health_check_path", "no spaces"),
        ("database", {"identifier": "9db"}, "identifier", "starting with a letter"),
        ("database", {"identifier": "my--db"}, "identifier", "'--'"),
        ("database", {"db_name": "todo-db"}, "db_name", "letters, digits or underscores"),
        ("database", {"master_username": "rdsadmin"}, "master_username", "reserves"),
        ("cluster", {"log_retention_days": 10}, "log_retention_days", "must be one of"),
        ("deployment", {"region": "mars-1"}, "region", "not a region"),
    ],
)
def test_rules_name_field_value_and_rule(
    section: str, changes: dict, field: str, rule: str
) -> None:
    s = Settings().replace(section, **changes)
    errors = field_errors(s, section)
    assert field in errors, errors
    assert rule in errors[field]
    (error,) = [e for e in validate(s) if e.field == field]
    assert str(error).startswith(f"{section}.{field} = ")


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("s3cret-Pass!", True),
        ("short", False),
        ("has space1", False),
        ("with/slash1", False),
        ('quote"d123', False),
        ("at@sign123", False),
        ("x" * 129, False),
        ("é" * 10, False),
    ],
)
def test_master_password_rules_and_masking(password: str, ok: bool) -> None:
    s = Settings(master_password=password)
    errors = [e for e in validate(s) if e.field == "master_password"]
    assert (errors == []) is ok
    for error in errors:
        assert password not in str(error)
        assert "********" in str(error)


@pytest.mark.parametrize(
    ("cpu", "good", "bad"), [("8192", "16384", "20000"), ("16384", "122880", "61440")]
)
def test_fargates_largest_sizes_are_offered(cpu: str, good: str, bad: str) -> None:
    assert (
        field_errors(Settings().replace("task_definition", cpu=cpu, memory=good), "task_definition")
        == {}
    )
    errors = field_errors(
        Settings().replace("task_definition", cpu=cpu, memory=bad), "task_definition"
    )
    assert "in steps of" in errors["memory"]
