"""Named states: a state file of any version still reads, and a call's result is named, so that
nothing has to read it out of the words meant for people."""

from __future__ import annotations

import json
from pathlib import Path
from typing import get_args

import pytest

from runbook.errors import RunbookError
from runbook.events import CallMade, CallResult
from runbook.executor import Executor
from runbook.plan import ApiCall
from runbook.state import STATUSES, SectionStatus, StateFile


def test_a_state_file_written_before_the_states_were_named_still_reads(tmp_path: Path) -> None:
    # A version 1 file (no settings), one section in every status a runbook ever wrote.
    old = {
        "version": 1,
        "target": "aws",
        "sections": {
            number: {"status": status, "outputs": {}, "error": "", "updated_at": 1.0}
            for number, status in zip(
                ("I", "II", "III", "IV", "V"),
                ("to do", "running", "done", "failed", "skipped"),
                strict=True,
            )
        },
    }
    path = tmp_path / "runbook-state.json"
    path.write_text(json.dumps(old))
    state = StateFile(path)
    assert state.damaged == ""
    assert [state.get(n).status for n in ("I", "II", "III", "IV", "V")] == list(STATUSES)
    assert get_args(SectionStatus) == STATUSES and state.progress


def test_a_status_no_runbook_wrote_is_refused_not_guessed(tmp_path: Path) -> None:
    path = tmp_path / "runbook-state.json"
    path.write_text(json.dumps({"version": 2, "sections": {"I": {"status": "finished"}}}))
    assert "unknown status 'finished'" in StateFile(path).damaged


def delete_group() -> ApiCall:
    return ApiCall(
        "ec2",
        "delete_security_group",
        {"GroupId": "sg-1"},
        "delete flask-todo-db-sg",
        "I",
        retry_on=("DependencyViolation",),
        done_on=("InvalidGroup.NotFound",),
    )


def test_each_call_says_its_result_by_name_beside_the_words(stub, offline_aws) -> None:
    ec2 = stub("ec2")
    ec2.add_client_error("delete_security_group", "DependencyViolation", "in use")
    ec2.add_response("delete_security_group", {})
    ec2.add_client_error("delete_security_group", "InvalidGroup.NotFound", "gone")
    ec2.add_client_error("delete_security_group", "UnauthorizedOperation", "no")
    events: list = []
    run = Executor(offline_aws, {}, events.append, sleep=lambda _: None)
    run.call(delete_group())  # in use, then deleted
    run.call(delete_group())  # deleted already
    with pytest.raises(RunbookError):
        run.call(delete_group())  # refused
    made = [(e.result, e.outcome) for e in events if isinstance(e, CallMade)]
    assert made == [
        ("sending again", "DependencyViolation, sending again"),
        ("ok", "ok"),
        ("already done", "already done"),
        ("failed", "UnauthorizedOperation"),
    ]
    assert {result for result, _ in made} == set(get_args(CallResult))
