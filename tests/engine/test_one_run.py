"""One run per deployment: the lock beside the state file, held by real processes.

A run that would change the deployment while another holds it waits, naming the other run
(its command and process id), or refuses at once with --no-wait; read-only commands never
wait; a holder killed with SIGKILL lets go at once (the kernel releases its flock), and the
next run says it takes over.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from runbook import cli
from runbook.run_lock import Busy, RunLock, lock_path
from runbook.settings import Settings, to_record
from runbook.state import StateFile
from tests.engine.test_cli_truth import main, on_emulator  # noqa: F401 (a fixture)

HOLDER = """
import sys
from pathlib import Path
from runbook.run_lock import RunLock

lock = RunLock(Path(sys.argv[1]), "runbook deploy --yes --sandbox")
lock.acquire()
print("held", flush=True)
sys.stdin.read()  # until the test closes stdin (let go) or kills this process
lock.release()
"""


@pytest.fixture
def state(tmp_path: Path) -> Path:
    """The deployment's state file, whose lock the holder and the runs share."""
    return tmp_path / "state.json"


@pytest.fixture
def holder(state: Path) -> Iterator[subprocess.Popen[str]]:
    """Another run, in its own process, holding the lock of tmp/state.json."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(state)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stdout.readline() == "held\n"
    yield process
    if process.poll() is None:
        process.kill()
    process.wait(timeout=30)


def one_line(out: str) -> str:
    return " ".join(out.split())


def test_a_second_run_refuses_at_once_with_no_wait_naming_the_other(
    on_emulator,  # noqa: F811
    holder: subprocess.Popen[str],
    state: Path,
    capsys,
) -> None:
    notes = str(Path(__file__).resolve().parents[1] / "apps" / "notes")
    commands = (
        ["deploy", "--yes", "--new"],
        ["destroy", "--yes"],
        ["scale", "2"],
        ["init", notes, "--yes"],  # it records [app] in the same state file
    )
    for command in commands:
        code, out = main(capsys, *command, "--no-wait", "--state", str(state))
        assert code == cli.FAILED, (command, out)
        said = one_line(out)
        assert "✗ DeploymentBusy: another run changes this deployment now: " in said
        assert f"`runbook deploy --yes --sandbox` (process {holder.pid}, since " in said
        assert "nothing was done" in said
    assert not state.exists()


def test_read_only_commands_never_wait(
    on_emulator,  # noqa: F811
    holder: subprocess.Popen[str],
    tmp_path: Path,
    capsys,
    monkeypatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    fixed = Settings().replace("database", instance_class="db.t4g.micro")
    StateFile(tmp_path / "state.json").record_settings(to_record(fixed))

    def no_waiting(*_args: object, **_kwargs: object) -> None:
        pytest.fail("a read-only command asked for the lock")

    monkeypatch.setattr(RunLock, "acquire", no_waiting)
    for command in (["status"], ["plan"], ["destroy", "--dry-run"], ["deploy", "--dry-run"]):
        code, out = main(capsys, *command, "--state", "state.json")
        assert code == cli.OK, (command, out)
        assert "Waiting for another run" not in out


def test_a_killed_holder_lets_go_and_the_next_run_takes_over(
    on_emulator,  # noqa: F811
    holder: subprocess.Popen[str],
    state: Path,
    capsys,
) -> None:
    holder.kill()  # SIGKILL: it never lets go itself
    holder.wait(timeout=30)
    code, out = main(capsys, "deploy", "--yes", "--new", "--no-wait", "--state", str(state))
    assert code == cli.OK, out
    said = one_line(out)
    assert (
        f"The last run of this deployment, `runbook deploy --yes --sandbox` (process "
        f"{holder.pid}, since "
    ) in said
    assert "ended without letting go of it (it was killed); this run takes over." in said
    # This run let go on purpose: the next one finds no one to take over from.
    assert lock_path(state).read_text() == ""
    code, out = main(capsys, "deploy", "--yes", "--no-wait", "--state", str(state))
    assert code == cli.OK and "ended without letting go" not in out


def test_a_waiting_run_names_the_holder_and_goes_on_once_it_lets_go(
    holder: subprocess.Popen[str], state: Path
) -> None:
    said: list[str] = []
    looks = 0

    def sleep(_seconds: float) -> None:  # the holder lets go during the third wait
        nonlocal looks
        looks += 1
        if looks == 3:
            assert holder.stdin is not None
            holder.stdin.close()
            holder.wait(timeout=30)

    lock = RunLock(state, "runbook scale 2")
    lock.acquire(tell=said.append, sleep=sleep)
    try:
        assert said[0].startswith(
            "Waiting for another run of this deployment to end: `runbook deploy --yes "
            f"--sandbox` (process {holder.pid}, since "
        )
        assert said[1:] == ["The other run ended; this one goes on."]
        assert looks == 3
    finally:
        lock.release()


def test_a_holder_that_has_not_written_who_it_is_yet_is_read_again(tmp_path: Path) -> None:
    """A run takes the lock, then writes who it is: a waiter arriving between the two reads
    again for a moment and names the command, not "a run that has not described itself"."""
    state = tmp_path / "state.json"
    path = lock_path(state)
    taken = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(taken, fcntl.LOCK_EX | fcntl.LOCK_NB)  # held, nothing written yet
    looks = 0

    def sleep(_seconds: float) -> None:  # the holder writes itself during the first look
        nonlocal looks
        looks += 1
        path.write_text('{"command": "runbook deploy --yes", "pid": 7, "since": 0}')

    try:
        with pytest.raises(Busy) as busy:
            RunLock(state, "runbook scale 2").acquire(wait=False, sleep=sleep)
        assert "`runbook deploy --yes` (process 7" in busy.value.problem.message
        assert looks == 1
    finally:
        os.close(taken)


def test_a_description_that_is_not_ours_is_shown_as_text_only(tmp_path: Path) -> None:
    path = lock_path(tmp_path / "state.json")
    path.write_text('{"command": "[red]x\\u001b[2J", "pid": 1, "since": 0}')
    said: list[str] = []
    with RunLock(tmp_path / "state.json", "runbook deploy") as lock:
        lock.acquire(tell=said.append)
        assert lock.left_by is not None and lock.left_by.command == "[red]x?[2J"
    path.write_text("not json at all")
    said.clear()
    with RunLock(tmp_path / "state.json", "runbook deploy") as lock:
        lock.acquire(tell=said.append)
        assert lock.left_by is None and said == []


@pytest.mark.parametrize(
    ("argv", "holds"),
    [
        ([], True),  # the app, for its whole session
        (["--sandbox"], True),
        (["--dry-run"], False),
        (["deploy", "--yes"], True),
        (["deploy", "--dry-run"], False),
        (["destroy"], True),
        (["destroy", "--dry-run"], False),
        (["scale", "2"], True),
        (["rollback"], True),
        (["redeploy"], True),
        (["status"], False),
        (["plan"], False),
        (["logs"], False),
        (["export"], False),
    ],
)
def test_which_commands_hold_the_deployment(argv: list[str], holds: bool) -> None:
    from runbook.cli.named import changes
    from runbook.cli.parser import make_parser

    assert changes(make_parser().parse_args(argv)) is holds
