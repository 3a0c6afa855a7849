"""Timings: instant by default, AWS's shape on request, scaled; bad input says what is allowed."""

from __future__ import annotations

import pytest

from runbook.sandbox.timings import AWS_SECONDS, INSTANT_HEALTH_INTERVAL, Timings, TimingsError


def test_instant_waits_for_nothing_but_health_checks_keep_some_spacing() -> None:
    instant = Timings.parse("instant")
    assert instant == Timings() and str(instant) == "instant"
    assert instant.seconds("db_creating") == 0
    assert instant.health_interval(15) == INSTANT_HEALTH_INTERVAL


def test_aws_shapes_are_scaled_by_the_factor() -> None:
    tenth = Timings.parse("aws:0.1")
    assert str(tenth) == "aws:0.1" and str(Timings.parse("aws")) == "aws"
    assert tenth.seconds("db_creating") == pytest.approx(AWS_SECONDS["db_creating"] / 10)
    assert tenth.health_interval(15) == pytest.approx(1.5)
    assert AWS_SECONDS["db_creating"] >= 300  # RDS: minutes


@pytest.mark.parametrize("text", ["fast", "aws:0", "aws:-1", "aws:x", "instant:2", "aws:50"])
def test_anything_else_is_refused_with_the_forms_allowed(text: str) -> None:
    with pytest.raises(TimingsError, match="instant, aws, or aws:FACTOR"):
        Timings.parse(text)
