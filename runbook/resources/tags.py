"""Whether a resource carries this deployment's tag, in any service's tag spelling."""

from __future__ import annotations

from typing import Any

from runbook.settings import DEPLOYMENT_TAG


def tagged(tags: Any, deployment: str) -> bool:
    """Tags come as [{Key, Value}], [{key, value}] or {k: v} depending on the service."""
    if isinstance(tags, dict):
        return tags.get(DEPLOYMENT_TAG) == deployment
    for tag in tags or []:
        key = tag.get("Key", tag.get("key"))
        if key == DEPLOYMENT_TAG and tag.get("Value", tag.get("value")) == deployment:
            return True
    return False
