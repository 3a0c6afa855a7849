"""One translator per creating operation: a planned call becomes the resource it would make.

Calls that change what an earlier call made (attributes, retention, policies, a redirect)
become properties of that resource, so the template says in one place what a deploy ends with.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from runbook.export.template import PASSWORD_PARAMETER, Source, Template, logical_id, pascal
from runbook.plan import ApiCall, Ref, Secret

Translator = Callable[[Template, ApiCall], None]


def _tags(tags: Any) -> Any:
    """Every service's tag spelling ({key, value}, a map) as CloudFormation's Key/Value list."""
    if isinstance(tags, dict):
        return [{"Key": k, "Value": v} for k, v in tags.items()]
    return [
        {"Key": t.get("Key", t.get("key")), "Value": t.get("Value", t.get("value"))} for t in tags
    ]


def security_group(t: Template, call: ApiCall) -> None:
    p = call.params
    logical = logical_id(p["GroupName"])
    t.add(
        logical,
        "AWS::EC2::SecurityGroup",
        {
            "GroupName": p["GroupName"],
            "GroupDescription": p["Description"],
            "VpcId": t.value(p["VpcId"]),
            "Tags": _tags(p["TagSpecifications"][0]["Tags"]),
        },
        name=p["GroupName"],
    )
    t.provides(f"{p['GroupName']}.GroupId", logical, "GroupId")


def ingress(t: Template, call: ApiCall) -> None:
    group = t.owner(call.params["GroupId"])
    for perm in call.params["IpPermissions"]:
        rule: dict[str, Any] = {
            "GroupId": t.value(call.params["GroupId"]),
            "IpProtocol": perm["IpProtocol"],
            "FromPort": perm["FromPort"],
            "ToPort": perm["ToPort"],
        }
        for source in perm.get("IpRanges", []):
            rule |= {"CidrIp": source["CidrIp"], "Description": source["Description"]}
        for source in perm.get("UserIdGroupPairs", []):
            rule |= {
                "SourceSecurityGroupId": t.value(source["GroupId"]),
                "Description": source["Description"],
            }
        t.add(f"{group}Ingress{perm['FromPort']}", "AWS::EC2::SecurityGroupIngress", rule)


def target_group(t: Template, call: ApiCall) -> None:
    p = dict(call.params)
    logical = logical_id(p["Name"])
    properties = {k: t.value(v) for k, v in p.items() if k != "Tags"}
    t.add(
        logical,
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        properties | {"Tags": _tags(p["Tags"])},
        name=p["Name"],
    )
    for key in call.captures:
        t.provides(key, logical)


def target_group_attributes(t: Template, call: ApiCall) -> None:
    props = t.properties(t.owner(call.params["TargetGroupArn"]))
    props.setdefault("TargetGroupAttributes", []).extend(call.params["Attributes"])


def load_balancer(t: Template, call: ApiCall) -> None:
    p = call.params
    logical = logical_id(p["Name"])
    t.add(
        logical,
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        {k: t.value(v) for k, v in p.items() if k != "Tags"} | {"Tags": _tags(p["Tags"])},
        name=p["Name"],
    )
    for key, path in call.captures.items():
        attribute = {
            "LoadBalancers.0.LoadBalancerArn": "",
            "LoadBalancers.0.DNSName": "DNSName",
            # CloudFormation spells it ...ID where the API says ...Id.
            "LoadBalancers.0.CanonicalHostedZoneId": "CanonicalHostedZoneID",
        }[path]
        t.provides(key, logical, attribute)
    t.outputs["LoadBalancerDNSName"] = {
        "Description": "The load balancer's DNS name: http://<it>/healthz answers once healthy",
        "Value": {"Fn::GetAtt": [logical, "DNSName"]},
    }


def load_balancer_attributes(t: Template, call: ApiCall) -> None:
    props = t.properties(t.owner(call.params["LoadBalancerArn"]))
    props.setdefault("LoadBalancerAttributes", []).extend(call.params["Attributes"])


def listener(t: Template, call: ApiCall) -> None:
    p = call.params
    logical = f"{t.owner(p['LoadBalancerArn'])}{p['Protocol'].title()}{p['Port']}Listener"
    properties = {k: t.value(v) for k, v in p.items() if k != "Tags"}
    t.add(logical, "AWS::ElasticLoadBalancingV2::Listener", properties | {"Tags": _tags(p["Tags"])})
    for key in call.captures:
        t.provides(key, logical)


def listener_change(t: Template, call: ApiCall) -> None:
    props = t.properties(t.owner(call.params["ListenerArn"]))
    props["DefaultActions"] = t.value(call.params["DefaultActions"])


def service_linked_role(t: Template, call: ApiCall) -> None:
    t.notes.append(
        "ECS's service-linked role (AWSServiceRoleForECS) is not in the template: it is the "
        "account's, shared by every ECS user, and ECS creates it on first use."
    )


def cluster(t: Template, call: ApiCall) -> None:
    p = call.params
    logical = logical_id(p["clusterName"])
    properties = pascal({k: v for k, v in p.items() if k != "tags"})
    t.add(
        logical, "AWS::ECS::Cluster", properties | {"Tags": _tags(p["tags"])}, name=p["clusterName"]
    )
    for key in call.captures:
        t.provides(key, logical, "Arn")


def log_group(t: Template, call: ApiCall) -> None:
    p = call.params
    t.add(
        logical_id(p["logGroupName"], "log-group"),
        "AWS::Logs::LogGroup",
        {"LogGroupName": p["logGroupName"], "Tags": _tags(p["tags"])},
        name=p["logGroupName"],
    )


def retention(t: Template, call: ApiCall) -> None:
    t.properties(t.owner(call.params["logGroupName"]))["RetentionInDays"] = call.params[
        "retentionInDays"
    ]


def secret(t: Template, call: ApiCall) -> None:
    """A password of the person's own: a NoEcho parameter, kept only in Secrets Manager."""
    p = call.params
    body = json.loads(p["SecretString"].value) if isinstance(p["SecretString"], Secret) else {}
    t.parameters[PASSWORD_PARAMETER] = {
        "Type": "String",
        "NoEcho": True,
        "MinLength": 8,
        "MaxLength": 128,
        # RDS refuses / " @ and spaces; a backslash would break the secret's JSON.
        "AllowedPattern": r'[^/"@ \\]+',
        "Description": "The database master password (RUNBOOK_DB_PASSWORD): given when the "
        "stack is created, never stored in the template, kept in Secrets Manager.",
    }
    logical = logical_id(p["Name"])
    t.add(
        logical,
        "AWS::SecretsManager::Secret",
        {
            "Name": p["Name"],
            "Description": p["Description"],
            "SecretString": {
                "Fn::Sub": json.dumps(
                    {
                        "username": body.get("username", ""),
                        "password": "${" + PASSWORD_PARAMETER + "}",
                    }
                )
            },
            "Tags": _tags(p["Tags"]),
        },
    )
    for key in call.captures:
        t.provides(key, logical)
    t.notes.append(
        "The database password is your own (RUNBOOK_DB_PASSWORD): the template holds none. "
        f"Give it as the NoEcho parameter {PASSWORD_PARAMETER} when you create the stack; it "
        "goes to Secrets Manager, and RDS reads it from there (a dynamic reference)."
    )


def db_instance(t: Template, call: ApiCall) -> None:
    p = dict(call.params)
    logical = logical_id(p["DBInstanceIdentifier"])
    properties = {
        k: t.value(v)
        for k, v in p.items()
        if k not in ("Tags", "MasterUserPassword", "VpcSecurityGroupIds")
    }
    # CloudFormation takes these as strings.
    properties["AllocatedStorage"] = str(properties["AllocatedStorage"])
    properties["Port"] = str(properties["Port"])
    properties["VPCSecurityGroups"] = t.value(p["VpcSecurityGroupIds"])
    ident = p["DBInstanceIdentifier"]
    secret_key = f"{ident}.MasterUserSecret.SecretArn"
    if "MasterUserPassword" in p:
        # Read from the secret at deploy time (a dynamic reference): no password in the text.
        variable = t.sources[secret_key].variable()
        properties["MasterUserPassword"] = {
            "Fn::Sub": "{{resolve:secretsmanager:" + variable + ":SecretString:password}}"
        }
    else:
        t.notes.append(
            "The database password is generated by RDS and kept in Secrets Manager "
            "(ManageMasterUserPassword): nobody sees it, and the template holds none."
        )
    properties["Tags"] = _tags(p["Tags"])
    t.add(logical, "AWS::RDS::DBInstance", properties, name=ident)
    # As `runbook destroy`: deleting the stack, or a change that replaces the instance, keeps
    # the data as a snapshot first (DeletionProtection, a setting, is already a property).
    t.resources[logical]["DeletionPolicy"] = "Snapshot"
    t.resources[logical]["UpdateReplacePolicy"] = "Snapshot"
    t.notes.append(
        "Deleting the stack keeps the database as a snapshot (DeletionPolicy: Snapshot), as "
        "`runbook destroy` keeps a final snapshot."
    )
    t.provides(f"{ident}.DBInstanceArn", logical, "DBInstanceArn")
    t.provides(f"{ident}.Endpoint.Address", logical, "Endpoint.Address")
    t.provides(f"{ident}.Endpoint.Port", logical, "Endpoint.Port")
    if "MasterUserPassword" not in p:
        t.provides(secret_key, logical, "MasterUserSecret.SecretArn")


def role(t: Template, call: ApiCall) -> None:
    p = call.params
    logical = logical_id(p["RoleName"])
    t.add(
        logical,
        "AWS::IAM::Role",
        {
            "RoleName": p["RoleName"],
            "Description": p["Description"],
            "AssumeRolePolicyDocument": t.value(p["AssumeRolePolicyDocument"]),
            "Tags": _tags(p["Tags"]),
        },
        name=p["RoleName"],
    )
    for key in call.captures:
        t.provides(key, logical, "Arn")


def inline_policy(t: Template, call: ApiCall) -> None:
    props = t.properties(t.owner(call.params["RoleName"]))
    document = call.params["PolicyDocument"]
    props.setdefault("Policies", []).append(
        {
            "PolicyName": call.params["PolicyName"],
            "PolicyDocument": t.value(document)
            if isinstance(document, Ref)
            else json.loads(document),
        }
    )


def repository(t: Template, call: ApiCall) -> None:
    p = call.params
    logical = logical_id(p["repositoryName"], "repository")
    properties = pascal({k: v for k, v in p.items() if k != "tags"})
    t.add(
        logical,
        "AWS::ECR::Repository",
        properties | {"Tags": _tags(p["tags"])},
        name=p["repositoryName"],
    )
    for key in call.captures:
        t.provides(key, logical, "RepositoryUri")
        # What the task definition names: this repository, the version the stack is given.
        image = key.removesuffix(".repositoryUri") + ".image"
        t.sources[image] = Source(logical, sub="${" + logical + ".RepositoryUri}:${ImageTag}")
    t.parameters["ImageTag"] = {
        "Type": "String",
        "MinLength": 1,
        "Description": "The app's version to run: the tag its image was pushed with (the "
        "runbook tags each build with its git commit, git-<sha>, or a digest of its source)",
    }
    t.outputs["RepositoryUri"] = {
        "Description": "Push the app's image here, tagged with its version (docker build "
        "--platform linux/amd64 -t <RepositoryUri>:<version> todo_app)",
        "Value": {"Fn::GetAtt": [logical, "RepositoryUri"]},
    }
    t.notes.append(
        "The service runs <RepositoryUri>:<ImageTag>. Push that image while the stack creates "
        "the service (the runbook builds and pushes it itself, while the database is created; "
        "CloudFormation's deployment circuit breaker rolls the service back if it never comes)."
    )


def lifecycle_policy(t: Template, call: ApiCall) -> None:
    props = t.properties(t.owner(call.params["repositoryName"]))
    props["LifecyclePolicy"] = {"LifecyclePolicyText": call.params["lifecyclePolicyText"]}


def task_definition(t: Template, call: ApiCall) -> None:
    p = call.params
    logical = logical_id(p["family"], "task-definition")
    properties = pascal({k: v for k, v in p.items() if k != "tags"})
    t.add(
        logical,
        "AWS::ECS::TaskDefinition",
        t.value(properties) | {"Tags": _tags(p["tags"])},
    )
    for key in call.captures:
        t.provides(key, logical)


def service(t: Template, call: ApiCall) -> None:
    p = dict(call.params)
    logical = logical_id(p["serviceName"])
    properties = pascal({k: v for k, v in p.items() if k not in ("tags", "cluster")})
    properties["Cluster"] = {"Ref": t.owner(p["cluster"])}
    t.add(
        logical,
        "AWS::ECS::Service",
        t.value(properties) | {"Tags": _tags(p["tags"])},
        name=p["serviceName"],
    )
    for key in call.captures:
        t.provides(key, logical)


def certificate(t: Template, call: ApiCall) -> None:
    p = call.params
    t.parameters["HostedZoneId"] = {
        "Type": "AWS::Route53::HostedZone::Id",
        "Description": f"The public Route 53 hosted zone that holds {p['DomainName']}",
    }
    logical = "Certificate"
    t.add(
        logical,
        "AWS::CertificateManager::Certificate",
        {
            "DomainName": p["DomainName"],
            "ValidationMethod": p["ValidationMethod"],
            # CloudFormation publishes the validation record itself, as the runbook does.
            "DomainValidationOptions": [
                {"DomainName": p["DomainName"], "HostedZoneId": {"Ref": "HostedZoneId"}}
            ],
            "Tags": _tags(p["Tags"]),
        },
    )
    for key in call.captures:
        t.provides(key, logical)


def record(t: Template, call: ApiCall) -> None:
    (change,) = call.params["ChangeBatch"]["Changes"]
    rrset = change["ResourceRecordSet"]
    if isinstance(rrset["Name"], Ref):  # the certificate's validation record: see Certificate
        return
    t.add(
        logical_id(rrset["Name"], "alias"),
        "AWS::Route53::RecordSet",
        t.value({"HostedZoneId": call.params["HostedZoneId"], **rrset}),
    )


def scalable_target(t: Template, call: ApiCall) -> None:
    service_logical = next(
        name for name, r in t.resources.items() if r["Type"] == "AWS::ECS::Service"
    )
    t.add(
        "ScalableTarget",
        "AWS::ApplicationAutoScaling::ScalableTarget",
        dict(call.params),
        depends_on=[service_logical],
    )


def scaling_policy(t: Template, call: ApiCall) -> None:
    p = call.params
    t.add(
        logical_id(p["PolicyName"]),
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        {
            "PolicyName": p["PolicyName"],
            "PolicyType": p["PolicyType"],
            "ScalingTargetId": {"Ref": "ScalableTarget"},
            "TargetTrackingScalingPolicyConfiguration": p[
                "TargetTrackingScalingPolicyConfiguration"
            ],
        },
    )


TRANSLATORS: dict[tuple[str, str], Translator] = {
    ("ec2", "create_security_group"): security_group,
    ("ec2", "authorize_security_group_ingress"): ingress,
    ("elbv2", "create_target_group"): target_group,
    ("elbv2", "modify_target_group_attributes"): target_group_attributes,
    ("elbv2", "create_load_balancer"): load_balancer,
    ("elbv2", "modify_load_balancer_attributes"): load_balancer_attributes,
    ("elbv2", "create_listener"): listener,
    ("elbv2", "modify_listener"): listener_change,
    ("iam", "create_service_linked_role"): service_linked_role,
    ("ecs", "create_cluster"): cluster,
    ("logs", "create_log_group"): log_group,
    ("logs", "put_retention_policy"): retention,
    ("secretsmanager", "create_secret"): secret,
    ("rds", "create_db_instance"): db_instance,
    ("iam", "create_role"): role,
    ("iam", "put_role_policy"): inline_policy,
    ("ecr", "create_repository"): repository,
    ("ecr", "put_lifecycle_policy"): lifecycle_policy,
    ("ecs", "register_task_definition"): task_definition,
    ("ecs", "create_service"): service,
    ("acm", "request_certificate"): certificate,
    ("route53", "change_resource_record_sets"): record,
    ("application-autoscaling", "register_scalable_target"): scalable_target,
    ("application-autoscaling", "put_scaling_policy"): scaling_policy,
}
