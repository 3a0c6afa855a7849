"""Settings belong to the deployment: recorded with its state, the start of every later command."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from runbook.events import CallMade
from runbook.recorded import starting_settings
from runbook.settings import ConfigError, Settings, differences, from_record, to_record
from runbook.state import StateFile


def later(state_path: Path, config: Path | None = None, region: str | None = None):
    """What a later command starts from, reading the state file afresh."""
    return starting_settings(StateFile(state_path), config, region)


def test_a_renamed_group_is_recorded_and_later_sections_use_it(
    make_runbook, aws, settings, state_path
) -> None:
    renamed = settings.replace("security_groups", elb_sg="custom-todo-elb-sg")
    first = make_runbook(settings=renamed)
    first.apply(first.step("I"))

    start = later(state_path)
    assert start.recorded and start.settings.security_groups.elb_sg == "custom-todo-elb-sg"
    second = make_runbook(settings=start.settings, state=StateFile(state_path))
    second.apply(second.step("II"))
    (lb,) = aws.call("elbv2", "describe_load_balancers")["LoadBalancers"]
    (group,) = aws.call(
        "ec2",
        "describe_security_groups",
        Filters=[{"Name": "group-name", "Values": ["custom-todo-elb-sg"]}],
    )["SecurityGroups"]
    assert lb["SecurityGroups"] == [group["GroupId"]]


def test_the_password_is_never_recorded(make_runbook, settings, state_path) -> None:
    runbook = make_runbook(settings=replace(settings, master_password="Sup3r-secret-pw!"))
    runbook.apply(runbook.step("I"))
    text = state_path.read_text()
    assert "Sup3r-secret-pw!" not in text and "master_password" not in text
    assert json.loads(text)["settings"]["security_groups"]["elb_sg"] == "flask-todo-elb-sg"


def test_a_later_deploy_keeps_a_changed_retention(make_runbook, aws, settings, events) -> None:
    make_runbook(settings=settings.replace("cluster", log_retention_days=14)).deploy()
    start = later(make_runbook().state.path)
    assert start.settings.cluster.log_retention_days == 14
    events.clear()
    make_runbook(settings=start.settings).deploy()
    assert [e.operation for e in events if isinstance(e, CallMade) and e.mutating] == []
    (group,) = aws.call("logs", "describe_log_groups", logGroupNamePrefix="/ecs/flask-todo")[
        "logGroups"
    ]
    assert group["retentionInDays"] == 14


def test_config_changes_only_the_fields_it_names_and_says_which(tmp_path, settings) -> None:
    state = StateFile(tmp_path / "state.json")
    state.record_settings(to_record(settings.replace("cluster", log_retention_days=14)))
    config = tmp_path / "c.toml"
    config.write_text("[task_definition]\ncpu = '512'\nmemory = '1024'\n")
    start = starting_settings(StateFile(state.path), config, None)
    assert start.settings.cluster.log_retention_days == 14  # recorded, kept
    assert (start.settings.task_definition.cpu, start.settings.task_definition.memory) == (
        "512",
        "1024",
    )
    assert [str(c) for c in start.changes] == [
        "task_definition.cpu: '256' -> '512'",
        "task_definition.memory: '512' -> '1024'",
    ]
    # Starting over would forget the recorded retention, not the config's size.
    assert start.fresh.cluster.log_retention_days == 30
    assert start.fresh.task_definition.cpu == "512"


@pytest.mark.parametrize(
    ("config", "region", "message"),
    [
        ("[deployment]\nname = 'shop'\n", None, "names 'shop': a different deployment"),
        ("", "eu-west-1", "moving it to eu-west-1 would lose sight of them"),
        ("[deployment]\nregion = 'eu-west-1'\n", None, "moving it to eu-west-1"),
    ],
)
def test_another_deployment_needs_its_own_state_file(
    tmp_path, settings, config: str, region: str | None, message: str
) -> None:
    state = StateFile(tmp_path / "state.json")
    state.record_settings(to_record(settings))
    before = state.path.read_bytes()
    path = tmp_path / "c.toml"
    path.write_text(config)
    with pytest.raises(ConfigError, match=message):
        starting_settings(StateFile(state.path), path, region)
    assert state.path.read_bytes() == before


def test_the_environments_region_never_moves_a_recorded_deployment(
    tmp_path, settings, monkeypatch
) -> None:
    state = StateFile(tmp_path / "state.json")
    state.record_settings(to_record(settings))
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    start = starting_settings(StateFile(state.path), None, None)
    assert start.settings.deployment.region == "us-east-1"
    assert any("AWS_REGION is ignored" in note for note in start.notes)


def test_a_state_file_of_the_previous_version_is_read_and_said(tmp_path) -> None:
    path = tmp_path / "state.json"
    path.write_text(
        json.dumps({"version": 1, "target": "x", "sections": {"I": {"status": "done"}}})
    )
    start = starting_settings(StateFile(path), None, None)
    assert not start.recorded and start.settings == Settings()
    assert "earlier version and records no settings" in start.notes[0]
    assert StateFile(path).get("I").status == "done"


def test_a_record_round_trips_and_ignores_fields_this_version_lacks() -> None:
    s = Settings.for_deployment("shop").replace("database", instance_class="db.t3.micro")
    record = to_record(s)
    record["task_definition"]["retired_field"] = 1
    assert differences(from_record(record, "state"), s) == []
    record["service"]["desired_count"] = "two"
    with pytest.raises(ConfigError, match=r"service\.desired_count = 'two' should be int"):
        from_record(record, "state")
