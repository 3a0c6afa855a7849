"""The engine is built whole: what it was given cannot be replaced; settings change and starting
over go through its own methods; closing it wakes its waits."""

from __future__ import annotations

from pathlib import Path

import pytest

from runbook.engine import Runbook
from runbook.events import Event
from runbook.pause import Pause, Stopped
from runbook.settings import Settings
from runbook.state import StateFile


def offline(tmp_path: Path, events: list[Event] | None = None) -> Runbook:
    sink = events.append if events is not None else (lambda _e: None)
    return Runbook(Settings(), None, StateFile(tmp_path / "state.json"), emit=sink)


@pytest.mark.parametrize("name", ["emit", "sleep", "settings", "state", "known", "account"])
def test_nothing_it_was_built_with_can_be_replaced(tmp_path: Path, name: str) -> None:
    runbook = offline(tmp_path)
    with pytest.raises(AttributeError):
        setattr(runbook, name, None)


def test_what_it_knows_is_read_only_outside(tmp_path: Path) -> None:
    runbook = Runbook(Settings(), None, StateFile(tmp_path / "state.json"), known={"a.Id": "1"})
    assert runbook.known["a.Id"] == "1"
    with pytest.raises(TypeError):
        runbook.known["a.Id"] = "2"  # type: ignore[index]


def test_starting_over_forgets_progress_and_settings_and_keeps_the_deployment(
    tmp_path: Path,
) -> None:
    state = StateFile(tmp_path / "state.json")
    state.record("I", "done", {"flask-todo-elb-sg.GroupId": "sg-1"})
    mine = Settings.for_deployment("shop").replace("deployment", region="eu-west-1")
    runbook = Runbook(mine.replace("cluster", name="my-cluster"), None, state)
    assert runbook.known["flask-todo-elb-sg.GroupId"] == "sg-1"  # the state file's hint

    runbook.start_over(Settings())

    assert "flask-todo-elb-sg.GroupId" not in runbook.known
    assert runbook.state.get("I").status != "done"
    assert runbook.settings.cluster.name == Settings().cluster.name
    assert (runbook.settings.deployment.name, runbook.settings.deployment.region) == (
        "shop",
        "eu-west-1",
    )


def test_edited_settings_are_what_the_next_plan_is_made_from(tmp_path: Path) -> None:
    runbook = offline(tmp_path)
    edited = runbook.settings.replace("cluster", name="edited-cluster")
    runbook.use_settings(edited)
    rows = runbook.preview(runbook.step("III"))
    assert any("edited-cluster" in str(row["params"]) for row in rows)


def test_closing_wakes_a_wait_which_stops_where_it_is() -> None:
    slept: list[float] = []
    pause = Pause(slept.append)
    pause(1.0)
    pause.stop()
    with pytest.raises(Stopped):
        pause(30.0)
    assert slept == [1.0, 30.0]  # an injected sleep is called, then the stop is seen
    real = Pause()
    real.stop()
    with pytest.raises(Stopped):
        real(3600.0)  # time.sleep becomes a wait that a stop has already ended


def test_closing_the_engine_stops_its_waits(tmp_path: Path) -> None:
    runbook = offline(tmp_path)
    runbook.close()
    with pytest.raises(Stopped):
        runbook.sleep(3600.0)
