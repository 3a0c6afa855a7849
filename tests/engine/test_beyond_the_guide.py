"""The guide's own to-do list: HTTPS with a domain name, and service auto scaling."""

from __future__ import annotations

import pytest

from runbook import destroy as tear_down
from runbook.errors import RunbookError
from runbook.events import CallMade


@pytest.fixture
def domain_settings(settings):
    return settings.replace("domain", name="todo.example.com").replace(
        "auto_scaling", max_tasks=4, target_cpu=60
    )


@pytest.fixture
def zone(aws) -> str:
    return aws.client("route53").create_hosted_zone(Name="example.com", CallerReference="test")[
        "HostedZone"
    ]["Id"]


def records(aws, zone: str) -> dict[tuple[str, str], dict]:
    sets = aws.client("route53").list_resource_record_sets(HostedZoneId=zone)
    return {(r["Name"].rstrip("."), r["Type"]): r for r in sets["ResourceRecordSets"]}


def test_https_domain_and_scaling_deploy_and_redeploy(
    make_runbook, aws, domain_settings, zone, events
) -> None:
    runbook = make_runbook(settings=domain_settings)
    summary = runbook.deploy()
    elb = aws.client("elbv2")
    lb = elb.describe_load_balancers(Names=["flask-todo-elb"])["LoadBalancers"][0]
    listeners = {
        x["Port"]: x
        for x in elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
    }
    assert listeners[443]["Protocol"] == "HTTPS"
    assert listeners[443]["Certificates"][0]["CertificateArn"].startswith("arn:aws:acm:")
    redirect = listeners[80]["DefaultActions"][0]
    assert redirect["Type"] == "redirect"
    assert redirect["RedirectConfig"]["Protocol"] == "HTTPS"

    found = records(aws, zone)
    alias = found[("todo.example.com", "A")]["AliasTarget"]
    assert lb["DNSName"].lower() in alias["DNSName"].lower()
    assert any(kind == "CNAME" for _, kind in found)  # the certificate's validation record
    sg = aws.client("ec2").describe_security_groups(
        Filters=[{"Name": "group-name", "Values": ["flask-todo-elb-sg"]}]
    )["SecurityGroups"][0]
    assert {p["FromPort"] for p in sg["IpPermissions"]} == {80, 443}

    scaling = aws.client("application-autoscaling")
    (target,) = scaling.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (1, 4)
    (policy,) = scaling.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]
    assert policy["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == 60.0
    assert summary.dns_name

    events.clear()
    make_runbook(settings=domain_settings).deploy()
    assert [e.operation for e in events if isinstance(e, CallMade) and e.mutating] == []


def test_teardown_removes_certificate_records_and_scaling(
    make_runbook, aws, domain_settings, zone
) -> None:
    aws.client("route53").change_resource_record_sets(
        HostedZoneId=zone,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "UPSERT",
                    "ResourceRecordSet": {
                        "Name": "www.example.com",
                        "Type": "A",
                        "TTL": 60,
                        "ResourceRecords": [{"Value": "192.0.2.1"}],
                    },
                }
            ]
        },
    )
    runbook = make_runbook(settings=domain_settings)
    runbook.deploy()
    plan = tear_down.plan(runbook)
    ops = [a.operation for a in plan]
    assert ops[0] == "deregister_scalable_target"
    assert ops.index("delete_listener") < ops.index("delete_certificate")
    tear_down.run(runbook, plan)
    left = records(aws, zone)
    assert ("todo.example.com", "A") not in left
    assert not [k for k in left if k[1] == "CNAME"]
    assert ("www.example.com", "A") in left  # not ours: untouched
    assert aws.client("acm").list_certificates()["CertificateSummaryList"] == []
    assert (
        aws.client("application-autoscaling").describe_scalable_targets(ServiceNamespace="ecs")[
            "ScalableTargets"
        ]
        == []
    )


def test_a_domain_without_a_hosted_zone_is_explained(make_runbook, domain_settings) -> None:
    runbook = make_runbook(settings=domain_settings)
    with pytest.raises(RunbookError) as caught:
        runbook.apply(runbook.step("VII"))
    assert caught.value.problem.code == "NoHostedZone"
    assert "todo.example.com" in caught.value.problem.message


def test_off_by_default_they_plan_nothing(settings) -> None:
    from runbook.steps import STEPS

    assert [s.number for s in STEPS if s.plan(settings, None)] == [
        "I",
        "II",
        "III",
        "IV",
        "V",
        "VI",
    ]
