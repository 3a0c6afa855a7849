"""AWS errors a person can act on: AWS's code and message, and what to do next."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

from runbook.recovery.faults import (
    CONNECTION_LOST,
    THROTTLED,
    UNAVAILABLE,
    botocore_exceptions,
    fault_of,
    kind_of,
)
from runbook.recovery.faults import error_code as error_code  # read here by steps and the app

NO_CREDENTIALS_ADVICE = (
    "Configure AWS credentials (`aws configure`, AWS_PROFILE, or AWS_ACCESS_KEY_ID and "
    "AWS_SECRET_ACCESS_KEY), or try it without an account: add --sandbox to run against "
    "the local emulator, or use --dry-run / `runbook plan` to see every call."
)

ADVICE: dict[str, str] = {
    "AccessDenied": "Your credentials lack a permission this step needs (the message names it). "
    "Use a role or user that has it, or ask an administrator to grant it.",
    "UnauthorizedOperation": "Your credentials lack a permission this step needs. "
    "Use a role or user with EC2 rights in this region.",
    "ExpiredToken": "Your session credentials expired: refresh them (aws sso login, or "
    "new keys) and run again; the runbook resumes where it stopped.",
    "InvalidClientTokenId": "AWS does not recognise these access keys: check AWS_PROFILE "
    "or the keys in your environment.",
    "DependencyViolation": "Another resource still uses this one (often a network interface "
    "AWS has not released yet). Wait a minute and run again.",
    "InvalidParameterCombination": "AWS refused this combination of settings. For RDS this "
    "is usually the instance class: choose db.t4g.micro or db.t3.micro and run again.",
    "InvalidParameterValue": "AWS refused a value: change the field named in the message "
    "and run again.",
    "InsufficientDBInstanceCapacity": "RDS has no capacity for this class here right now: "
    "choose another class (db.t4g.micro or db.t3.micro) and run again.",
    "ServiceNotStable": "The service did not become healthy. Read the service events and "
    "stopped-task reasons above; fix the image or settings and run again.",
    "DBInstanceFailed": "RDS could not bring the database up; its events (above, or the "
    "console's Events page for the instance) say why. On AWS a failed instance stays failed: "
    "restore it to a point in time, or delete it (runbook destroy) and run again. In the "
    "sandbox it is tried again by itself: remove the cause named above and run again.",
    "LoadBalancerFailed": "The load balancer could not be provisioned (AWS's reason is above). "
    "Check its subnets (two Availability Zones) and security group, delete it (runbook "
    "destroy) and run again.",
    "CertificateFailed": "ACM could not issue the certificate (its reason is above). Check that "
    "the domain's hosted zone is in this account and answers for the domain; ACM does not try "
    "a failed certificate again, so delete it (runbook destroy) and run again.",
    "WaitFailed": "What the runbook waited for ended in a failed state (the reason is above): "
    "fix what it names and run again; the runbook resumes.",
    "ImageNotFound": "Build and push the image first (commands above), then run again.",
}

# Faults the runbook already retried with backoff: what happened, and that a rerun is safe.
FAULT_ADVICE: dict[str, str] = {
    THROTTLED: "AWS is throttling this account's requests (too many at once, perhaps from "
    "other tools too); the runbook backed off and retried. Wait a minute and run again: it "
    "resumes where it stopped and makes nothing twice.",
    UNAVAILABLE: "AWS answered with a server error again and again: the service is having "
    "trouble in this region. Wait a few minutes (health.aws.amazon.com shows outages) and "
    "run again: it resumes where it stopped and makes nothing twice.",
    CONNECTION_LOST: "The connection to AWS was lost (network, proxy or VPN, or the "
    "endpoint). Check the network, the region, and AWS_ENDPOINT_URL if you set it, then run "
    "again: it resumes and finds what was already made.",
}

SUFFIX_ADVICE: dict[str, str] = {
    "LimitExceeded": "An account quota is reached: delete what you no longer use, or request "
    "an increase in the Service Quotas console, then run again.",
    "QuotaExceeded": "An account quota is reached: delete what you no longer use, or request "
    "an increase in the Service Quotas console, then run again.",
    "NotFound": "It no longer exists (removed outside the runbook?). Run again: the runbook "
    "re-discovers what exists and recreates what is missing.",
    "AccessDeniedException": ADVICE["AccessDenied"],
    "AlreadyExists": "A resource with this name exists and is not ours to use. Choose another "
    "name, or remove that resource, and run again.",
}


# A wait that ended in a failed state, by the service it polls: the code names what failed,
# so the advice is about that resource (a database is not "the service did not become healthy").
WAIT_FAILED = {
    "ecs": "ServiceNotStable",
    "rds": "DBInstanceFailed",
    "elbv2": "LoadBalancerFailed",
    "acm": "CertificateFailed",
}


def wait_failed_code(service: str) -> str:
    return WAIT_FAILED.get(service, "WaitFailed")


@dataclass(frozen=True)
class Problem:
    """Something went wrong: what, in AWS's words, and what to do next."""

    code: str
    message: str
    advice: str
    operation: str = ""

    def __str__(self) -> str:
        where = f" ({self.operation})" if self.operation else ""
        return f"{self.code}{where}: {self.message}\nWhat to do: {self.advice}"


class RunbookError(Exception):
    def __init__(self, problem: Problem, details: tuple[str, ...] = ()) -> None:
        super().__init__(str(problem))
        self.problem = problem
        self.details = details


def advice_for(code: str, status: int = 0) -> str:
    # Faults first: RequestLimitExceeded is throttling, not the quota its suffix suggests.
    kind = kind_of(code, status)
    if kind is not None:
        return FAULT_ADVICE[kind]
    if code in ADVICE:
        return ADVICE[code]
    for suffix, text in SUFFIX_ADVICE.items():
        if code.endswith(suffix) or suffix in code:
            return text
    return "Read AWS's message above, change what it names, and run again: the runbook resumes."


def problem_from(
    exc: BaseException, operation: str = "", *, sends: int = 0, waited: float = 0.0
) -> Problem:
    """The problem in AWS's words; `sends` and `waited` say how hard the runbook tried."""
    if isinstance(exc, RunbookError):
        return exc.problem
    fault = fault_of(exc)
    if fault is not None:
        tried = ""
        if sends > 1:
            tried = f" (sent {sends} times over {waited:.0f} s)"
        message = {
            THROTTLED: "AWS throttled the request",
            UNAVAILABLE: f"AWS answered HTTP {fault.status}",
            CONNECTION_LOST: "The connection to AWS was lost",
        }[fault.kind]
        return Problem(
            fault.code,
            f"{message}{tried}: {fault.message}",
            FAULT_ADVICE[fault.kind],
            operation,
        )
    boto = botocore_exceptions()  # None: botocore never loaded, so it is none of its errors
    if boto is not None:
        aws = _botocore_problem(boto, exc, operation)
        if aws is not None:
            return aws
    return Problem(type(exc).__name__, str(exc), "This is a bug in the runbook: please report it.")


def _botocore_problem(boto: ModuleType, exc: BaseException, operation: str) -> Problem | None:
    if isinstance(exc, boto.ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code", "Unknown")
        return Problem(code, error.get("Message", str(exc)), advice_for(code), operation)
    if isinstance(exc, boto.NoCredentialsError | boto.PartialCredentialsError):
        return Problem("NoCredentials", "No AWS credentials were found.", NO_CREDENTIALS_ADVICE)
    if isinstance(exc, boto.NoRegionError):
        return Problem("NoRegion", "No AWS region is set.", "Set AWS_REGION or --region.")
    if isinstance(exc, boto.BotoCoreError):
        return Problem(type(exc).__name__, str(exc), "Check your AWS configuration.", operation)
    return None


def is_aws_error(exc: BaseException) -> bool:
    """One of botocore's errors (AWS's refusal, or the SDK's own), without importing it."""
    boto = botocore_exceptions()
    return boto is not None and isinstance(exc, boto.ClientError | boto.BotoCoreError)
