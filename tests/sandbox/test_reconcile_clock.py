"""The data plane's loop runs a part when the moment it asked for comes, on a clock the test
moves: "look again in a second" (a rollout in progress, a throttled launch) falls due a second
later, not only at the next sweep."""

from __future__ import annotations

from pathlib import Path

from runbook.sandbox import moto_state
from runbook.sandbox.dataplane import SWEEP_EVERY, DataPlane, World

ACCOUNT = "200000000099"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class LookAgainInASecond:
    """A part that, whenever asked, wants to be looked at again a second from then."""

    name = "look-again"

    def __init__(self, clock: Clock) -> None:
        self.clock, self.runs = clock, 0

    def reconcile(self) -> None:
        self.runs += 1

    def next_due(self) -> float:
        return self.clock() + 1.0


def test_a_part_is_run_when_the_moment_it_asked_for_comes(tmp_path: Path) -> None:
    clock = Clock()
    plane = DataPlane("http://127.0.0.1:9", parts=(), folder=tmp_path / "data", clock=clock)
    world = World(plane, ACCOUNT, "us-east-1")
    part = LookAgainInASecond(clock)
    world.parts.append(part)
    try:
        assert world.reconcile() == 1.0  # the first pass sweeps; it asks again in a second
        assert part.runs == 1
        clock.now += 0.5
        assert world.reconcile() == 0.5  # not yet: not run
        assert part.runs == 1
        clock.now += 0.5
        world.reconcile()  # its second has come, long before the next sweep
        assert part.runs == 2 and SWEEP_EVERY > 1.0
    finally:
        world.close()
        plane.stop()
        moto_state.unwatch(ACCOUNT)
