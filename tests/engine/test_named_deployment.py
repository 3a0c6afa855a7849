"""A command acts on the deployment its state file names, or on none (issue 15, point 1).

Against the emulator: a destroy given a state file that does not exist, is damaged, has the
wrong shape, records another account, or records none of the deployment, deletes nothing
(every resource is still there, and the file is byte for byte as it was); a deploy never takes
over what another state file made without asking; a deployment with no state file is deleted
only once named.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runbook import cli
from runbook.state import StateFile
from tests.engine.helpers import COMPLETE, inventory
from tests.engine.test_cli_truth import main, on_emulator  # noqa: F401 (a fixture)

FIXED = "[database]\ninstance_class = 'db.t4g.micro'\n"


@pytest.fixture
def deployed(on_emulator, tmp_path: Path, capsys, monkeypatch) -> Path:  # noqa: F811
    """The whole deployment, made by `deploy --new`, recorded in tmp/state.json."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "fixed.toml").write_text(FIXED)
    state = tmp_path / "state.json"
    code, out = main(
        capsys, "deploy", "--yes", "--new", "--state", str(state), "--config", "fixed.toml"
    )
    assert code == cli.OK, out
    assert f"This starts a new deployment, flask-todo (us-east-1), recorded in {state}." in (
        " ".join(out.split())
    )
    return state


def one_line(out: str) -> str:
    return " ".join(out.split())


def test_destroy_with_a_state_file_that_names_nothing_of_ours_changes_nothing(
    deployed: Path, aws, settings, tmp_path: Path, capsys
) -> None:
    recorded = json.loads(deployed.read_text())
    other_account = {**recorded, "account": "999999999999"}
    bad = {
        "not JSON": "{not json",
        "a list": "[]",
        "sections of the wrong type": json.dumps({"version": 2, "sections": []}),
        "a status of the wrong type": json.dumps({"sections": {"I": {"status": 5}}}),
        "an unknown status": json.dumps({"sections": {"I": {"status": "half"}}}),
        "settings of the wrong type": json.dumps({**recorded, "settings": "flask-todo"}),
        "a newer version": json.dumps({**recorded, "version": 99}),
    }
    for why, text in bad.items():
        path = tmp_path / "damaged.json"
        path.write_text(text)
        code, out = main(capsys, "destroy", "--yes", "--state", str(path))
        assert code == cli.BAD_INPUT, (why, out)
        assert f"✗ StateFileDamaged: {path} cannot be read" in one_line(out), why
        assert "Traceback" not in out and path.read_text() == text, why
        assert inventory(aws, settings) == COMPLETE, why

    missing = tmp_path / "pwtest2-state.json"
    code, out = main(capsys, "destroy", "--yes", "--state", str(missing))
    assert code == cli.BAD_INPUT
    assert f"✗ StateFileMissing: {missing} does not exist, so it names no deployment" in (
        one_line(out)
    )
    assert "--deployment NAME" in out and not missing.exists()

    someone_elses = tmp_path / "someone-elses.json"
    someone_elses.write_text(json.dumps(other_account))
    before = someone_elses.read_bytes()
    code, out = main(capsys, "destroy", "--yes", "--state", str(someone_elses))
    assert code == cli.BAD_INPUT
    assert "records the deployment flask-todo in AWS account 999999999999" in one_line(out)
    assert someone_elses.read_bytes() == before

    # A state file that records none of it (its settings only): the tag finds the resources,
    # and --yes alone does not delete them.
    unrecorded = tmp_path / "settings-only.json"
    unrecorded.write_text(json.dumps({**recorded, "sections": {}}))
    before = unrecorded.read_bytes()
    code, out = main(capsys, "destroy", "--yes", "--state", str(unrecorded))
    assert code == cli.BAD_INPUT
    assert "✗ NameTheDeployment: --yes alone deletes only a deployment its state file" in out
    assert "runbook destroy --deployment flask-todo --yes" in one_line(out)
    assert unrecorded.read_bytes() == before

    assert inventory(aws, settings) == COMPLETE
    assert StateFile(deployed).progress  # the deployment's own file, untouched


def test_without_a_state_file_a_deployment_is_deleted_only_once_named(
    deployed: Path, aws, settings, tmp_path: Path, capsys, monkeypatch
) -> None:
    deployed.rename(tmp_path / "elsewhere.json")  # the person is in another folder, say
    answers = iter(["flask", "flask-todo"])
    monkeypatch.setattr("rich.prompt.Prompt.ask", lambda *_a, **_k: next(answers))
    code, out = main(capsys, "destroy", "--deployment", "flask-todo")
    assert code == cli.OK
    assert "found by its name and tag (no state file)" in one_line(out)
    assert "Nothing was deleted." in out and inventory(aws, settings) == COMPLETE

    code, out = main(capsys, "destroy", "--deployment", "shop", "--yes")
    assert code == cli.OK and "Nothing to delete" in out
    assert inventory(aws, settings) == COMPLETE

    code, out = main(capsys, "destroy", "--deployment", "flask-todo")  # types it right
    assert code == cli.OK, out
    assert "Deleted everything this deployment made" in out
    assert "settings stay recorded" not in out
    assert sum(inventory(aws, settings).values()) == 0
    assert not (tmp_path / "runbook-state.sandbox.json").exists()  # none was made


def test_a_deploy_never_takes_over_another_state_files_resources_without_asking(
    deployed: Path, aws, settings, tmp_path: Path, capsys, monkeypatch
) -> None:
    revisions = aws.call("ecs", "list_task_definitions")["taskDefinitionArns"]
    second = tmp_path / "second.json"
    args = ("deploy", "--new", "--state", str(second), "--config", "fixed.toml")
    code, out = main(capsys, *args, "--yes")
    assert code == cli.BAD_INPUT
    said = one_line(out)
    assert "✗ OwnedByAnotherStateFile:" in said
    assert "already carry the tag of the deployment flask-todo" in said
    assert f"{second} records none of them: another state file manages them" in said
    assert "--take-over" in said and not second.exists()

    monkeypatch.setattr("rich.prompt.Confirm.ask", lambda *_a, **_k: False)
    code, out = main(capsys, *args)
    assert code == cli.BAD_INPUT and "Take them over" not in out  # the question went by
    assert not second.exists()

    code, out = main(capsys, *args, "--yes", "--take-over")
    assert code == cli.OK, out
    assert f"--take-over: {second} manages them from now on." in one_line(out)
    assert inventory(aws, settings) == COMPLETE
    assert aws.call("ecs", "list_task_definitions")["taskDefinitionArns"] == revisions
    assert StateFile(second).progress


def test_a_new_deployment_is_asked_for_and_said(
    on_emulator,  # noqa: F811
    tmp_path: Path,
    capsys,
    monkeypatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    for command in (["status"], ["logs"], ["scale", "2"], ["rollback"], ["redeploy"]):
        code, out = main(capsys, *command, "--state", "nowhere.json")
        assert code == cli.BAD_INPUT, command
        assert "✗ StateFileMissing: nowhere.json does not exist" in out, command
    code, out = main(capsys, "deploy", "--yes", "--state", "nowhere.json")
    assert code == cli.BAD_INPUT and "run the same command with --new" in one_line(out)
    assert not (tmp_path / "nowhere.json").exists()

    (tmp_path / "there.json").write_text("{}")
    code, out = main(capsys, "deploy", "--new", "--state", "there.json")
    assert code == cli.BAD_INPUT
    assert "there.json exists already; --new starts a new deployment only" in one_line(out)


def test_options_typed_before_the_command_count(
    on_emulator,  # noqa: F811
    aws,
    settings,
    tmp_path: Path,
    capsys,
    monkeypatch,
) -> None:
    """`runbook --state X destroy` names X, not the default deployment; `runbook --dry-run
    destroy` deletes nothing; the same option typed on both sides with two values is refused.
    (argparse let a command's defaults overwrite what was typed before it.)"""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "fixed.toml").write_text(FIXED)
    code, out = main(capsys, "deploy", "--yes", "--new", "--config", "fixed.toml")
    assert code == cli.OK, out  # the default deployment
    default = tmp_path / "runbook-state.sandbox.json"  # main() adds --sandbox
    before = default.read_bytes()

    code, out = main(capsys, "--state", "mistyped.json", "destroy", "--yes")
    assert code == cli.BAD_INPUT, out
    assert "✗ StateFileMissing: mistyped.json does not exist" in one_line(out)

    code, out = main(capsys, "--dry-run", "destroy", "--yes")
    assert code == cli.OK, out
    assert inventory(aws, settings) == COMPLETE

    with pytest.raises(SystemExit) as refused:
        cli.main(["--state", "a.json", "destroy", "--yes", "--state", "b.json"])
    assert refused.value.code == cli.BAD_INPUT
    assert "--state is given twice, before and after the command" in capsys.readouterr().err

    assert inventory(aws, settings) == COMPLETE
    assert default.read_bytes() == before
