"""Engine test fixtures: clients whose every answer comes from botocore's Stubber."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from botocore.stub import Stubber

from runbook.aws import Aws


@pytest.fixture
def offline_aws() -> Aws:
    """Clients that never reach a network: every answer comes from a Stubber."""
    return Aws("us-east-1", credentials={"aws_access_key_id": "x", "aws_secret_access_key": "y"})


@pytest.fixture
def stub(offline_aws: Aws) -> Iterator:
    """stub("ecs") -> that client's Stubber; at the end every expected call was made, in order."""
    stubbers: dict[str, Stubber] = {}

    def get(service: str) -> Stubber:
        if service not in stubbers:
            stubbers[service] = Stubber(offline_aws.client(service))
            stubbers[service].activate()
        return stubbers[service]

    yield get
    for stubber in stubbers.values():
        stubber.assert_no_pending_responses()
        stubber.deactivate()
