"""Plain prompt mode: the same questions and rules as the app, and a run with no prompts."""

from __future__ import annotations

import io
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import questionary
from rich.console import Console

from runbook.aws import Aws
from runbook.cli import prompts
from runbook.events import Listener
from runbook.settings import Settings
from runbook.state import StateFile
from tests.ui.scripted import Refused, ScriptedEngine


def console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=120, color_system=None), out


@pytest.fixture
def no_prompts(monkeypatch) -> None:
    def refuse(*_: Any, **__: Any) -> None:
        raise AssertionError("assume_yes must not ask anything")

    monkeypatch.setattr(questionary, "text", refuse)
    monkeypatch.setattr(questionary, "confirm", refuse)


def scripted_engine(settings: Settings, state_path: Path, **options: Any):
    """What run_plain builds its engine with: a scripted one (tests/ui/scripted.py), kept in
    the list returned beside it to be looked at after the run."""
    made: list[ScriptedEngine] = []

    def build(listener: Listener) -> ScriptedEngine:
        engine = ScriptedEngine(
            settings, None, StateFile(state_path), emit=listener, sleep=lambda _s: None, **options
        )
        made.append(engine)
        return engine

    return build, made


class Scripted:
    """questionary's question objects, answering from a script (default when unscripted)."""

    def __init__(self, answers: dict[str, Any], asked: list[str]) -> None:
        self.answers, self.asked = answers, asked

    def _answer(self, message: str, default: Any) -> Any:
        # A field's question ends with its config key in parentheses: answer by that key.
        key = message.rsplit("(", 1)[-1].rstrip(")") if message.endswith(")") else message
        return self.answers.get(key, self.answers.get(message, default))

    def text(self, message: str, default: str = "", validate: Any = None) -> Any:
        self.asked.append(message)
        answer = self._answer(message, default)
        if validate is not None:
            assert validate(answer) is True, (message, validate(answer))
        return type("Q", (), {"ask": lambda _self: answer})()

    def confirm(self, message: str, default: bool = True) -> Any:
        self.asked.append(message)
        answer = self._answer(message, default)
        return type("Q", (), {"ask": lambda _self: answer})()


async def test_a_dry_run_changes_nothing_then_assume_yes_deploys_everything(
    no_prompts, make_runbook, aws: Aws, state_path
) -> None:
    """Real engine on the emulator: the plain mode's whole path kept. A dry run with access
    discovers and must change nothing in AWS; then --yes deploys all six sections, with the
    preflight's fix to the guide's database class applied in RDS."""
    shown, out = console()
    assert prompts.run_plain(make_runbook, shown, assume_yes=True, dry_run=True) == 0
    assert out.getvalue().count("would make, and nothing changed") == 6
    groups = aws.call("ec2", "describe_security_groups")["SecurityGroups"]
    assert [g["GroupName"] for g in groups] == ["default"]

    # The guide's db.t2.micro: preflight fixes it.
    guide = partial(make_runbook, settings=Settings())
    shown, out = console()
    assert prompts.run_plain(guide, shown, assume_yes=True) == 0
    text = out.getvalue()
    assert "settings changed: use db.t4g.micro" in text
    for number in ("I", "II", "III", "IV", "V", "VI"):
        assert f"Section {number} done" in text
    assert "ec2 CreateSecurityGroup  ok" in text
    assert "Address: http://flask-todo-elb" in text
    assert "emulator" in text  # what the sandbox cannot show, said plainly
    state = StateFile(state_path)
    assert all(state.get(n).status == "done" for n in ("I", "II", "III", "IV", "V", "VI"))
    db = aws.call("rds", "describe_db_instances", DBInstanceIdentifier="flask-todo-db")
    assert db["DBInstances"][0]["DBInstanceClass"] == "db.t4g.micro"


async def test_a_failure_shows_code_and_advice_and_exits_1(
    no_prompts, settings, state_path
) -> None:
    refused = Refused("TooManyLoadBalancers", "limit is 50")
    build, made = scripted_engine(settings, state_path, fails={"create_load_balancer": refused})
    shown, out = console()
    assert prompts.run_plain(build, shown, assume_yes=True) == 1
    text = out.getvalue()
    assert "✗ TooManyLoadBalancers: limit is 50" in text
    assert "What to do:" in text
    assert made[0].applied == ["I"]  # section II stopped at its load balancer


async def test_questions_use_the_defaults_and_the_engine_rules(
    monkeypatch, settings, state_path
) -> None:
    asked: list[str] = []
    scripted = Scripted({"security_groups.elb_sg": "web-sg"}, asked)
    monkeypatch.setattr(questionary, "text", scripted.text)

    def confirm(message: str, default: bool = True) -> Any:
        # Every section's questions are asked; section VI's calls are declined (the summary
        # after them reads AWS, which a scripted engine has none of).
        asked.append(message)
        return type("Q", (), {"ask": lambda _self: "for section VI" not in message})()

    monkeypatch.setattr(questionary, "confirm", confirm)
    build, made = scripted_engine(settings, state_path)
    shown, _ = console()
    assert prompts.run_plain(build, shown) == 0
    assert "Load balancer group (security_groups.elb_sg)" in asked
    assert any(q.endswith("(service.assign_public_ip)") for q in asked)
    assert any(q.startswith("Run these 6 calls for section I") for q in asked)
    assert "web-sg.GroupId" in StateFile(state_path).get("I").outputs
    assert made[0].applied == ["I", "II", "III", "IV", "V"]


def test_the_validator_is_the_engines_field_rules() -> None:
    check = prompts.validator(Settings(), "load_balancer", "name", str)
    assert check("flask-todo-elb") is True
    assert "letters, digits or hyphens" in str(check("bad_name"))
    port = prompts.validator(Settings(), "security_groups", "app_port", int)
    assert port("x") == "must be a whole number"
    assert port("70000") == "must be between 1 and 65535"
    memory = prompts.validator(Settings(), "task_definition", "memory", str)
    assert "takes memory 512, 1024, 2048" in str(memory("4096"))


async def test_declining_a_section_stops_the_run(monkeypatch, settings, state_path) -> None:
    asked: list[str] = []
    scripted = Scripted({}, asked)
    monkeypatch.setattr(questionary, "text", scripted.text)

    def confirm(message: str, default: bool = True) -> Any:
        asked.append(message)
        return type("Q", (), {"ask": lambda _self: not message.startswith("Run these")})()

    monkeypatch.setattr(questionary, "confirm", confirm)
    build, made = scripted_engine(settings, state_path)
    shown, out = console()
    assert prompts.run_plain(build, shown) == 0
    assert "Section I was not run" in out.getvalue()
    assert made[0].applied == []
    assert StateFile(state_path).get("I").status != "done"
