"""AWS's answers to what the app reads of a new account, for a scripted app with clients.

The app reads AWS itself, beside the engine's runs: the welcome's checks (preflight) and the
summary. A scripted engine given clients that botocore's Stubber answers shows those reads
as they are on a new account (a default VPC, nothing of ours yet), call by call, in AWS's
own shapes; a read not answered here fails the test (the Stubber's queue is exact).
"""

from __future__ import annotations

from collections.abc import Callable

from botocore.stub import Stubber

from runbook.settings import Settings
from tests.ui.scripted import ACCOUNT

VPC_ID = "vpc-0a1b2c3d4e5f60718"
SUBNETS = {"us-east-1a": "subnet-0a1b2c3d4e5f6071a", "us-east-1b": "subnet-0a1b2c3d4e5f6071b"}

Stub = Callable[[str], Stubber]
PREFLIGHT_SERVICES = ("sts", "ec2", "rds", "iam", "ecr")


def all_answered(stub: Stub, services: tuple[str, ...] = PREFLIGHT_SERVICES) -> bool:
    """Every answer queued for these clients has been read (a worker's reads are done)."""
    try:
        for service in services:
            stub(service).assert_no_pending_responses()
    except AssertionError:
        return False
    return True


def answer_preflight(stub: Stub, s: Settings, version: str) -> None:
    """The checks before we start, on a new account: who we are, the default VPC and its
    subnets, the database class on offer, no roles or repository of ours yet (version: the
    image's tag the engine looks for)."""
    stub("sts").add_response(
        "get_caller_identity",
        {"UserId": "AIDAEXAMPLE", "Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:user/dev"},
        {},
    )
    ec2 = stub("ec2")
    default = [{"Name": "isDefault", "Values": ["true"]}]
    ec2.add_response(
        "describe_vpcs",
        {"Vpcs": [{"VpcId": VPC_ID, "IsDefault": True, "CidrBlock": "172.31.0.0/16"}]},
        {"Filters": default},
    )
    ec2.add_response(
        "describe_subnets",
        {
            "Subnets": [
                {"SubnetId": subnet, "AvailabilityZone": zone, "VpcId": VPC_ID}
                for zone, subnet in SUBNETS.items()
            ]
        },
        {
            "Filters": [
                {"Name": "vpc-id", "Values": [VPC_ID]},
                {"Name": "default-for-az", "Values": ["true"]},
            ]
        },
    )
    d = s.database
    stub("rds").add_response(
        "describe_orderable_db_instance_options",
        {
            "OrderableDBInstanceOptions": [
                {
                    "Engine": "postgres",
                    "EngineVersion": f"{d.engine_version}.4",
                    "DBInstanceClass": d.instance_class,
                }
            ]
        },
        {"Engine": "postgres", "DBInstanceClass": d.instance_class, "MaxRecords": 100},
    )
    iam = stub("iam")
    iam.add_client_error(
        "get_role",
        "NoSuchEntity",
        f"The role with name {s.task_definition.execution_role} cannot be found.",
        404,
        expected_params={"RoleName": s.task_definition.execution_role},
    )
    iam.add_response(
        "list_roles", {"Roles": []}, {"PathPrefix": "/aws-service-role/ecs.amazonaws.com/"}
    )
    stub("ecr").add_client_error(
        "describe_images",
        "RepositoryNotFoundException",
        f"The repository with name '{s.task_definition.family}' does not exist in the registry "
        f"with id '{ACCOUNT}'",
        400,
        expected_params={
            "repositoryName": s.task_definition.family,
            "imageIds": [{"imageTag": version}],
        },
    )


def answer_summary_before_anything(stub: Stub, s: Settings) -> None:
    """The summary before section II: there is no load balancer to sum up."""
    stub("elbv2").add_client_error(
        "describe_load_balancers",
        "LoadBalancerNotFound",
        f"Load balancers '[{s.load_balancer.name}]' not found",
        400,
        expected_params={"Names": [s.load_balancer.name]},
    )
