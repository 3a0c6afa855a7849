"""AWS's managed policies, parsed once per process, are what moto itself would give each account."""

from __future__ import annotations

import json
from datetime import datetime

from moto.iam.aws_managed_policies import aws_managed_policies_data

from runbook.aws import Aws

EXECUTION_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"


def test_an_account_has_every_managed_policy_as_moto_makes_it(aws: Aws) -> None:
    answer = aws.client("iam").get_policy(PolicyArn=EXECUTION_POLICY)["Policy"]
    data = json.loads(aws_managed_policies_data)["AmazonECSTaskExecutionRolePolicy"]
    assert answer["DefaultVersionId"] == data["DefaultVersionId"]
    assert answer["UpdateDate"] == datetime.fromisoformat(data["UpdateDate"])
    version = aws.client("iam").get_policy_version(
        PolicyArn=EXECUTION_POLICY, VersionId=answer["DefaultVersionId"]
    )["PolicyVersion"]
    assert version["Document"] == data["Document"]
    listed = aws.client("iam").list_policies(Scope="AWS", MaxItems=1000)
    count = len(listed["Policies"])
    while listed.get("IsTruncated"):
        listed = aws.client("iam").list_policies(Scope="AWS", Marker=listed["Marker"])
        count += len(listed["Policies"])
    assert count == len(json.loads(aws_managed_policies_data))


def test_attaching_a_managed_policy_in_one_account_leaves_another_alone(emulator, account) -> None:
    first, second = emulator.aws(account), emulator.aws(str(int(account) + 500_000_000))
    for aws in (first, second):
        aws.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")
    first.client("iam").attach_role_policy(RoleName="r", PolicyArn=EXECUTION_POLICY)
    counts = [
        aws.client("iam").get_policy(PolicyArn=EXECUTION_POLICY)["Policy"]["AttachmentCount"]
        for aws in (first, second)
    ]
    assert counts == [1, 0]
