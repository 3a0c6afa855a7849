"""Rules over several parameters at once, from cfn-lint's extensions or AWS's API reference."""

from __future__ import annotations

from typing import Any

from runbook.rules import cfn, fargate, rds_versions
from runbook.rules.core import UNKNOWN, Rule
from runbook.rules.kinds import by_hand
from runbook.rules.spec import (
    ECS_API,
    OWN_TEXT,
    RDS_API,
    TAGGING,
    Combination,
    Found,
    settings_fix,
)


def tag_count(where: str) -> Combination:
    def find(params: dict[str, Any]) -> Found:
        tags = _dig(params, where)
        if isinstance(tags, list | dict) and len(tags) > 50:
            yield where, f"{len(tags)} tags", "at most 50 tags"

    return Combination(
        by_hand("a resource takes at most 50 tags", TAGGING, lambda _: True),
        find,
        OWN_TEXT,
    )


def _dig(params: dict[str, Any], path: str) -> Any:
    value: Any = params
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return UNKNOWN
        value = value[part]
    return value


def _fargate_pair(params: dict[str, Any]) -> Found:
    cpu, memory = params.get("cpu"), params.get("memory")
    if "FARGATE" not in (params.get("requiresCompatibilities") or []):
        return
    if cpu is UNKNOWN or memory is UNKNOWN or cpu is None or memory is None:
        return
    if found := fargate.problem(cpu, memory):
        field, says = found
        yield field, cpu if field == "cpu" else memory, says


def _container_memory(params: dict[str, Any]) -> Found:
    task_memory = params.get("memory")
    task_mib = fargate.memory_mib(str(task_memory)) if task_memory is not None else None
    for n, c in enumerate(params.get("containerDefinitions") or []):
        hard, soft = c.get("memory"), c.get("memoryReservation")
        if isinstance(hard, int) and task_mib is not None and hard > task_mib:
            yield (
                f"containerDefinitions[{n}].memory",
                hard,
                f"the container's hard limit must fit in the task's memory ({task_mib} MiB)",
            )
        # "If you specify both, memory must be greater than memoryReservation."
        if isinstance(hard, int) and isinstance(soft, int) and soft >= hard:
            yield (
                f"containerDefinitions[{n}].memoryReservation",
                soft,
                f"the soft limit must be less than the hard limit ({hard} MiB)",
            )


def _instance_class(params: dict[str, Any]) -> Found:
    engine, version = params.get("Engine"), params.get("EngineVersion")
    klass = params.get("DBInstanceClass")
    if not all(isinstance(v, str) for v in (engine, version, klass)):
        return
    offered = cfn.instance_classes(engine, version)
    if offered and klass not in offered:
        hint = [c for c in ("db.t4g.micro", "db.t3.micro") if c in offered]
        yield (
            "DBInstanceClass",
            klass,
            f"RDS does not offer {klass} for {engine} {version}"
            + (f" (it does offer {' and '.join(hint)})" if hint else ""),
        )


def _instance_class_in(params: dict[str, Any], region: str) -> Found:
    """The class against the version's classes and the region's (cfn-lint's two tables)."""
    engine, version = params.get("Engine"), params.get("EngineVersion")
    klass = params.get("DBInstanceClass")
    if not all(isinstance(v, str) for v in (engine, version, klass)):
        return
    here = cfn.instance_classes_in(engine, region)
    if here is None or klass in here:
        yield from _instance_class(params)
        return
    hint = [c for c in ("db.t4g.micro", "db.t3.micro") if c in here]
    by_version = cfn.instance_classes(engine, version)
    hint = [c for c in hint if not by_version or c in by_version]
    yield (
        "DBInstanceClass",
        klass,
        f"RDS does not offer {klass} for {engine} in {region}"
        + (f" (it does offer {' and '.join(hint)} there)" if hint else ""),
    )


def _engine_version(params: dict[str, Any]) -> Found:
    engine, version = params.get("Engine"), params.get("EngineVersion")
    if not (isinstance(engine, str) and isinstance(version, str)):
        return
    # A bare major ('16') lets RDS pick its minor; a minor must be one RDS still creates.
    if says := rds_versions.problem(engine, version):
        yield "EngineVersion", version, says


def _one_password_source(params: dict[str, Any]) -> Found:
    if params.get("ManageMasterUserPassword") is True and "MasterUserPassword" in params:
        yield (
            "MasterUserPassword",
            params["MasterUserPassword"],
            "cannot be given when ManageMasterUserPassword is on",
        )


def _timeout_below_interval(params: dict[str, Any]) -> Found:
    timeout = params.get("HealthCheckTimeoutSeconds")
    interval = params.get("HealthCheckIntervalSeconds")
    if isinstance(timeout, int) and isinstance(interval, int) and timeout >= interval:
        yield (
            "HealthCheckTimeoutSeconds",
            timeout,
            f"must be less than the interval ({interval} s)",
        )


def _two_subnets(params: dict[str, Any]) -> Found:
    subnets = params.get("Subnets")
    minimum = cfn.extension("aws_elasticloadbalancingv2_loadbalancer/application_subnets")
    fewest = minimum["then"]["properties"]["Subnets"]["minItems"]
    application = params.get("Type", "application") == "application"
    if isinstance(subnets, list) and application and len(subnets) < fewest:
        yield "Subnets", subnets, f"an Application Load Balancer needs {fewest} or more subnets"


def _capacity_order(params: dict[str, Any]) -> Found:
    low, high = params.get("MinCapacity"), params.get("MaxCapacity")
    if isinstance(low, int) and isinstance(high, int) and low > high:
        yield "MinCapacity", low, f"must not exceed MaxCapacity ({high})"


def _policy_size(params: dict[str, Any]) -> Found:
    document = params.get("PolicyDocument")
    if isinstance(document, str) and len("".join(document.split())) > 10240:
        yield "PolicyDocument", f"{len(document)} characters", "at most 10,240 characters"


FARGATE = Combination(
    Rule(
        "Fargate's CPU and memory go in fixed pairs",
        "cfn-lint extension aws_ecs_taskdefinition/fargate_cpu_memory",
        lambda _: True,
    ),
    _fargate_pair,
    settings_fix("task_definition.cpu", "task_definition.memory"),
)
CONTAINER_MEMORY = Combination(
    by_hand(
        "container memory within the task's; soft limit below the hard limit",
        f"{ECS_API}/API_ContainerDefinition.html",
        lambda _: True,
    ),
    _container_memory,
    settings_fix(
        "task_definition.container_memory", "task_definition.container_memory_reservation"
    ),
)
INSTANCE_CLASS = Combination(
    Rule(
        "the instance class must be one RDS offers for the engine version, in the region",
        "cfn-lint extensions aws_rds_dbinstance/db_instance_class and dbinstanceclass_enum",
        lambda _: True,
    ),
    _instance_class,
    'Set database.instance_class to "db.t4g.micro" (or db.t3.micro, or the class the '
    'message names for the region): `instance_class = "db.t4g.micro"` under [database] in a '
    "TOML file, then run again with --config FILE; or accept the fix `runbook deploy` and "
    "the app offer, which records it for later commands.",
    in_region=_instance_class_in,
)
ENGINE_VERSION = Combination(
    Rule(
        "the engine version must be one RDS creates instances with",
        "cfn-lint extensions aws_rds_dbinstance/engine_version and engine_version_deprecated",
        lambda _: True,
    ),
    _engine_version,
    settings_fix("database.engine_version"),
)
PASSWORD_SOURCE = Combination(
    by_hand(
        "MasterUserPassword and ManageMasterUserPassword exclude each other",
        RDS_API,
        lambda _: True,
    ),
    _one_password_source,
    OWN_TEXT,
)
TIMEOUT = Combination(
    by_hand(
        "the health check timeout must be less than its interval",
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/"
        "target-group-health-checks.html",
        lambda _: True,
    ),
    _timeout_below_interval,
    settings_fix("load_balancer.health_check_interval"),
)
TWO_SUBNETS = Combination(
    Rule(
        "an Application Load Balancer needs subnets in two or more zones",
        "cfn-lint extension aws_elasticloadbalancingv2_loadbalancer/application_subnets",
        lambda _: True,
    ),
    _two_subnets,
    "Add a default subnet in another zone (aws ec2 create-default-subnet), then run again.",
)
CAPACITY = Combination(
    by_hand(
        "MinCapacity must not exceed MaxCapacity",
        "https://docs.aws.amazon.com/autoscaling/application/APIReference/"
        "API_RegisterScalableTarget.html",
        lambda _: True,
    ),
    _capacity_order,
    settings_fix("auto_scaling.max_tasks", "service.desired_count"),
)
POLICY_SIZE = Combination(
    by_hand(
        "a role's inline policies take at most 10,240 characters",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html",
        lambda _: True,
    ),
    _policy_size,
    OWN_TEXT,
)
