"""AWS's managed policies in each new emulator account, parsed once per process, not per account.

moto (5.2.5) gives every account its own copy of about 1,600 AWS managed policies (the
runbook attaches AmazonECSTaskExecutionRolePolicy, so the sandbox loads them), and makes
each copy by parsing moto's whole policy file again and encoding every document anew: about
a second on the first call of each account, every test's fresh account and every sandbox's.
Here the file is parsed and the documents encoded once; each account still gets policy
objects of its own (their attachment counts are per account), built from the shared text.
"""

from __future__ import annotations

import functools
import json
from datetime import datetime
from typing import Any

from moto.iam.models import AWSManagedPolicy, IAMBackend
from moto.settings import load_iam_aws_managed_policies

from runbook.sandbox.once import once

# name, default version, path, document (JSON text), created, updated: all immutable.
_Policy = tuple[str, str | None, str | None, str, datetime, datetime]


@functools.cache
def _policies() -> tuple[_Policy, ...]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    parsed: dict[str, Any] = json.loads(aws_managed_policies_data)
    return tuple(
        (
            name,
            data.get("DefaultVersionId"),
            data.get("Path"),
            json.dumps(data.get("Document")),  # as moto's AWSManagedPolicy.from_data does
            datetime.fromisoformat(data["CreateDate"]),
            datetime.fromisoformat(data["UpdateDate"]),
        )
        for name, data in parsed.items()
    )


def _init_aws_policies(backend: Any) -> list[AWSManagedPolicy]:
    if not load_iam_aws_managed_policies():
        return []
    return [
        AWSManagedPolicy(
            name,
            account_id=backend.account_id,
            region=backend.region_name,
            default_version_id=version,
            path=path,
            document=document,
            create_date=created,
            update_date=updated,
        )
        for name, version, path, document, created, updated in _policies()
    ]


@once
def install() -> None:
    """Make every IAM backend built from now on take the once-parsed policies."""
    _init_aws_policies.__wrapped__ = IAMBackend._init_aws_policies  # type: ignore[attr-defined]
    IAMBackend._init_aws_policies = _init_aws_policies  # type: ignore[method-assign]
