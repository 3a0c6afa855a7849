"""The deployment circuit breaker's threshold, as ECS documents it: half the desired count,
at least 3, at most 200 failed tasks (deployment-circuit-breaker.html)."""

from __future__ import annotations

import pytest

from runbook.sandbox.ecs.circuit_breaker import failure_threshold


@pytest.mark.parametrize(
    ("desired", "threshold"),
    [(0, 3), (1, 3), (6, 3), (10, 5), (100, 50), (400, 200), (1000, 200)],
)
def test_the_threshold_is_half_the_desired_count_from_3_to_200(
    desired: int, threshold: int
) -> None:
    assert failure_threshold(desired) == threshold
