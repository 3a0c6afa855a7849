"""Throttling, server errors, dropped connections and eventual consistency never fail a run.

And when they go on for longer than the runbook waits, the message says what happened.
"""

from __future__ import annotations

import pytest

from runbook import destroy as tear_down
from runbook.errors import RunbookError
from runbook.events import CallMade
from runbook.recovery.faults import CONNECTION_LOST, THROTTLED, UNAVAILABLE
from tests.engine.helpers import COMPLETE, inventory
from tests.faults.proxy import DROP, EVENTUAL_CONSISTENCY, NOT_PLANNED, NOT_YET, Rule, Schedule
from tests.faults.wire import ERROR_500, ERROR_503, THROTTLE


def bursts() -> Schedule:
    """Each distinct request meets a throttle, a 500, a 503 and a dropped connection in a
    row before it gets through; new groups, roles and listeners are not visible at first."""
    return Schedule(
        *(
            Rule(kind, times=None, each_request=True, spare=NOT_PLANNED)
            for kind in (THROTTLE, ERROR_500, ERROR_503, DROP)
        ),
        not_yet=EVENTUAL_CONSISTENCY,
    )


def test_deploy_and_destroy_ride_out_bursts_of_every_fault(
    make_runbook, proxy, aws, truth, settings, events
) -> None:
    sleeps: list[float] = []
    proxy.schedule = bursts()
    runbook = make_runbook(sleep=sleeps.append)
    runbook.deploy()
    assert inventory(truth, settings) == COMPLETE
    injected = proxy.schedule.injected
    assert injected[THROTTLE] == injected[ERROR_500] == injected[ERROR_503] == injected[DROP]
    assert injected[THROTTLE] > 30  # distinct requests of a deploy
    assert aws.retried[THROTTLED] and aws.retried[UNAVAILABLE] and aws.retried[CONNECTION_LOST]
    not_yet = {op for _, op, kind in proxy.schedule.log if kind == NOT_YET}
    assert not_yet == {
        "AuthorizeSecurityGroupIngress",
        "CreateLoadBalancer",
        "CreateCluster",
        "RegisterTaskDefinition",
        "CreateService",
    }
    assert len(sleeps) >= 4 * injected[THROTTLE]  # every backoff: the injected sleep
    assert max(sleeps) <= 30

    tear_down.run(runbook, tear_down.plan(runbook))
    assert sum(inventory(truth, settings).values()) == 0


@pytest.mark.parametrize(
    ("kind", "code", "says", "advice"),
    [
        (THROTTLE, "RequestLimitExceeded", "AWS throttled the request", "throttling"),
        (ERROR_503, "Unavailable", "AWS answered HTTP 503", "server error"),
        (ERROR_500, "InternalError", "AWS answered HTTP 500", "server error"),
        (DROP, "ConnectionClosedError", "The connection to AWS was lost", "network"),
    ],
)
def test_when_the_sends_run_out_the_message_says_what_happened(
    make_runbook, proxy, events, kind: str, code: str, says: str, advice: str
) -> None:
    sleeps: list[float] = []
    proxy.schedule = Schedule(Rule(kind, "ec2", {"CreateSecurityGroup"}, times=None))
    runbook = make_runbook(sleep=sleeps.append)
    with pytest.raises(RunbookError) as caught:
        runbook.apply(runbook.step("I"))
    problem = caught.value.problem
    assert problem.code == code
    assert problem.message.startswith(f"{says} (sent 8 times over ")
    assert advice in problem.advice and "run again" in problem.advice
    assert "quota" not in problem.advice and "delete" not in problem.advice
    # Seven waits, each within its doubling step (equal jitter), none of them real.
    base = 1.0 if kind == THROTTLE else 0.5
    assert len(sleeps) == 7
    for n, slept in enumerate(sleeps):
        ceiling = min(base * 2**n, 20)
        assert ceiling / 2 <= slept <= ceiling
    outcomes = [e.outcome for e in events if isinstance(e, CallMade)]
    assert outcomes == [f"{code}, sending again"] * 7 + [code]


def test_a_read_that_stays_throttled_is_reported_as_throttling(make_runbook, proxy) -> None:
    proxy.schedule = Schedule(Rule(THROTTLE, "ec2", {"DescribeVpcs"}, times=None))
    runbook = make_runbook()
    with pytest.raises(RunbookError) as caught:
        runbook.apply(runbook.step("I"))
    assert caught.value.problem.code == "RequestLimitExceeded"
    assert "throttling this account's requests" in caught.value.problem.advice
    assert runbook.state.get("I").status == "failed"
