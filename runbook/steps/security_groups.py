"""Section I: three security groups in the default VPC, each open only to the one before it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runbook.aws import Aws
from runbook.errors import Problem, RunbookError
from runbook.plan import Action, ApiCall, Ref, tags
from runbook.resources import security_group
from runbook.settings import Settings
from runbook.steps.base import Observed, Resource, Step, adopt, tag_check, tagged
from runbook.words import count

VPC = "default-vpc.VpcId"
SUBNETS = "default-vpc.SubnetIds"


def group_id(name: str) -> Ref:
    return Ref(f"{name}.GroupId")


def _rules(s: Settings) -> list[tuple[str, str, int, str | None]]:
    """(group, description, port, source group or None for the internet), in guide order."""
    sg = s.security_groups
    return [
        (sg.elb_sg, "HTTP from the internet to the load balancer", sg.listener_port, None),
        (sg.ecs_sg, "app port, from the load balancer only", sg.app_port, sg.elb_sg),
        (sg.db_sg, "PostgreSQL, from the app tasks only", sg.db_port, sg.ecs_sg),
    ]


def _allows(group: dict[str, Any], port: int, source_id: str | None) -> bool:
    for perm in group.get("IpPermissions", []):
        if perm.get("IpProtocol") != "tcp" or perm.get("FromPort") != port:
            continue
        if source_id is None and any(r.get("CidrIp") == "0.0.0.0/0" for r in perm["IpRanges"]):
            return True
        if source_id and any(p.get("GroupId") == source_id for p in perm["UserIdGroupPairs"]):
            return True
    return False


def discover_default_vpc(aws: Aws) -> dict[str, Any]:
    vpcs = aws.call("ec2", "describe_vpcs", Filters=[{"Name": "isDefault", "Values": ["true"]}])
    if not vpcs["Vpcs"]:
        raise RunbookError(
            Problem(
                "NoDefaultVpc",
                f"There is no default VPC in {aws.region}.",
                "Create one with `aws ec2 create-default-vpc` (or in the VPC console), "
                "then run again.",
            )
        )
    vpc_id = vpcs["Vpcs"][0]["VpcId"]
    subnets = aws.call(
        "ec2",
        "describe_subnets",
        Filters=[
            {"Name": "vpc-id", "Values": [vpc_id]},
            {"Name": "default-for-az", "Values": ["true"]},
        ],
    )["Subnets"]
    by_zone = {net["AvailabilityZone"]: net["SubnetId"] for net in subnets}
    if len(by_zone) < 2:
        raise RunbookError(
            Problem(
                "TooFewZones",
                f"The default VPC {vpc_id} has subnets in "
                f"{count(len(by_zone), 'Availability Zone')}; a load balancer needs two or more.",
                "Add a default subnet in another zone: `aws ec2 create-default-subnet "
                "--availability-zone <zone>`, then run again.",
            )
        )
    return {VPC: vpc_id, SUBNETS: [by_zone[zone] for zone in sorted(by_zone)]}


class SecurityGroupsStep(Step):
    number = "I"
    key = "security_groups"
    title = "Security groups"
    explanation = (
        "Three security groups in the default VPC, chained so each layer only hears the one "
        "before it: the load balancer takes HTTP from the internet, the app's tasks take "
        "port 5000 only from the load balancer, and the database takes 5432 only from the "
        "tasks. Nothing else can reach the app or the database."
    )

    def discover(self, aws: Aws, s: Settings, known: Mapping[str, Any]) -> Observed:
        # Preflight may have just looked: the same run need not ask twice.
        network = {k: known[k] for k in (VPC, SUBNETS) if k in known}
        seen = Observed(known=network if len(network) == 2 else discover_default_vpc(aws))
        names = [name for name, *_ in _rules(s)]
        groups = aws.call(
            "ec2",
            "describe_security_groups",
            Filters=[
                {"Name": "vpc-id", "Values": [seen.known[VPC]]},
                {"Name": "group-name", "Values": names},
            ],
        )["SecurityGroups"]
        by_name = {g["GroupName"]: g for g in groups}
        for name in names:
            group = by_name.get(name)
            if group:
                seen.found[name] = group
                seen.known[f"{name}.GroupId"] = group["GroupId"]
            seen.resources.append(
                Resource.seen(security_group.NAME, name, group, "GroupId", tag_check(s, "Tags"))
            )
        return seen

    def plan(self, s: Settings, seen: Observed | None) -> list[Action]:
        found = seen.found if seen else {}
        ids = seen.known if seen else {}
        actions: list[Action] = []
        for name, description, port, source in _rules(s):
            group = found.get(name)
            if group is None:
                actions.append(
                    ApiCall(
                        "ec2",
                        "create_security_group",
                        {
                            "GroupName": name,
                            "Description": f"{s.deployment.name}: {description}",
                            "VpcId": Ref(VPC),
                            "TagSpecifications": [
                                {
                                    "ResourceType": "security-group",
                                    "Tags": tags(s.deployment.name, name),
                                }
                            ],
                        },
                        f"create {name}: {description}",
                        self.number,
                        captures={f"{name}.GroupId": "GroupId"},
                    )
                )
            elif not tagged(group.get("Tags"), s.deployment.name):
                actions.append(
                    adopt(
                        "ec2",
                        "create_tags",
                        {"Resources": [group["GroupId"]], "Tags": tags(s.deployment.name)},
                        "security group",
                        name,
                        self.number,
                    )
                )
            if group is None or not _allows(
                group, port, ids.get(f"{source}.GroupId", "?") if source else None
            ):
                origin: dict[str, Any] = (
                    {
                        "UserIdGroupPairs": [
                            {"GroupId": group_id(source), "Description": description}
                        ]
                    }
                    if source
                    else {"IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": description}]}
                )
                actions.append(
                    ApiCall(
                        "ec2",
                        "authorize_security_group_ingress",
                        {
                            "GroupId": group_id(name),
                            "IpPermissions": [
                                {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, **origin}
                            ],
                        },
                        f"allow tcp {port} into {name} from {source or 'the internet'}",
                        self.number,
                        retry_on=security_group.NOT_FOUND,
                        done_on=("InvalidPermission.Duplicate",),
                    )
                )
        return actions

    def teardown(self, s: Settings, seen: Observed) -> list[Action]:
        # Reverse order: the db group names the ecs group, which names the elb group.
        return [
            action
            for r in reversed(seen.ours())
            for action in security_group.KIND.deletes(r.id, r.name, self.number)
        ]

    def output_keys(self, s: Settings) -> list[str]:
        return [VPC, SUBNETS, *(f"{name}.GroupId" for name, *_ in _rules(s))]
