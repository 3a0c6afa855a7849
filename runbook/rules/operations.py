"""Which of AWS's rules hold for each parameter of each call the runbook makes.

Each parameter maps onto the CloudFormation property it corresponds to, and takes that
schema's pattern/length/enumeration (cfn-lint's data). Where no schema states a rule, it is
written by hand from AWS's API reference, whose page each such rule names. botocore's own
limits apply to every call on top of these (runbook.rules.shapes).
"""

from __future__ import annotations

import functools

from runbook.rules import cfn
from runbook.rules.combinations import (
    CAPACITY,
    CONTAINER_MEMORY,
    ENGINE_VERSION,
    FARGATE,
    INSTANCE_CLASS,
    PASSWORD_SOURCE,
    POLICY_SIZE,
    TIMEOUT,
    TWO_SUBNETS,
    tag_count,
)
from runbook.rules.core import Rule
from runbook.rules.deletes import (
    FINAL_SNAPSHOT,
    REVISIONS_PER_DELETE,
    SNAPSHOT_ID,
    TASK_DEFINITION_REVISION,
)
from runbook.rules.kinds import between, by_hand, from_schema, length, never, pattern
from runbook.rules.spec import (
    EC2_API,
    EC2_CHARS,
    EC2_CHARS_SAY,
    ECS_API,
    ELB_API,
    FOUND,
    OWN_TEXT,
    RDS_API,
    TAGGING,
    Field,
    Operation,
    settings_fix,
)

# -- shared rules ------------------------------------------------------------------------


def _sg_rule_description() -> tuple[Rule, ...]:
    # Not in any schema: AWS::EC2::SecurityGroupIngress states no rule for Description.
    return (
        pattern(EC2_CHARS, f"{EC2_CHARS_SAY}, up to 255", f"{EC2_API}/API_IpRange.html"),
        length(0, 255, f"{EC2_API}/API_UserIdGroupPair.html"),
    )


ELB_NAME = (
    pattern(
        r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?",
        "must be 1-32 letters, digits or hyphens, not starting or ending with a hyphen",
        f"{ELB_API}/API_CreateLoadBalancer.html",
    ),
)
ECS_NAME = (
    pattern(
        r"[A-Za-z0-9_-]{1,255}",
        "must be 1-255 letters, digits, underscores or hyphens",
        f"{ECS_API}/API_CreateCluster.html",
    ),
)
ROLE_FIX = settings_fix("task_definition.execution_role", "task_definition.task_role")


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


# -- the operations ----------------------------------------------------------------------


def _sg_ingress() -> Operation:
    desc = _sg_rule_description()
    return Operation(
        (
            Field("IpPermissions[].IpRanges[].Description", desc, OWN_TEXT),
            Field("IpPermissions[].UserIdGroupPairs[].Description", desc, OWN_TEXT),
            Field(
                "IpPermissions[].FromPort",
                (between(0, 65535, f"{EC2_API}/API_IpPermission.html"),),
                settings_fix("security_groups.listener_port", "app_port", "db_port"),
            ),
            Field(
                "IpPermissions[].ToPort",
                (between(0, 65535, f"{EC2_API}/API_IpPermission.html"),),
                settings_fix("security_groups.listener_port", "app_port", "db_port"),
            ),
            Field(
                "IpPermissions[].IpProtocol",
                from_schema("AWS::EC2::SecurityGroupIngress", "IpProtocol", "")
                if cfn.constraints("AWS::EC2::SecurityGroupIngress", "IpProtocol")
                else (
                    pattern(
                        r"tcp|udp|icmp|icmpv6|-1|\d{1,3}",
                        "must be tcp, udp, icmp, icmpv6, -1 or a protocol number",
                        f"{EC2_API}/API_IpPermission.html",
                    ),
                ),
                OWN_TEXT,
            ),
        )
    )


def _listener(tags: bool) -> Operation:
    return Operation(
        (
            Field(
                "Port",
                from_schema("AWS::ElasticLoadBalancingV2::Listener", "Port"),
                settings_fix("security_groups.listener_port"),
            ),
            Field(
                "Protocol",
                from_schema("AWS::ElasticLoadBalancingV2::Listener", "Protocol"),
                OWN_TEXT,
            ),
            *(tag_fields("AWS::ElasticLoadBalancingV2::Listener") if tags else ()),
        ),
        (tag_count("Tags"),) if tags else (),
    )


def _target_group(create: bool) -> Operation:
    tg = "AWS::ElasticLoadBalancingV2::TargetGroup"
    lb = settings_fix(
        "load_balancer.health_check_interval",
        "healthy_threshold",
        "health_check_path",
    )
    fields = (
        Field("HealthCheckProtocol", from_schema(tg, "HealthCheckProtocol"), OWN_TEXT),
        Field("HealthCheckPath", from_schema(tg, "HealthCheckPath"), lb),
        Field("HealthCheckIntervalSeconds", from_schema(tg, "HealthCheckIntervalSeconds"), lb),
        Field("HealthCheckTimeoutSeconds", from_schema(tg, "HealthCheckTimeoutSeconds"), lb),
        Field("HealthyThresholdCount", from_schema(tg, "HealthyThresholdCount"), lb),
        Field("UnhealthyThresholdCount", from_schema(tg, "UnhealthyThresholdCount"), OWN_TEXT),
    )
    if create:
        fields += (
            Field("Name", ELB_NAME, settings_fix("load_balancer.target_group")),
            Field("Protocol", from_schema(tg, "Protocol"), OWN_TEXT),
            Field("Port", from_schema(tg, "Port"), settings_fix("security_groups.app_port")),
            Field("TargetType", from_schema(tg, "TargetType"), OWN_TEXT),
            *tag_fields(tg),
        )
    return Operation(fields, (TIMEOUT, *((tag_count("Tags"),) if create else ())))


def _ecs_tags(resource_type: str) -> tuple[Field, ...]:
    return tag_fields(resource_type, "tags[]", "key")


@functools.cache
def operations() -> dict[tuple[str, str], Operation]:
    """Every operation any plan can produce, with its rules (tests prove none is missing)."""
    sg, lb = "AWS::EC2::SecurityGroup", "AWS::ElasticLoadBalancingV2::LoadBalancer"
    td, db = "AWS::ECS::TaskDefinition", "AWS::RDS::DBInstance"
    role, policy = "AWS::IAM::Role", "AWS::IAM::RolePolicy"
    logs, scaling = "AWS::Logs::LogGroup", "AWS::ApplicationAutoScaling::ScalingPolicy"
    cert = "AWS::CertificateManager::Certificate"
    # Read here, not at import: importing the executor must not read schemas.
    rds_id, role_name = from_schema(db, "DBInstanceIdentifier"), from_schema(role, "RoleName")
    sg_name = (
        pattern(
            r"(?!sg-)" + EC2_CHARS.replace("*", "{1,255}"),
            f"must be 1-255 of {EC2_CHARS_SAY}, not starting with sg-",
            f"{EC2_API}/API_CreateSecurityGroup.html",
        ),
    )
    log_name = from_schema(logs, "LogGroupName")
    secret_name = (
        pattern(
            r"[A-Za-z0-9/_+=.@-]{1,512}",
            "must be 1-512 ASCII letters, digits or /_+=.@-",
            "https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html",
        ),
    )
    repo_name = from_schema("AWS::ECR::Repository", "RepositoryName")
    mutability = from_schema("AWS::ECR::Repository", "ImageTagMutability")
    scaling_where = (
        Field("ServiceNamespace", from_schema(scaling, "ServiceNamespace"), OWN_TEXT),
        Field("ScalableDimension", from_schema(scaling, "ScalableDimension"), OWN_TEXT),
        Field(
            "ResourceId",
            from_schema(scaling, "ResourceId"),
            settings_fix("cluster.name", "service.name"),
        ),
    )
    return {
        # I. Security groups
        ("ec2", "create_security_group"): Operation(
            (
                Field(
                    "GroupName",
                    sg_name,
                    settings_fix(
                        "security_groups.elb_sg",
                        "security_groups.ecs_sg",
                        "security_groups.db_sg",
                    ),
                ),
                Field(
                    "Description",
                    from_schema(sg, "GroupDescription", f"{EC2_CHARS_SAY}, up to 255"),
                    OWN_TEXT,
                ),
                *tag_fields(sg, "TagSpecifications[].Tags[]"),
            ),
        ),
        ("ec2", "authorize_security_group_ingress"): _sg_ingress(),
        ("ec2", "create_tags"): Operation(tag_fields(sg), (tag_count("Tags"),)),
        ("ec2", "delete_security_group"): Operation(),
        # II. Load balancer
        ("elbv2", "create_target_group"): _target_group(create=True),
        ("elbv2", "modify_target_group"): _target_group(create=False),
        ("elbv2", "modify_target_group_attributes"): Operation(
            (
                Field(
                    "Attributes[].Value",
                    (
                        pattern(
                            r"\d{1,4}",
                            "deregistration delay: 0 to 3600 seconds",
                            f"{ELB_API}/API_TargetGroupAttribute.html",
                        ),
                        by_hand(
                            "deregistration delay: 0 to 3600 seconds",
                            f"{ELB_API}/API_TargetGroupAttribute.html",
                            lambda v: not str(v).isdigit() or int(v) <= 3600,
                        ),
                    ),
                    settings_fix("load_balancer.deregistration_delay"),
                ),
            )
        ),
        ("elbv2", "create_load_balancer"): Operation(
            (
                Field(
                    "Name",
                    (
                        *ELB_NAME,
                        never(
                            lambda v: v.startswith("internal-"),
                            "must not start with internal-",
                            f"{ELB_API}/API_CreateLoadBalancer.html",
                        ),
                    ),
                    settings_fix("load_balancer.name"),
                ),
                Field("Scheme", from_schema(lb, "Scheme"), OWN_TEXT),
                Field("Type", from_schema(lb, "Type"), OWN_TEXT),
                Field("IpAddressType", from_schema(lb, "IpAddressType"), OWN_TEXT),
                *tag_fields(lb),
            ),
            (TWO_SUBNETS, tag_count("Tags")),
        ),
        ("elbv2", "modify_load_balancer_attributes"): Operation(
            (
                Field(
                    "Attributes[].Key",
                    (
                        pattern(
                            r"[a-zA-Z0-9._]+",
                            "must be an attribute key such as routing.http.drop_invalid_"
                            "header_fields.enabled",
                            f"{ELB_API}/API_LoadBalancerAttribute.html",
                        ),
                    ),
                    OWN_TEXT,
                ),
                Field(
                    "Attributes[].Value",
                    (
                        pattern(
                            r"true|false",
                            "must be true or false",
                            f"{ELB_API}/API_LoadBalancerAttribute.html",
                        ),
                    ),
                    OWN_TEXT,
                ),
            )
        ),
        ("elbv2", "add_tags"): Operation(tag_fields(lb), (tag_count("Tags"),)),
        ("elbv2", "create_listener"): _listener(tags=True),
        ("elbv2", "modify_listener"): Operation(
            (
                Field(
                    "DefaultActions[].RedirectConfig.StatusCode",
                    (
                        pattern(
                            r"HTTP_30[12]",
                            "must be HTTP_301 or HTTP_302",
                            f"{ELB_API}/API_RedirectActionConfig.html",
                        ),
                    ),
                    OWN_TEXT,
                ),
            )
        ),
        ("elbv2", "delete_listener"): Operation(),
        ("elbv2", "delete_load_balancer"): Operation(),
        ("elbv2", "delete_target_group"): Operation(),
        ("elbv2", "describe_load_balancers"): Operation(),
        # III. Cluster, logs, service-linked role
        ("iam", "create_service_linked_role"): Operation(
            (
                Field(
                    "AWSServiceName",
                    (
                        pattern(
                            r"[\w+=,.@-]+\.amazonaws\.com",
                            "must be a service principal such as ecs.amazonaws.com",
                            "https://docs.aws.amazon.com/IAM/latest/APIReference/"
                            "API_CreateServiceLinkedRole.html",
                        ),
                    ),
                    OWN_TEXT,
                ),
            )
        ),
        ("ecs", "create_cluster"): Operation(
            (
                Field("clusterName", ECS_NAME, settings_fix("cluster.name")),
                *_ecs_tags("AWS::ECS::Cluster"),
            ),
            (tag_count("tags"),),
        ),
        ("ecs", "tag_resource"): Operation(_ecs_tags("AWS::ECS::Cluster"), (tag_count("tags"),)),
        ("logs", "create_log_group"): Operation(
            (
                Field("logGroupName", log_name, settings_fix("cluster.log_group")),
                *tag_fields(logs, "tags", "map"),
            ),
            (tag_count("tags"),),
        ),
        ("logs", "tag_log_group"): Operation(
            (
                Field("logGroupName", log_name, settings_fix("cluster.log_group")),
                *tag_fields(logs, "tags", "map"),
            ),
            (tag_count("tags"),),
        ),
        ("logs", "put_retention_policy"): Operation(
            (
                Field("logGroupName", log_name, settings_fix("cluster.log_group")),
                Field(
                    "retentionInDays",
                    from_schema(logs, "RetentionInDays"),
                    settings_fix("cluster.log_retention_days"),
                ),
            )
        ),
        ("ecs", "delete_cluster"): Operation(),
        ("logs", "delete_log_group"): Operation((Field("logGroupName", log_name, FOUND),)),
        # IV. Database
        ("secretsmanager", "create_secret"): Operation(
            (
                Field("Name", secret_name, settings_fix("deployment.name")),
                Field(
                    "Description",
                    from_schema("AWS::SecretsManager::Secret", "Description"),
                    OWN_TEXT,
                ),
                Field(
                    "SecretString",
                    from_schema("AWS::SecretsManager::Secret", "SecretString"),
                    "Choose a shorter RUNBOOK_DB_PASSWORD.",
                ),
                *tag_fields("AWS::SecretsManager::Secret"),
            ),
            (tag_count("Tags"),),
        ),
        ("rds", "create_db_instance"): Operation(
            (
                Field("DBInstanceIdentifier", rds_id, settings_fix("database.identifier")),
                Field(
                    "DBName",
                    (
                        pattern(
                            r"[A-Za-z][A-Za-z0-9_]{0,62}",
                            "PostgreSQL: 1-63 letters, digits or underscores, from a letter",
                            RDS_API,
                        ),
                    ),
                    settings_fix("database.db_name"),
                ),
                Field(
                    "MasterUsername",
                    from_schema(db, "MasterUsername"),
                    settings_fix("database.master_username"),
                ),
                Field(
                    "MasterUserPassword",
                    (
                        pattern(
                            r"[\x21-\x7e]{8,128}",
                            "PostgreSQL: 8-128 printable ASCII characters, no spaces",
                            RDS_API,
                        ),
                        never(
                            lambda v: any(c in v for c in '/"@'),
                            'must not contain / " or @',
                            RDS_API,
                        ),
                    ),
                    "Choose another RUNBOOK_DB_PASSWORD.",
                ),
                Field(
                    "AllocatedStorage",
                    (between(20, 65536, RDS_API, " GiB (gp3, PostgreSQL)"),),
                    settings_fix("database.allocated_storage"),
                ),
                Field(
                    "Port",
                    (between(1150, 65535, RDS_API, " (PostgreSQL on RDS)"),),
                    settings_fix("security_groups.db_port"),
                ),
                Field("BackupRetentionPeriod", (between(0, 35, RDS_API, " days"),), OWN_TEXT),
                Field(
                    "StorageType",
                    (
                        pattern(
                            r"gp2|gp3|io1|io2|standard",
                            "must be gp2, gp3, io1, io2 or standard",
                            RDS_API,
                        ),
                    ),
                    OWN_TEXT,
                ),
                *tag_fields(db),
            ),
            (INSTANCE_CLASS, ENGINE_VERSION, PASSWORD_SOURCE, tag_count("Tags")),
        ),
        # In place (a changed class or more storage). The class-per-engine check needs the
        # engine version, which this call does not carry: preflight checks the class first.
        ("rds", "modify_db_instance"): Operation(
            (
                Field("DBInstanceIdentifier", rds_id, settings_fix("database.identifier")),
                Field(
                    "DBInstanceClass",
                    (
                        pattern(
                            r"db\.[a-z0-9]+\.[a-z0-9]+",
                            "must be an RDS instance class such as db.t4g.micro",
                            "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBInstance.html",
                        ),
                    ),
                    settings_fix("database.instance_class"),
                ),
                Field(
                    "AllocatedStorage",
                    (between(20, 65536, RDS_API, " GiB (gp3, PostgreSQL)"),),
                    settings_fix("database.allocated_storage"),
                ),
            )
        ),
        ("rds", "add_tags_to_resource"): Operation(tag_fields(db), (tag_count("Tags"),)),
        ("rds", "describe_db_instances"): Operation(
            (Field("DBInstanceIdentifier", rds_id, settings_fix("database.identifier")),)
        ),
        ("rds", "delete_db_instance"): Operation(
            (
                Field("DBInstanceIdentifier", rds_id, FOUND),
                Field("FinalDBSnapshotIdentifier", SNAPSHOT_ID, OWN_TEXT),
            ),
            (FINAL_SNAPSHOT,),
        ),
        ("secretsmanager", "delete_secret"): Operation(),
        # V. Task definition, its roles and image repository
        ("iam", "create_role"): Operation(
            (
                Field("RoleName", role_name, ROLE_FIX),
                Field("Description", from_schema(role, "Description"), OWN_TEXT),
                Field(
                    "AssumeRolePolicyDocument",
                    from_schema(role, "AssumeRolePolicyDocument"),
                    OWN_TEXT,
                ),
                *tag_fields(role),
            ),
            (tag_count("Tags"),),
        ),
        ("iam", "update_assume_role_policy"): Operation(
            (
                Field("RoleName", role_name, FOUND),
                Field("PolicyDocument", from_schema(role, "AssumeRolePolicyDocument"), OWN_TEXT),
            )
        ),
        ("iam", "put_role_policy"): Operation(
            (
                Field("RoleName", from_schema(policy, "RoleName"), ROLE_FIX),
                Field(
                    "PolicyName", from_schema(policy, "PolicyName"), settings_fix("deployment.name")
                ),
                Field("PolicyDocument", from_schema(policy, "PolicyDocument"), OWN_TEXT),
            ),
            (POLICY_SIZE,),
        ),
        ("iam", "delete_role_policy"): Operation(
            (Field("PolicyName", from_schema(policy, "PolicyName"), FOUND),)
        ),
        ("iam", "detach_role_policy"): Operation((Field("RoleName", role_name, FOUND),)),
        ("iam", "delete_role"): Operation((Field("RoleName", role_name, FOUND),)),
        ("ecr", "create_repository"): Operation(
            (
                Field("repositoryName", repo_name, settings_fix("task_definition.family")),
                Field("imageTagMutability", mutability, OWN_TEXT),
                *tag_fields("AWS::ECR::Repository", "tags[]"),
            ),
            (tag_count("tags"),),
        ),
        ("ecr", "put_image_tag_mutability"): Operation(
            (
                Field("repositoryName", repo_name, FOUND),
                Field("imageTagMutability", mutability, OWN_TEXT),
            )
        ),
        ("ecr", "delete_repository"): Operation((Field("repositoryName", repo_name, FOUND),)),
        ("ecr", "put_lifecycle_policy"): Operation(
            (
                Field("repositoryName", repo_name, settings_fix("task_definition.family")),
                Field(
                    "lifecyclePolicyText",
                    from_schema("AWS::ECR::Repository", "LifecyclePolicy.LifecyclePolicyText"),
                    OWN_TEXT,
                ),
            )
        ),
        ("ecr", "describe_images"): Operation(
            (Field("repositoryName", repo_name, settings_fix("task_definition.family")),)
        ),
        # No parameters: the token is for the caller's own registry (registryIds is deprecated).
        ("ecr", "get_authorization_token"): Operation(),
        ("ecs", "register_task_definition"): Operation(
            (
                Field("family", ECS_NAME, settings_fix("task_definition.family")),
                Field(
                    "containerDefinitions[].name",
                    ECS_NAME,
                    settings_fix("task_definition.container_name"),
                ),
                Field(
                    "containerDefinitions[].portMappings[].containerPort",
                    (between(1, 65535, f"{ECS_API}/API_PortMapping.html"),),
                    settings_fix("security_groups.app_port"),
                ),
                Field(
                    "containerDefinitions[].logConfiguration.options.awslogs-group",
                    log_name,
                    settings_fix("cluster.log_group"),
                ),
                Field(
                    "containerDefinitions[].image",
                    (
                        length(1, 255, f"{ECS_API}/API_ContainerDefinition.html"),
                        pattern(
                            r"[^\s]+",
                            "must be an image reference without spaces",
                            f"{ECS_API}/API_ContainerDefinition.html",
                        ),
                    ),
                    settings_fix("task_definition.image"),
                ),
                Field(
                    "runtimePlatform.cpuArchitecture",
                    from_schema(td, "RuntimePlatform.CpuArchitecture"),
                    settings_fix("task_definition.cpu_architecture"),
                ),
                Field(
                    "runtimePlatform.operatingSystemFamily",
                    from_schema(td, "RuntimePlatform.OperatingSystemFamily"),
                    OWN_TEXT,
                ),
                Field(
                    "networkMode",
                    from_schema(td, "NetworkMode")
                    if cfn.constraints(td, "NetworkMode")
                    else (
                        pattern(
                            r"awsvpc|bridge|host|none",
                            "must be awsvpc, bridge, host or none",
                            f"{ECS_API}/API_RegisterTaskDefinition.html",
                        ),
                    ),
                    OWN_TEXT,
                ),
                *_ecs_tags(td),
            ),
            (FARGATE, CONTAINER_MEMORY, tag_count("tags")),
        ),
        ("ecs", "deregister_task_definition"): Operation(),
        ("ecs", "delete_task_definitions"): Operation(
            (Field("taskDefinitions[]", (TASK_DEFINITION_REVISION,), FOUND),),
            (REVISIONS_PER_DELETE,),
        ),
        # VI. Service
        ("ecs", "create_service"): Operation(
            (
                Field("serviceName", ECS_NAME, settings_fix("service.name")),
                Field("cluster", ECS_NAME, settings_fix("cluster.name")),
                Field("launchType", from_schema("AWS::ECS::Service", "LaunchType"), OWN_TEXT),
                Field(
                    "propagateTags",
                    from_schema("AWS::ECS::Service", "PropagateTags"),
                    OWN_TEXT,
                ),
                Field(
                    "desiredCount",
                    (between(0, 2147483647, f"{ECS_API}/API_CreateService.html"),),
                    settings_fix("service.desired_count"),
                ),
                Field(
                    "healthCheckGracePeriodSeconds",
                    (between(0, 2147483647, f"{ECS_API}/API_CreateService.html", " s"),),
                    settings_fix("service.health_check_grace_period"),
                ),
                Field(
                    "loadBalancers[].containerName",
                    ECS_NAME,
                    settings_fix("task_definition.container_name"),
                ),
                *_ecs_tags("AWS::ECS::Service"),
            ),
            (tag_count("tags"),),
        ),
        ("ecs", "update_service"): Operation(
            (
                Field("service", ECS_NAME, settings_fix("service.name")),
                Field("cluster", ECS_NAME, settings_fix("cluster.name")),
                Field(
                    "desiredCount",
                    (between(0, 2147483647, f"{ECS_API}/API_UpdateService.html"),),
                    settings_fix("service.desired_count"),
                ),
            )
        ),
        ("ecs", "describe_services"): Operation(
            (Field("cluster", ECS_NAME, settings_fix("cluster.name")),)
        ),
        ("ecs", "delete_service"): Operation(
            (Field("service", ECS_NAME, FOUND), Field("cluster", ECS_NAME, FOUND))
        ),
        # VII. HTTPS and domain
        ("acm", "request_certificate"): Operation(
            (
                Field(
                    "DomainName",
                    (
                        length(
                            1,
                            253,
                            "https://docs.aws.amazon.com/acm/latest/APIReference/"
                            "API_RequestCertificate.html",
                        ),
                    ),
                    settings_fix("domain.name"),
                ),
                Field(
                    "ValidationMethod",
                    from_schema(cert, "ValidationMethod")
                    if cfn.constraints(cert, "ValidationMethod")
                    else (
                        pattern(
                            r"DNS|EMAIL",
                            "must be DNS or EMAIL",
                            "https://docs.aws.amazon.com/acm/latest/APIReference/"
                            "API_RequestCertificate.html",
                        ),
                    ),
                    OWN_TEXT,
                ),
                *tag_fields(cert),
            ),
            (tag_count("Tags"),),
        ),
        ("acm", "describe_certificate"): Operation(),
        ("acm", "delete_certificate"): Operation(),
        ("route53", "change_resource_record_sets"): Operation(
            (
                Field(
                    "ChangeBatch.Changes[].ResourceRecordSet.TTL",
                    (
                        between(
                            0,
                            2147483647,
                            "https://docs.aws.amazon.com/Route53/latest/APIReference/"
                            "API_ResourceRecordSet.html",
                            " s",
                        ),
                    ),
                    OWN_TEXT,
                ),
                Field(
                    "ChangeBatch.Changes[].ResourceRecordSet.Name",
                    (
                        length(
                            1,
                            1024,
                            "https://docs.aws.amazon.com/Route53/latest/APIReference/"
                            "API_ResourceRecordSet.html",
                        ),
                    ),
                    settings_fix("domain.name"),
                ),
            )
        ),
        # VIII. Auto scaling
        ("application-autoscaling", "register_scalable_target"): Operation(
            scaling_where, (CAPACITY,)
        ),
        ("application-autoscaling", "put_scaling_policy"): Operation(
            (
                *scaling_where,
                Field("PolicyName", from_schema(scaling, "PolicyName"), OWN_TEXT),
                Field("PolicyType", from_schema(scaling, "PolicyType"), OWN_TEXT),
            )
        ),
        ("application-autoscaling", "deregister_scalable_target"): Operation(scaling_where),
    }
