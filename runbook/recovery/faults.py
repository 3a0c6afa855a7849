"""What kind of fault an AWS call met, whether AWS may have done it anyway, and the backoff."""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Literal

# The kinds of fault, named (their names are also the words reports count them by).
FaultKind = Literal["throttled", "AWS unavailable", "connection lost"]
THROTTLED: FaultKind = "throttled"
UNAVAILABLE: FaultKind = "AWS unavailable"
CONNECTION_LOST: FaultKind = "connection lost"

# botocore's standard retry mode's throttling codes (botocore/retries/standard.py,
# ThrottledRetryableChecker), less LimitExceededException: for ECS, ECR, CloudWatch Logs,
# Secrets Manager, ACM and Application Auto Scaling that code is a quota, not a rate.
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)
# botocore's transient codes and statuses (TransientRetryableChecker).
TRANSIENT_CODES = frozenset({"RequestTimeout", "RequestTimeoutException"})
TRANSIENT_STATUSES = frozenset({500, 502, 503, 504})


@dataclass(frozen=True)
class Fault:
    """A call that AWS neither did nor refused for a reason of ours: try again later."""

    kind: FaultKind
    code: str  # AWS's error code, or botocore's exception name for a lost connection
    message: str
    status: int = 0  # HTTP status; 0 when no answer came
    # Whether AWS may have carried the request out: a throttled request or one that never
    # left this machine was not; after a 5xx or a connection lost mid-way, nobody knows.
    maybe_applied: bool = True


def botocore_exceptions() -> ModuleType | None:
    """botocore's exceptions, if anything has loaded them; None otherwise.

    An exception can be one of botocore's only once botocore is loaded, so asking never
    imports it: a command that sends nothing (`runbook plan --offline`, `--help`) stays clear
    of botocore's import, which costs more than such a command's whole run.
    """
    return sys.modules.get("botocore.exceptions")


def is_client_error(exc: BaseException) -> bool:
    """AWS answered with an error (botocore's ClientError)."""
    found = botocore_exceptions()
    return found is not None and isinstance(exc, found.ClientError)


def error_code(exc: BaseException) -> str:
    """AWS's error code in a refusal ("" for anything else)."""
    if is_client_error(exc):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def kind_of(code: str, status: int = 0) -> FaultKind | None:
    """THROTTLED or UNAVAILABLE for an AWS answer that is a fault; None for a refusal."""
    if code in THROTTLING_CODES or status == 429:
        return THROTTLED
    if code in TRANSIENT_CODES or status in TRANSIENT_STATUSES:
        return UNAVAILABLE
    return None


def fault_of(exc: BaseException) -> Fault | None:
    """The fault an exception stands for; None when AWS refused (or it is not AWS's doing)."""
    boto = botocore_exceptions()
    if boto is None:
        return None  # botocore never loaded: nothing was sent
    if isinstance(exc, boto.ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        kind = kind_of(code, status)
        if kind is None:
            return None
        return Fault(kind, code, str(error.get("Message", "")), status, kind != THROTTLED)
    if isinstance(exc, boto.SSLError):
        return None  # a certificate problem does not heal by trying again
    not_connected = (
        boto.EndpointConnectionError | boto.ConnectTimeoutError | boto.ProxyConnectionError
    )
    if isinstance(exc, not_connected):
        # No connection was made: the request never reached AWS.
        return Fault(CONNECTION_LOST, type(exc).__name__, str(exc), maybe_applied=False)
    cut_off = boto.ConnectionClosedError | boto.HTTPClientError | boto.ConnectionError
    if isinstance(exc, cut_off):
        # Sent, then cut off (or timed out reading): AWS may have done it.
        return Fault(CONNECTION_LOST, type(exc).__name__, str(exc), maybe_applied=True)
    return None


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with equal jitter: half of each delay fixed, half random.

    Throttling starts at 1 s, as botocore's standard mode does; a server error or a lost
    connection at 0.5 s (botocore: 50 ms), so a blip of a few seconds is ridden out. With
    8 sends, a throttled call keeps trying for 35 to 71 s before it is reported.
    """

    sends: int = 8  # the first one included
    throttled_base: float = 1.0
    other_base: float = 0.5
    cap: float = 20.0
    random: Callable[[], float] = field(default=random.random, compare=False)

    def delay(self, fault: Fault, failed_sends: int) -> float | None:
        """Seconds to wait before the next send; None when the sends are used up."""
        if failed_sends >= self.sends:
            return None
        base = self.throttled_base if fault.kind == THROTTLED else self.other_base
        ceiling = min(base * 2 ** (failed_sends - 1), self.cap)
        return ceiling / 2 + self.random() * ceiling / 2
