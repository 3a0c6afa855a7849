"""The image repository's lifecycle policy: keep the app's last N versions, expire the rest.

Every build pushes a new version and none is ever overwritten, so without a policy the
repository grows forever (ECR storage is billed per GB-month). A rollback needs the versions
before the current one, so the policy keeps the newest N pushed, whatever their tags, and
expires older ones (ECR User Guide, lifecycle policies: tagStatus "any" with countType
"imageCountMoreThan").
"""

from __future__ import annotations

import json
from typing import Any


def policy(kept: int) -> dict[str, Any]:
    return {
        "rules": [
            {
                "rulePriority": 1,
                "description": f"Keep the app's last {kept} versions: a rollback needs them",
                "selection": {
                    "tagStatus": "any",
                    "countType": "imageCountMoreThan",
                    "countNumber": kept,
                },
                "action": {"type": "expire"},
            }
        ]
    }


def text(kept: int) -> str:
    return json.dumps(policy(kept), separators=(",", ":"))


def same(current: str | None, kept: int) -> bool:
    """Does the repository's policy (as ECR returns it) already say this?"""
    if not current:
        return False
    try:
        return json.loads(current) == policy(kept)
    except ValueError:
        return False
