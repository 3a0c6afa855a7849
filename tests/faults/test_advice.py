"""The advice fits the error: throttling is not a quota, a quota is not throttling."""

from __future__ import annotations

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    ReadTimeoutError,
    SSLError,
)

from runbook.errors import advice_for, problem_from
from runbook.recovery.faults import CONNECTION_LOST, THROTTLED, UNAVAILABLE, fault_of

QUOTA = "An account quota is reached"


def refused(code: str, status: int, message: str = "AWS's own words") -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status, "RetryAttempts": 0},
        },
        "CreateThing",
    )


@pytest.mark.parametrize(
    ("code", "status", "kind"),
    [
        ("RequestLimitExceeded", 503, THROTTLED),  # EC2: its name ends like a quota's
        ("Throttling", 400, THROTTLED),  # query services
        ("ThrottlingException", 400, THROTTLED),  # JSON services
        ("TooManyRequestsException", 429, THROTTLED),
        ("InternalError", 500, UNAVAILABLE),
        ("ServiceUnavailable", 503, UNAVAILABLE),
        ("ServerException", 500, UNAVAILABLE),
        ("InvalidGroup.NotFound", 400, None),
        ("LimitExceededException", 400, None),  # ECS, ECR, Logs...: a quota
    ],
)
def test_faults_are_told_from_refusals(code: str, status: int, kind: str | None) -> None:
    fault = fault_of(refused(code, status))
    assert (fault.kind if fault else None) == kind
    if fault:
        assert fault.maybe_applied is (kind != THROTTLED)


def test_throttling_is_advised_as_throttling_not_as_a_quota() -> None:
    for code, status in (("RequestLimitExceeded", 503), ("Throttling", 400)):
        problem = problem_from(refused(code, status, "Request limit exceeded."))
        assert problem.code == code
        assert "Request limit exceeded." in problem.message
        assert "throttling this account's requests" in problem.advice
        assert QUOTA not in problem.advice


def test_a_quota_is_advised_as_a_quota() -> None:
    for code in ("LimitExceeded", "LimitExceededException", "VcpuLimitExceeded"):
        assert advice_for(code).startswith(QUOTA)


def test_a_server_error_is_advised_as_aws_unavailable() -> None:
    problem = problem_from(refused("ServiceUnavailable", 503), sends=8, waited=41.6)
    assert problem.message == "AWS answered HTTP 503 (sent 8 times over 42 s): AWS's own words"
    assert "server error" in problem.advice


def test_a_lost_connection_is_advised_as_the_network() -> None:
    closed = ConnectionClosedError(endpoint_url="https://ec2.us-east-1.amazonaws.com")
    problem = problem_from(closed, "create_security_group")
    assert problem.code == "ConnectionClosedError"
    assert problem.message.startswith("The connection to AWS was lost: Connection was closed")
    assert "network" in problem.advice and "AWS_ENDPOINT_URL" in problem.advice
    assert fault_of(closed).maybe_applied  # sent, then lost: AWS may have done it
    never_sent = EndpointConnectionError(endpoint_url="https://ec2.example")
    assert fault_of(never_sent).kind == CONNECTION_LOST
    assert not fault_of(never_sent).maybe_applied
    slow = ReadTimeoutError(endpoint_url="https://ec2.example")
    assert fault_of(slow).maybe_applied


def test_a_certificate_problem_is_not_a_fault_to_retry() -> None:
    assert fault_of(SSLError(endpoint_url="https://ec2.example", error="bad cert")) is None
