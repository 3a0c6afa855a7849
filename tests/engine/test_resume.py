"""Killed at any moment, a deploy run again finishes the job without duplicating anything."""

from __future__ import annotations

import pytest

from runbook.events import CallMade, Event, Waiting
from tests.engine.helpers import COMPLETE, inventory

# A first deploy makes 25 changing calls; killing right after each one covers every gap
# between "AWS did it" and "we wrote it down".
MUTATING_CALLS = 25


class Killed(BaseException):
    """Like SIGKILL for our purposes: nothing after it runs, no handler catches it."""


def killer(after: int, kind: type = CallMade):
    seen = 0

    def listen(event: Event) -> None:
        nonlocal seen
        if isinstance(event, kind) and (kind is not CallMade or event.mutating):
            seen += 1
            if seen == after:
                raise Killed

    return listen


@pytest.mark.parametrize("after", range(1, MUTATING_CALLS + 1))
def test_killed_after_any_call_resumes_without_duplicates(
    make_runbook, aws, settings, after: int
) -> None:
    with pytest.raises(Killed):
        make_runbook(emit=killer(after)).deploy()
    make_runbook().deploy()
    assert inventory(aws, settings) == COMPLETE


def test_the_count_of_changing_calls_is_what_the_resume_test_covers(make_runbook, events) -> None:
    make_runbook().deploy()
    assert sum(1 for e in events if isinstance(e, CallMade) and e.mutating) == MUTATING_CALLS


@pytest.mark.parametrize("after", [1, 2])
def test_killed_while_waiting_resumes(make_runbook, aws, settings, after: int) -> None:
    with pytest.raises(Killed):
        make_runbook(emit=killer(after, Waiting)).deploy()
    make_runbook().deploy()
    assert inventory(aws, settings) == COMPLETE


def test_state_file_is_only_a_hint(make_runbook, aws, settings, state_path) -> None:
    """A state file that says 'done' for things that are gone does not stop a rebuild."""
    make_runbook().deploy()
    aws.client("ecs").delete_service(
        cluster="flask-todo-cluster", service="flask-todo-service", force=True
    )
    make_runbook().deploy()
    assert inventory(aws, settings) == COMPLETE


def test_discovery_never_builds_on_a_stale_hint(make_runbook, aws, state_path) -> None:
    """A state file with an old database host must not end up in the task definition."""
    first = make_runbook()
    for number in ("I", "II", "III", "IV"):
        first.apply(first.step(number))
    first.state.record("IV", "done", {"flask-todo-db.Endpoint.Address": "old-host.example"})
    later = make_runbook()  # a new run: the state file is all it remembers
    later.apply(later.step("V"))
    td = aws.client("ecs").describe_task_definition(taskDefinition="flask-todo")
    env = {
        e["name"]: e["value"]
        for e in td["taskDefinition"]["containerDefinitions"][0]["environment"]
    }
    assert env["DB_HOST"].endswith(".rds.amazonaws.com")


def test_preflight_and_section_i_read_the_network_once(make_runbook, aws) -> None:
    runbook = make_runbook()
    runbook.preflight()
    runbook.apply(runbook.step("I"))
    assert aws.calls["ec2.DescribeVpcs"] == 1 and aws.calls["ec2.DescribeSubnets"] == 1
