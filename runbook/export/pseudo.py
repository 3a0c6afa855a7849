"""The template works in any account, region and partition: what the plan spells out for this
deployment's region (ARNs, awslogs-region) becomes CloudFormation's pseudo parameters.

The account is already ${AWS::AccountId} (a plan reference). Service principals stay
`<service>.amazonaws.com`: IAM names them so in every partition, China's included.
"""

from __future__ import annotations

from typing import Any

from runbook.steps.role_policies import partition


def anywhere(node: Any, region: str) -> Any:
    """Every ARN and region name in these resources, as AWS::Partition and AWS::Region."""
    part = partition(region)

    def sub(text: str) -> str:
        if not text.startswith("arn:"):
            return text
        # arn:<partition>:<service>:<region>:<account>:...: only those two fields change.
        head = text.split(":", 5)
        if len(head) < 5 or head[1] != part:
            return text
        head[1] = "${AWS::Partition}"
        if head[3] == region:
            head[3] = "${AWS::Region}"
        return ":".join(head)

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
                return {"Fn::Sub": sub(value["Fn::Sub"])}
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, str):
            if value == region:
                return {"Ref": "AWS::Region"}
            changed = sub(value)
            # "${" in a plain string would be read by Fn::Sub as a variable: none here.
            return {"Fn::Sub": changed} if changed != value else value
        return value

    return walk(node)
