"""Security groups (EC2): the three chained groups of section I."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from runbook.aws import Aws
from runbook.plan import ApiCall
from runbook.recovery.answers import Answer, Found, Recovery
from runbook.resources.kind import Create, Delete, Kind, Tagged, TagSearch, adopts
from runbook.resources.template import Template, cfn_tags, logical_id
from runbook.rules import cfn
from runbook.rules.combinations import tag_count
from runbook.rules.common import tag_fields
from runbook.rules.kinds import between, from_schema, length, never, pattern
from runbook.rules.spec import EC2_API, EC2_CHARS, EC2_CHARS_SAY, OWN_TEXT, Field, Operation
from runbook.rules.spec import settings_fix as fix
from runbook.settings import DEPLOYMENT_TAG

NAME = "security group"
NOT_FOUND = ("InvalidGroup.NotFound",)
# Network interfaces of the ALB and tasks linger for a while after deletion; a group another
# group still names is refused too (the teardown order sees to that).
IN_USE = ("DependencyViolation",)


def find(aws: Aws, p: Mapping[str, Any]) -> Found | None:
    """The group a lost create_security_group made, by its VPC and name."""
    groups = aws.call(
        "ec2",
        "describe_security_groups",
        Filters=[
            {"Name": "vpc-id", "Values": [p["VpcId"]]},
            {"Name": "group-name", "Values": [p["GroupName"]]},
        ],
    )["SecurityGroups"]
    if not groups:
        return None
    group = groups[0]
    answer = {"GroupId": group["GroupId"], "Tags": group.get("Tags", [])}
    return Found(f"security group {p['GroupName']}", answer, group.get("Tags"))


def tagged(aws: Aws, deployment: str, _arns: list[str]) -> Iterator[Tagged]:
    """EC2 filters by tag itself, in one call; each group with the groups it allows from."""
    groups = aws.call(
        "ec2",
        "describe_security_groups",
        Filters=[{"Name": f"tag:{DEPLOYMENT_TAG}", "Values": [deployment]}],
    )["SecurityGroups"]
    for g in groups:
        sources = {
            pair["GroupId"]
            for perm in g.get("IpPermissions", [])
            for pair in perm.get("UserIdGroupPairs", [])
            if pair.get("GroupId") and pair["GroupId"] != g["GroupId"]
        }
        yield Tagged(NAME, g["GroupName"], g["GroupId"], detail={"sources": sources})


def as_cfn(t: Template, call: ApiCall) -> None:
    p = call.params
    logical = logical_id(p["GroupName"])
    t.add(
        logical,
        "AWS::EC2::SecurityGroup",
        {
            "GroupName": p["GroupName"],
            "GroupDescription": p["Description"],
            "VpcId": t.value(p["VpcId"]),
            "Tags": cfn_tags(p["TagSpecifications"][0]["Tags"]),
        },
        name=p["GroupName"],
    )
    t.provides(f"{p['GroupName']}.GroupId", logical, "GroupId")


def ingress_as_cfn(t: Template, call: ApiCall) -> None:
    group = t.owner(call.params["GroupId"])
    for perm in call.params["IpPermissions"]:
        rule: dict[str, Any] = {
            "GroupId": t.value(call.params["GroupId"]),
            "IpProtocol": perm["IpProtocol"],
            "FromPort": perm["FromPort"],
            "ToPort": perm["ToPort"],
        }
        for source in perm.get("IpRanges", []):
            rule |= {"CidrIp": source["CidrIp"], "Description": source["Description"]}
        for source in perm.get("UserIdGroupPairs", []):
            rule |= {
                "SourceSecurityGroupId": t.value(source["GroupId"]),
                "Description": source["Description"],
            }
        t.add(f"{group}Ingress{perm['FromPort']}", "AWS::EC2::SecurityGroupIngress", rule)


def _ingress() -> Operation:
    # Not in any schema: AWS::EC2::SecurityGroupIngress states no rule for Description.
    desc = (
        pattern(EC2_CHARS, f"{EC2_CHARS_SAY}, up to 255", f"{EC2_API}/API_IpRange.html"),
        length(0, 255, f"{EC2_API}/API_UserIdGroupPair.html"),
    )
    ports = fix("security_groups.listener_port", "app_port", "db_port")
    port_range = (between(0, 65535, f"{EC2_API}/API_IpPermission.html"),)
    protocol = (
        from_schema("AWS::EC2::SecurityGroupIngress", "IpProtocol", "")
        if cfn.constraints("AWS::EC2::SecurityGroupIngress", "IpProtocol")
        else (
            pattern(
                r"tcp|udp|icmp|icmpv6|-1|\d{1,3}",
                "must be tcp, udp, icmp, icmpv6, -1 or a protocol number",
                f"{EC2_API}/API_IpPermission.html",
            ),
        )
    )
    return Operation(
        (
            Field("IpPermissions[].IpRanges[].Description", desc, OWN_TEXT),
            Field("IpPermissions[].UserIdGroupPairs[].Description", desc, OWN_TEXT),
            Field("IpPermissions[].FromPort", port_range, ports),
            Field("IpPermissions[].ToPort", port_range, ports),
            Field("IpPermissions[].IpProtocol", protocol, OWN_TEXT),
        )
    )


def rules() -> dict[tuple[str, str], Operation]:
    sg = "AWS::EC2::SecurityGroup"
    name = (
        pattern(
            r"(?![sS][gG]-)" + EC2_CHARS.replace("*", "{1,255}"),
            # EC2 compares group names without case; we take its sg- prefix the same way.
            f"must be 1-255 of {EC2_CHARS_SAY}, not starting with sg- (in any case)",
            f"{EC2_API}/API_CreateSecurityGroup.html",
        ),
        # Every VPC has its own group named default; EC2 compares names without case.
        never(
            lambda v: v.lower() == "default",
            "must not be 'default', the VPC's own group's name",
            f"{EC2_API}/API_CreateSecurityGroup.html",
        ),
    )
    return {
        ("ec2", "create_security_group"): Operation(
            (
                Field(
                    "GroupName",
                    name,
                    fix(
                        "security_groups.elb_sg", "security_groups.ecs_sg", "security_groups.db_sg"
                    ),
                ),
                Field(
                    "Description",
                    from_schema(sg, "GroupDescription", f"{EC2_CHARS_SAY}, up to 255"),
                    OWN_TEXT,
                ),
                *tag_fields(sg, "TagSpecifications[].Tags[]"),
            ),
        ),
        ("ec2", "authorize_security_group_ingress"): _ingress(),
        ("ec2", "create_tags"): Operation(tag_fields(sg), (tag_count("Tags"),)),
    }


KIND = Kind(
    NAME,
    section="I",
    not_found=NOT_FOUND,
    create=Create("ec2", "create_security_group", as_cfn, adopts("InvalidGroup.Duplicate", find)),
    recoveries={
        ("ec2", "authorize_security_group_ingress"): Recovery(
            done=(Answer("InvalidPermission.Duplicate"),),
            not_yet=tuple(Answer(code) for code in NOT_FOUND),
        ),
    },
    translations={("ec2", "authorize_security_group_ingress"): ingress_as_cfn},
    rules=rules,
    # Last: every other resource uses them. Revoking a rule goes just before.
    delete_order={"revoke_security_group_ingress": 12},
    inventory=TagSearch("security groups", tagged),
    delete=Delete("ec2", "delete_security_group", "GroupId", rank=13, retry_on=IN_USE),
)
