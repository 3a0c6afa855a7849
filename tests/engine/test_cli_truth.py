"""The command line and the recorded settings: config changes said, plans write nothing, reports."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from runbook import cli
from runbook.cli import target
from runbook.settings import to_record
from runbook.state import StateFile


@pytest.fixture
def on_emulator(monkeypatch, aws, container_engine):
    """cli.main against this test's pretend account, without a background sandbox (whose
    container engine stand-in the tests' own stands in for)."""
    monkeypatch.setattr(target, "aws_for", lambda args, settings: aws)
    monkeypatch.setattr("runbook.sandbox.engine_path", lambda: container_engine.path)
    # The sandbox's polls, which the command line builds the engine with, never sleep here.
    monkeypatch.setattr("runbook.cli.target.poll_sleep", lambda _timings: lambda _s: None)
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)


def main(capsys, *args: str) -> tuple[int, str]:
    """--sandbox: the emulator's summary, which sends no probe; --state keeps files in tmp."""
    code = cli.main(
        [*args, "--sandbox"] if args[0] != "plan" or "--offline" not in args else list(args)
    )
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_deploy_records_config_and_later_commands_start_from_it(
    on_emulator, tmp_path: Path, capsys
) -> None:
    state = tmp_path / "state.json"
    config = tmp_path / "c.toml"
    config.write_text(
        "[database]\ninstance_class = 'db.t4g.micro'\n[cluster]\nlog_retention_days = 14\n"
    )
    code, out = main(
        capsys, "deploy", "--yes", "--new", "--config", str(config), "--state", str(state)
    )
    assert code == cli.OK, out
    assert StateFile(state).settings["cluster"]["log_retention_days"] == 14

    # No --config: the recorded settings, so nothing to change.
    code, out = main(capsys, "plan", "--state", str(state))
    assert code == cli.OK and "Nothing to change" in out

    # A plan with a config says what it changes and records nothing.
    before = state.read_bytes()
    config.write_text("[database]\ninstance_class = 'db.t3.micro'\n")
    code, out = main(capsys, "plan", "--config", str(config), "--state", str(state))
    assert code == cli.OK
    assert "--config changes 1 recorded setting (this command records nothing):" in out
    assert "database.instance_class: 'db.t4g.micro' -> 'db.t3.micro'" in out
    assert "ModifyDBInstance" in out
    assert "instance class: db.t4g.micro -> db.t3.micro: changed in place" in out
    assert state.read_bytes() == before

    code, out = main(capsys, "status", "--state", str(state))
    assert code == cli.OK
    assert "Settings that matter" in out and "db.t4g.micro" in out and "256 / 512" in out


def test_destroy_reports_what_it_removed_once(on_emulator, tmp_path: Path, capsys, aws) -> None:
    state = tmp_path / "state.json"
    renamed = tmp_path / "renamed.toml"
    renamed.write_text("[security_groups]\nelb_sg = 'custom-todo-elb-sg'\n")
    code, out = main(
        capsys, "deploy", "--yes", "--new", "--state", str(state), "--config", str(renamed)
    )
    assert code == cli.OK, out
    # Forget the rename the way the app did: a second set of groups.
    recorded = StateFile(state)
    assert recorded.settings is not None
    record = copy.deepcopy(recorded.settings)
    record["security_groups"]["elb_sg"] = "flask-todo-elb-sg"
    recorded.record_settings(record)
    assert main(capsys, "deploy", "--yes", "--state", str(state))[0] == cli.OK

    code, out = main(capsys, "status", "--state", str(state))
    assert "under names no longer in the settings" in out and "custom-todo-elb-sg" in out

    code, out = main(capsys, "destroy", "--yes", "--state", str(state))
    assert code == cli.OK, out
    assert "Removed (" in out and "custom-todo-elb-sg (ours, no longer in the settings)" in out
    assert out.count("Deleted everything this deployment made") == 1
    assert "Could not remove" not in out
    assert StateFile(state).settings is not None  # the settings stay, progress is gone


def test_destroy_names_the_deployment_and_says_what_happens_to_the_database(
    on_emulator, make_runbook, tmp_path: Path, capsys, monkeypatch
) -> None:
    asked: list[str] = []
    monkeypatch.setattr(
        "rich.prompt.Confirm.ask", lambda question, **_: bool(asked.append(question))
    )
    state = tmp_path / "state.json"
    runbook = make_runbook(state=StateFile(state))
    runbook.apply(runbook.step("I"))
    code, out = main(capsys, "destroy", "--state", str(state))
    assert code == cli.OK and "Nothing was deleted" in out
    account = runbook.aws.call("sts", "get_caller_identity")["Account"]
    assert (
        f"Destroy the deployment flask-todo in account {account}, region us-east-1 (local "
        f"emulator), recorded in {state}: 3 resources carry its tag (3 calls)."
    ) in " ".join(out.split())
    assert "database" not in out and asked == ["Delete all of it?"]
    for number in ("II", "III", "IV"):
        runbook.apply(runbook.step(number))
    code, out = main(capsys, "destroy", "--state", str(state))
    assert re.search(
        r"The database flask-todo-db: a final snapshot flask-todo-final-[\d-]+ is kept\.",
        " ".join(out.split()),
    )


def test_a_misspelt_section_is_named_with_its_brackets(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # no state file: a plan previews a new deployment
    config = tmp_path / "c.toml"
    config.write_text("[task_definiton]\ncpu = '512'\n")
    code, out = main(capsys, "plan", "--offline", "--config", str(config))
    assert code == cli.BAD_INPUT
    assert "unknown section [task_definiton]; did you mean [task_definition]?" in out


def test_another_deployment_in_the_same_state_file_is_refused(tmp_path: Path, capsys) -> None:
    from runbook.settings import Settings

    state = StateFile(tmp_path / "state.json")
    state.record_settings(to_record(Settings()))
    config = tmp_path / "c.toml"
    config.write_text("[deployment]\nname = 'shop'\n")
    code, out = main(
        capsys, "plan", "--offline", "--config", str(config), "--state", str(state.path)
    )
    assert code == cli.BAD_INPUT
    assert "a different deployment needs its own state file" in out


@pytest.mark.parametrize("command", ["plan", "deploy", "status", "destroy", "sandbox"])
def test_every_command_explains_itself_in_its_help(command: str, capsys) -> None:
    with pytest.raises(SystemExit):
        cli.main([command, "--help"])
    text = capsys.readouterr().out
    description = text.split("\n\n")[1]
    assert len(description.split()) > 8, text


def test_next_commands_name_the_sandbox_and_the_state_file(tmp_path: Path) -> None:
    from runbook.next_steps import next_steps

    steps = dict(next_steps(sandbox=True, state=Path("runbook-state.sandbox.json")))
    assert "runbook status --sandbox" in steps
    steps = dict(next_steps(sandbox=False, state=tmp_path / "s.json"))
    assert f"runbook destroy --state {tmp_path / 's.json'}" in steps
    assert json.dumps(steps)  # plain strings, printable anywhere


def test_with_no_credentials_a_dry_run_says_it_plans_offline(tmp_path: Path) -> None:
    from tests.engine.test_cli import no_credentials_env, run

    # The guide's db.t2.micro is refused for PostgreSQL 16 (exit 2); the fix plans cleanly.
    config = tmp_path / "fixed.toml"
    config.write_text('[database]\ninstance_class = "db.t4g.micro"\n')
    done = run(
        ["deploy", "--dry-run", "--config", str(config)], tmp_path, no_credentials_env(tmp_path)
    )
    assert done.returncode == 0, done.stderr
    assert "No AWS credentials were found: planning offline" in " ".join(done.stderr.split())
    assert "offline: as if nothing exists yet" in done.stdout
