"""The proxy's faults parse, in botocore, into the very errors real AWS answers give."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError

from runbook.sandbox import CREDENTIALS, Emulator
from tests.faults.proxy import (
    DROP,
    LOST,
    NEW_SECURITY_GROUP,
    FaultProxy,
    Rule,
    Schedule,
)
from tests.faults.wire import ERROR_500, ERROR_503, SERVICES, THROTTLE, fault_codes, protocol

# One cheap read per service, to be answered with a fault.
READS: dict[str, tuple[str, dict[str, Any]]] = {
    "ec2": ("describe_vpcs", {}),
    "elbv2": ("describe_load_balancers", {}),
    "rds": ("describe_db_instances", {}),
    "iam": ("list_roles", {}),
    "sts": ("get_caller_identity", {}),
    "ecs": ("list_clusters", {}),
    "logs": ("describe_log_groups", {}),
    "secretsmanager": ("list_secrets", {}),
    "ecr": ("describe_repositories", {}),
    "acm": ("list_certificates", {}),
    "route53": ("list_hosted_zones", {}),
    "application-autoscaling": ("describe_scalable_targets", {"ServiceNamespace": "ecs"}),
    "resourcegroupstaggingapi": ("get_resources", {}),
}
# What real AWS answers, per protocol (see tests/faults/wire.py for the sources).
EXPECTED = {
    ("ec2", THROTTLE): ("RequestLimitExceeded", 503),
    ("ec2", ERROR_500): ("InternalError", 500),
    ("ec2", ERROR_503): ("Unavailable", 503),
    ("elbv2", THROTTLE): ("Throttling", 400),
    ("rds", THROTTLE): ("Throttling", 400),
    ("iam", THROTTLE): ("Throttling", 400),
    ("iam", ERROR_500): ("ServiceFailure", 500),
    ("route53", THROTTLE): ("Throttling", 400),
    ("ecs", THROTTLE): ("ThrottlingException", 400),
    ("ecs", ERROR_500): ("ServerException", 500),
    ("logs", THROTTLE): ("ThrottlingException", 400),
    ("secretsmanager", THROTTLE): ("ThrottlingException", 400),
    ("ecr", THROTTLE): ("ThrottlingException", 400),
    ("resourcegroupstaggingapi", THROTTLE): ("ThrottledException", 400),
    ("resourcegroupstaggingapi", ERROR_500): ("InternalServiceException", 500),
    ("rds", ERROR_503): ("ServiceUnavailable", 503),
    ("ecs", ERROR_503): ("ServiceUnavailable", 503),
}


# One account for the whole module: nothing here depends on what others made.
ACCOUNT = "300000000000"


@cache
def _session() -> boto3.Session:
    return boto3.Session(region_name="us-east-1", **CREDENTIALS)


@cache
def _client(url: str, service: str, attempts: int) -> Any:
    made = _session().client(
        service,
        endpoint_url=url,
        config=Config(retries={"mode": "standard", "total_max_attempts": attempts}),
    )
    made.meta.events.register(
        "before-sign",
        lambda request, **_: request.headers.__setitem__("x-moto-account-id", ACCOUNT),
    )
    return made


def client(proxy: FaultProxy, service: str, attempts: int) -> Any:
    return _client(proxy.url, service, attempts)


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore's own retries, without their real sleep."""
    from botocore.retries import standard

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)


@pytest.mark.parametrize("kind", [THROTTLE, ERROR_500, ERROR_503])
@pytest.mark.parametrize("service", SERVICES)
def test_faults_parse_like_awss_own(
    proxy: FaultProxy, service: str, kind: str, no_backoff: None
) -> None:
    operation, params = READS[service]
    code, message, status = fault_codes(service, kind)
    assert (code, status) == EXPECTED.get((service, kind), (code, status))

    proxy.schedule = Schedule(Rule(kind, service))
    with pytest.raises(ClientError) as caught:
        getattr(client(proxy, service, attempts=1), operation)(**params)
    answer = caught.value.response
    assert answer["Error"]["Code"] == code
    assert answer["Error"]["Message"] == message
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == status
    assert answer["ResponseMetadata"]["RetryAttempts"] == 0
    if protocol(service) in ("query", "rest-xml"):
        assert answer["Error"]["Type"] == ("Receiver" if status >= 500 else "Sender")

    # botocore's standard mode takes it for what it is: a fault to retry, not a refusal.
    proxy.schedule = Schedule(Rule(kind, service))
    done = getattr(client(proxy, service, attempts=2), operation)(**params)
    assert done["ResponseMetadata"]["RetryAttempts"] == 1


def log_groups(emulator: Emulator, prefix: str) -> list[str]:
    """What really exists, asked of the emulator itself."""
    logs = _client(emulator.url, "logs", 1)
    return [
        g["logGroupName"] for g in logs.describe_log_groups(logGroupNamePrefix=prefix)["logGroups"]
    ]


def test_a_dropped_connection_never_reaches_the_emulator(
    proxy: FaultProxy, emulator: Emulator
) -> None:
    proxy.schedule = Schedule(Rule(DROP, "logs", {"CreateLogGroup"}))
    logs = client(proxy, "logs", attempts=1)
    with pytest.raises(ConnectionClosedError):
        logs.create_log_group(logGroupName="wire-dropped")
    assert log_groups(emulator, "wire-dropped") == []


def test_a_lost_answer_leaves_the_thing_made(proxy: FaultProxy, emulator: Emulator) -> None:
    proxy.schedule = Schedule(Rule(LOST, "logs", {"CreateLogGroup"}))
    logs = client(proxy, "logs", attempts=1)
    with pytest.raises(ConnectionClosedError):
        logs.create_log_group(logGroupName="wire-made")
    assert log_groups(emulator, "wire-made") == ["wire-made"]
    assert proxy.schedule.injected == {LOST: 1}


def test_a_new_group_is_not_visible_for_a_while(proxy: FaultProxy, no_backoff: None) -> None:
    proxy.schedule = Schedule(not_yet=[NEW_SECURITY_GROUP])
    ec2 = client(proxy, "ec2", attempts=3)  # botocore never retries a NotFound
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    group = ec2.create_security_group(GroupName="wire", Description="new", VpcId=vpc)["GroupId"]
    rule = {
        "IpProtocol": "tcp",
        "FromPort": 80,
        "ToPort": 80,
        "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
    }
    for _ in range(NEW_SECURITY_GROUP.times):
        with pytest.raises(ClientError) as caught:
            ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[rule])
        answer = caught.value.response
        assert answer["Error"]["Code"] == "InvalidGroup.NotFound"
        assert group in answer["Error"]["Message"]
        assert answer["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert answer["ResponseMetadata"]["RetryAttempts"] == 0
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[rule])


def test_rest_xml_requests_are_told_apart(proxy: FaultProxy) -> None:
    route53 = client(proxy, "route53", attempts=1)
    zone = route53.create_hosted_zone(Name="example.com", CallerReference="wire")["HostedZone"]
    route53.list_resource_record_sets(HostedZoneId=zone["Id"])
    assert proxy.requests["route53.CreateHostedZone"] == 1
    assert proxy.requests["route53.ListResourceRecordSets"] == 1
