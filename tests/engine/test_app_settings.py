"""The [app] section: recorded with the deployment, read from config, checked, never a secret."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runbook.settings import App, ConfigError, Settings, from_record, load, to_record
from runbook.validation import validate


def _errors(settings: Settings) -> dict[str, str]:
    return {f"{e.section}.{e.field}": e.rule for e in validate(settings)}


def test_the_default_is_the_todo_api_and_valid() -> None:
    assert Settings().app == App()
    assert Settings().app.folder == ""
    assert _errors(Settings()) == {}


def test_a_state_file_without_app_settings_loads_unchanged() -> None:
    record = to_record(Settings.for_deployment("shop"))
    del record["app"]  # as every state file before [app] existed
    loaded = from_record(json.loads(json.dumps(record)), "state")
    assert loaded == Settings.for_deployment("shop")


def test_app_settings_round_trip_through_the_record() -> None:
    app = App(
        folder="/srv/shop",
        dockerfile="deploy/Dockerfile",
        environment={"LOG_LEVEL": "info"},
        secrets=["API_KEY"],
    )
    settings = Settings().replace("app", **app.__dict__)
    assert from_record(json.loads(json.dumps(to_record(settings))), "state").app == app


def test_config_sets_the_app_and_refuses_wrong_types(tmp_path: Path) -> None:
    config = tmp_path / "runbook.toml"
    config.write_text('[app]\nfolder = "/srv/shop"\nenvironment = { MODE = "live" }\n')
    assert load(config).app.environment == {"MODE": "live"}
    config.write_text("[app]\nenvironment = { WORKERS = 4 }\n")
    with pytest.raises(ConfigError, match="should be a table of strings"):
        load(config)
    config.write_text("[app]\nsecrets = [1]\n")
    with pytest.raises(ConfigError, match="should be a list of strings"):
        load(config)


@pytest.mark.parametrize(
    ("changes", "where", "says"),
    [
        ({"folder": "shop"}, "app.folder", "absolute"),
        ({"dockerfile": "../Dockerfile"}, "app.dockerfile", "inside the app's folder"),
        ({"environment": {"A=B": "x"}}, "app.environment", "variable's name"),
        ({"secrets": ["KEY", "KEY"]}, "app.secrets", "more than once"),
        (
            {"environment": {"KEY": "x"}, "secrets": ["KEY"]},
            "app.secrets",
            "plain or secret, not both",
        ),
    ],
)
def test_bad_app_settings_are_named(changes: dict, where: str, says: str) -> None:
    assert says in _errors(Settings().replace("app", **changes))[where]


def test_section_vs_words_follow_an_app_of_the_persons_own() -> None:
    from runbook.steps.task_definition import TaskDefinitionStep
    from runbook.words import explained

    text = TaskDefinitionStep.explanation
    assert "bin/flask-run.sh" in explained(text, Settings())
    own = explained(text, Settings().replace("app", folder="/srv/shop"))
    assert "bin/flask-run.sh" not in own and "ENTRYPOINT and CMD" in own and "/srv/shop" in own
