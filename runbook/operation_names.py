"""boto3's method names as AWS names the operations (create_security_group: CreateSecurityGroup).

Read from botocore's service models; the plan's rows, the prompts and the app name calls so.
"""

from __future__ import annotations

import functools

import botocore.session


@functools.cache
def session() -> botocore.session.Session:
    return botocore.session.get_session()


@functools.cache
def _operations(service: str) -> dict[str, str]:
    model = session().get_service_model(service)
    return {botocore.xform_name(op): op for op in model.operation_names}


def operation_name(service: str, method: str) -> str:
    """CreateSecurityGroup for create_security_group: the name IAM and CloudTrail use."""
    try:
        return _operations(service)[method]
    except KeyError:
        raise ValueError(f"{service} has no operation {method}") from None
