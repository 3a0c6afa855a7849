"""Rules several resource kinds share: tags (every kind's spelling), ELB and ECS names."""

from __future__ import annotations

import functools

from runbook.rules.core import Rule
from runbook.rules.kinds import from_schema, length, never, pattern
from runbook.rules.spec import ECS_API, ELB_API, TAGGING, Field, settings_fix

ELB_NAME = (
    pattern(
        r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?",
        "must be 1-32 letters, digits or hyphens, not starting or ending with a hyphen",
        f"{ELB_API}/API_CreateLoadBalancer.html",
    ),
)
# The APIs' integers (ECS CreateService healthCheckGracePeriodSeconds: "up to 2,147,483,647
# seconds (about 69 years)").
INT_MAX = 2_147_483_647
# CreateTargetGroup HealthCheckPath: 1-1024 characters (botocore, CloudFormation); for HTTP
# "a valid URI (/path?query)" (ELB's target group health checks guide): a slash first, then
# RFC 3986 path and query characters, no spaces.
HEALTH_CHECK_PATH = r"/[A-Za-z0-9\-._~!$&'()*+,;=:@/%?]{0,1023}"
ECS_NAME = (
    pattern(
        r"[A-Za-z0-9_-]{1,255}",
        "must be 1-255 letters, digits, underscores or hyphens",
        f"{ECS_API}/API_CreateCluster.html",
    ),
)


@functools.cache
def _tag_rules(resource_type: str, part: str) -> tuple[Rule, ...]:
    """A tag key or value: the resource's schema where it states limits, AWS's tagging rules."""
    try:
        rules = from_schema(resource_type, f"Tags[].{part}")
    except LookupError:  # the schema states none (EC2): AWS's general tagging limits
        rules = (length(1, 128, TAGGING) if part == "Key" else length(0, 256, TAGGING),)
    if part == "Key":
        rules += (
            never(
                lambda v: v.lower().startswith("aws:"),
                "must not start with aws: (reserved for AWS)",
                TAGGING,
            ),
        )
    return rules


def tag_fields(resource_type: str, where: str = "Tags[]", key: str = "Key") -> tuple[Field, ...]:
    """Tag rules at a path: 'Tags[]' with Key/Value, 'tags[]' with key/value, or a map 'tags'."""
    fix = settings_fix("deployment.name")
    if key == "map":
        keys, values = f"{where}{{key}}", f"{where}{{}}"
    else:
        value = "Value" if key == "Key" else "value"
        keys, values = f"{where}.{key}", f"{where}.{value}"
    return (
        Field(keys, _tag_rules(resource_type, "Key"), fix),
        Field(values, _tag_rules(resource_type, "Value"), fix),
    )


def ecs_tag_fields(resource_type: str) -> tuple[Field, ...]:
    """ECS spells tags [{key, value}]; it also keeps the aws: prefix for values ("Do not use
    aws:, AWS:, or any upper or lowercase combination of such as a prefix for either keys or
    values", botocore's ECS model)."""
    value_prefix = never(
        lambda v: v.lower().startswith("aws:"),
        "must not start with aws: (ECS keeps it for AWS's own tags)",
        f"{ECS_API}/API_Tag.html",
    )
    return (
        *tag_fields(resource_type, "tags[]", "key"),
        Field("tags[].value", (value_prefix,), settings_fix("deployment.name")),
    )
