"""The command line's rough edges a new user met: closed pipes, fixes, JSON errors, help."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from runbook import cli, day_two, day_two_run
from runbook import destroy as tear_down
from runbook.cli import render
from runbook.events import StepFinished
from runbook.narration import TITLES
from runbook.settings import Settings, to_record
from runbook.state import StateFile
from tests.engine.test_cli_truth import on_emulator  # noqa: F401  (a fixture)


def deployment(folder: Path) -> str:
    """A state file that names the guide's deployment, as a first deploy records it."""
    path = folder / "state.json"
    StateFile(path).record_settings(to_record(Settings()))
    return str(path)


def test_missing_state_file_is_a_json_error_for_scripts(tmp_path: Path, capsys) -> None:
    code = cli.main(["status", "--json", "--state", str(tmp_path / "none.json")])
    assert code == cli.BAD_INPUT
    assert json.loads(capsys.readouterr().out)["error"]["code"] == "StateFileMissing"


def test_a_reader_that_leaves_early_is_a_quiet_exit(tmp_path: Path) -> None:
    """`runbook plan --json | head`: no traceback, the shell's status for a closed pipe."""
    for command in (["plan", "--json", "--offline"], ["plan", "--full", "--offline"]):
        read_end, write_end = os.pipe()
        os.close(read_end)  # the reader has left before the first line: every write fails
        try:
            ran = subprocess.run(
                [sys.executable, "-m", "runbook.cli", *command, "--state", str(tmp_path / "s")],
                stdout=write_end,
                stderr=subprocess.PIPE,
                cwd=tmp_path,
                timeout=60,
                check=False,
            )
        finally:
            os.close(write_end)
        error = ran.stderr.decode()
        assert ran.returncode == cli.CLOSED_PIPE, error
        assert "Traceback" not in error and "BrokenPipe" not in error


def test_plan_and_export_say_the_setting_and_following_it_works(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no state file: both preview a new deployment
    for command in (["plan", "--offline"], ["export"]):
        assert cli.main(command) == cli.BAD_INPUT
        captured = capsys.readouterr()
        said = " ".join((captured.out + captured.err).split())  # as if never wrapped
        assert "database.instance_class" in said and "under [database]" in said
        assert "--config FILE" in said
    # Doing what the fix says is enough.
    config = tmp_path / "fix.toml"
    config.write_text('[database]\ninstance_class = "db.t4g.micro"\n')
    for command in (["plan", "--offline"], ["export"]):
        assert cli.main([*command, "--config", str(config)]) == cli.OK
    capsys.readouterr()


def test_status_json_without_credentials_is_a_json_error(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    state = deployment(tmp_path)
    code = cli.main(["status", "--json", "--state", state])
    out = capsys.readouterr().out
    assert code == cli.FAILED
    error = json.loads(out)["error"]
    assert error["code"] == "NoCredentials" and "--sandbox" in error["advice"]


def test_sandbox_help_lists_only_what_the_sandbox_uses(capsys) -> None:
    with pytest.raises(SystemExit):
        cli.main(["sandbox", "--help"])
    shown = capsys.readouterr().out
    assert "--timings" in shown
    assert "--config" not in shown and "--state" not in shown and "--profile" not in shown


@pytest.mark.usefixtures("on_emulator")
def test_ctrl_c_says_what_is_true_for_the_command(tmp_path: Path, capsys, monkeypatch) -> None:
    def ctrl_c(self):
        raise KeyboardInterrupt  # where it lands: while the next lines are read

    monkeypatch.setattr("runbook.log_tail.Tail.poll", ctrl_c)
    state = deployment(tmp_path)
    code = cli.main(["logs", "--follow", "--sandbox", "--state", state])
    said = " ".join(capsys.readouterr().out.split())
    assert code == cli.INTERRUPTED
    assert "Stopped following the logs." in said and "twice" not in said


def test_sections_that_are_off_are_named_in_the_deploys_output() -> None:
    console = Console(width=80, file=io.StringIO(), record=True, color_system=None)
    progress = render.Progress(console)
    for number in ("VII", "VIII"):
        progress(StepFinished(number, "skipped"))
    lines = console.export_text().splitlines()
    assert lines == [
        "- Section VII · HTTPS and domain is off with these settings: nothing to do",
        f"- Section VIII · {TITLES['VIII']} is off with these settings: nothing to do",
    ]


def test_status_names_ecs_service_linked_role_as_aws_does(make_runbook, aws) -> None:
    aws.call("iam", "create_service_linked_role", AWSServiceName="ecs.amazonaws.com")
    runbook = make_runbook()
    console = Console(width=80, file=io.StringIO(), record=True, color_system=None)
    console.print(render.status_table(tear_down.status(runbook).sections))
    shown = console.export_text()
    assert "AWSServiceRoleForECS" in shown
    assert "AWSServiceRoleForecs" not in shown  # the emulator's own spelling of it


def test_status_says_the_next_deploy_undoes_a_rollback(make_runbook, settings) -> None:
    make_runbook().deploy()
    bigger = settings.replace("task_definition", cpu="512", memory="1024")
    runbook = make_runbook(settings=bigger)
    runbook.deploy()
    day_two_run.run(runbook, day_two.plan(runbook.aws, runbook.settings, "rollback"))

    later = make_runbook(settings=bigger)
    status = tear_down.status(later)
    console = Console(width=80, file=io.StringIO(), record=True, color_system=None)
    render.facts(console, [f for step, _ in status.sections for f in later.facts(step)])
    said = " ".join(console.export_text().split())
    assert "undoing the `runbook rollback` of " in said
    assert "flask-todo:1 -> flask-todo:2" in said
