"""boto3's method names as AWS names the operations (create_security_group: CreateSecurityGroup).

Read from the compact index of botocore's models (runbook/api_index.py); the plan's rows, the
prompts and the app name calls so.
"""

from __future__ import annotations

from runbook.api_index import UnknownOperation, index


def operation_name(service: str, method: str) -> str:
    """CreateSecurityGroup for create_security_group: the name IAM and CloudTrail use."""
    try:
        return index().operation_name(service, method)
    except UnknownOperation as exc:
        raise ValueError(str(exc)) from None
