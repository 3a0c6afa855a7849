"""`runbook export`: the deployment as a CloudFormation template, the way out of the runbook.

Built from the very plan a deploy runs (offline, as if nothing exists yet), each call
translated by the resource kind it belongs to (runbook/resources), so the template and the
deploy cannot drift apart.
"""

from __future__ import annotations

import json
from typing import Any

from runbook.aws_rules import check, problem
from runbook.errors import RunbookError
from runbook.export.pseudo import anywhere
from runbook.plan import Action, ApiCall
from runbook.resources.registry import TRANSLATIONS
from runbook.resources.template import Source, Template
from runbook.settings import Settings
from runbook.steps import STEPS, domain, roles
from runbook.steps.role_policies import ACCOUNT_KEY
from runbook.steps.security_groups import SUBNETS, VPC


def offline_plan(settings: Settings) -> list[Action]:
    return [a for step in STEPS if step.enabled(settings) for a in step.plan(settings, None)]


def template(
    settings: Settings, actions: list[Action] | None = None, version: str = ""
) -> dict[str, Any]:
    """The template for these settings; RunbookError if AWS's rules refuse a planned call.
    version: the app's current version, the ImageTag parameter's default."""
    actions = offline_plan(settings) if actions is None else actions
    refused = [r for a in actions for r in check(a, {})]
    if refused:
        raise RunbookError(problem(refused))
    name = settings.deployment.name
    t = Template(
        f"fargate-runbook: the {name} deployment (the Flask Todo API on ECS Fargate behind an "
        "Application Load Balancer, with RDS PostgreSQL), as `runbook deploy` makes it. "
        "Generated from the same plan; it holds no secret."
    )
    t.parameters["VpcId"] = {
        "Type": "AWS::EC2::VPC::Id",
        "Description": "The VPC (the runbook uses the region's default VPC)",
    }
    t.parameters["Subnets"] = {
        "Type": "List<AWS::EC2::Subnet::Id>",
        "Description": "Public subnets of that VPC in two or more Availability Zones "
        "(the runbook uses the default subnets)",
    }
    t.sources[VPC] = Source("VpcId")
    t.sources[SUBNETS] = Source("Subnets")
    t.sources[ACCOUNT_KEY] = Source("AWS::AccountId")
    for role in roles.roles(settings):
        if roles.lent(settings, None, role.kind):
            arn = "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/" + role.name
            t.sources[roles.arn_key(role.name)] = Source(role.name, sub=arn)
            t.notes.append(f"{role.name} is the account's: used by ARN, not in the template.")
    if settings.domain.name:  # the hosted zone discovery would find: the person names it
        t.sources[domain.keys(settings)["zone"]] = Source("HostedZoneId")
    for action in actions:
        if not isinstance(action, ApiCall):
            continue  # CloudFormation waits for what it creates by itself
        translate = TRANSLATIONS.get((action.service, action.operation))
        if translate is None:
            raise ValueError(f"no template translation for {action.service}.{action.operation}")
        translate(t, action)
    _services_after_listeners(t)
    if version and "ImageTag" in t.parameters:
        t.parameters["ImageTag"]["Default"] = version
    t.resources = anywhere(t.resources, settings.deployment.region)
    return t.document()


def _services_after_listeners(t: Template) -> None:
    """A service may start only once a listener ties its target group to the load balancer;
    with HTTPS on, that is the 443 listener (80 only redirects), made after the service."""
    listeners = [k for k, r in t.resources.items() if r["Type"].endswith("::Listener")]
    for resource in t.resources.values():
        if resource["Type"] == "AWS::ECS::Service":
            resource["DependsOn"] = listeners


def dump(document: dict[str, Any], fmt: str = "yaml") -> str:
    if fmt == "json":
        return json.dumps(document, indent=2) + "\n"
    import yaml

    return yaml.safe_dump(document, sort_keys=False, width=100, allow_unicode=True)
