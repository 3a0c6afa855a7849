"""Section II: an internet-facing ALB on 2+ zones, its target group (ip, /healthz), HTTP:80."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runbook.aws import Aws
from runbook.plan import Action, ApiCall, Ref, Wait, tags
from runbook.resources import listener as listener_kind
from runbook.resources import load_balancer, target_group
from runbook.settings import Settings
from runbook.steps.base import Observed, Resource, Step, adopt, missing_on, tagged
from runbook.steps.security_groups import SUBNETS, VPC, group_id


def lb_arn(s: Settings) -> Ref:
    return Ref(f"{s.load_balancer.name}.LoadBalancerArn")


def tg_arn(s: Settings) -> Ref:
    return Ref(f"{s.load_balancer.target_group}.TargetGroupArn")


def dns_key(s: Settings) -> str:
    return f"{s.load_balancer.name}.DNSName"


def zone_key(s: Settings) -> str:
    """The ALB's own hosted zone, which a Route 53 alias to it names."""
    return f"{s.load_balancer.name}.CanonicalHostedZoneId"


def http_listener_key(s: Settings) -> str:
    return f"{s.load_balancer.name}.HTTP.ListenerArn"


# Issue 7 item 6a: the ALB drops header fields that are not valid HTTP (request smuggling,
# header injection) instead of passing them on to the app. Off by default in AWS.
LOAD_BALANCER_ATTRIBUTES = {"routing.http.drop_invalid_header_fields.enabled": "true"}


def _health_check(s: Settings) -> dict[str, Any]:
    lb = s.load_balancer
    return {
        "HealthCheckProtocol": "HTTP",
        "HealthCheckPath": lb.health_check_path,
        "HealthCheckIntervalSeconds": lb.health_check_interval,
        "HealthCheckTimeoutSeconds": min(5, lb.health_check_interval - 1),
        "HealthyThresholdCount": lb.healthy_threshold,
        "UnhealthyThresholdCount": 2,
        "Matcher": {"HttpCode": "200"},
    }


def load_balancer_active(s: Settings, section: str) -> Wait:
    def until(r: dict[str, Any]) -> bool | str:
        state = r["LoadBalancers"][0]["State"]
        if state["Code"] == "failed":
            return state.get("Reason", "the load balancer failed to provision")
        return state["Code"] == "active"

    return Wait(
        "elbv2",
        "describe_load_balancers",
        {"LoadBalancerArns": [lb_arn(s)]},
        f"load balancer {s.load_balancer.name} to be active",
        until=until,
        section=section,
        interval=10,
        timeout=900,
    )


class LoadBalancerStep(Step):
    number = "II"
    key = "load_balancer"
    title = "Load balancer"
    explanation = (
        "An internet-facing Application Load Balancer on subnets in two or more Availability "
        "Zones (AWS requires two), a target group of type ip (Fargate tasks register by IP) "
        "on port 5000 with health checks on /healthz, and an HTTP:80 listener forwarding to it. "
        "Unlike the guide's console defaults, health checks run every 15 s and two passes "
        "make a target healthy (about 30 s instead of 150 s), draining takes 30 s, not 300, "
        "and the load balancer drops header fields that are not valid HTTP."
    )

    def discover(self, aws: Aws, s: Settings, known: Mapping[str, Any]) -> Observed:
        lb_s = s.load_balancer
        seen = Observed()
        lbs = missing_on(
            load_balancer.NOT_FOUND,
            lambda: aws.call("elbv2", "describe_load_balancers", Names=[lb_s.name]),
        )
        tgs = missing_on(
            target_group.NOT_FOUND,
            lambda: aws.call("elbv2", "describe_target_groups", Names=[lb_s.target_group]),
        )
        lb = lbs["LoadBalancers"][0] if lbs and lbs["LoadBalancers"] else None
        tg = tgs["TargetGroups"][0] if tgs and tgs["TargetGroups"] else None
        arns = [x[k] for x, k in ((lb, "LoadBalancerArn"), (tg, "TargetGroupArn")) if x]
        tag_map = {}
        if arns:
            described = aws.call("elbv2", "describe_tags", ResourceArns=arns)["TagDescriptions"]
            tag_map = {d["ResourceArn"]: d.get("Tags", []) for d in described}
        ours = lambda arn: tagged(tag_map.get(arn), s.deployment.name)  # noqa: E731
        if lb:
            seen.found["lb"] = lb
            seen.known[lb_arn(s).key] = lb["LoadBalancerArn"]
            seen.known[dns_key(s)] = lb["DNSName"]
            seen.known[zone_key(s)] = lb["CanonicalHostedZoneId"]
            listeners = aws.call(
                "elbv2", "describe_listeners", LoadBalancerArn=lb["LoadBalancerArn"]
            )["Listeners"]
            seen.found["listeners"] = listeners
            seen.found["listener"] = next(
                (x for x in listeners if x["Port"] == s.security_groups.listener_port), None
            )
            if seen.found["listener"]:
                seen.known[http_listener_key(s)] = seen.found["listener"]["ListenerArn"]
            lb_attrs = aws.call(
                "elbv2", "describe_load_balancer_attributes", LoadBalancerArn=lb["LoadBalancerArn"]
            )["Attributes"]
            seen.found["lb_attrs"] = {a["Key"]: a["Value"] for a in lb_attrs}
        if tg:
            seen.found["tg"] = tg
            seen.known[tg_arn(s).key] = tg["TargetGroupArn"]
            attrs = aws.call(
                "elbv2", "describe_target_group_attributes", TargetGroupArn=tg["TargetGroupArn"]
            )["Attributes"]
            seen.found["tg_attrs"] = {a["Key"]: a["Value"] for a in attrs}
        seen.resources = [
            Resource.seen(
                target_group.NAME,
                lb_s.target_group,
                tg,
                "TargetGroupArn",
                lambda found: ours(found["TargetGroupArn"]),
            ),
            Resource.seen(
                load_balancer.NAME,
                lb_s.name,
                lb,
                "LoadBalancerArn",
                lambda found: ours(found["LoadBalancerArn"]),
                state=lambda found: found["State"]["Code"],
            ),
        ]
        listener = seen.found.get("listener")
        seen.resources.append(
            Resource.seen(
                listener_kind.NAME,
                f"HTTP:{s.security_groups.listener_port}",
                listener,
                "ListenerArn",
                bool(lb) and ours(lb["LoadBalancerArn"]),  # it goes with its load balancer
            )
        )
        return seen

    def plan(self, s: Settings, seen: Observed | None) -> list[Action]:
        lb_s, found = s.load_balancer, (seen.found if seen else {})
        deployment = s.deployment.name
        actions: list[Action] = []
        tg, lb = found.get("tg"), found.get("lb")
        wanted_hc = _health_check(s)
        if tg is None:
            actions.append(
                ApiCall(
                    "elbv2",
                    "create_target_group",
                    {
                        "Name": lb_s.target_group,
                        "Protocol": "HTTP",
                        "Port": s.security_groups.app_port,
                        "VpcId": Ref(VPC),
                        "TargetType": "ip",
                        **wanted_hc,
                        "Tags": tags(deployment, lb_s.target_group),
                    },
                    f"create {lb_s.target_group}: Fargate tasks register by IP on port "
                    f"{s.security_groups.app_port}, checked on {lb_s.health_check_path}",
                    self.number,
                    captures={tg_arn(s).key: "TargetGroups.0.TargetGroupArn"},
                )
            )
        else:
            if any(tg.get(k) != v for k, v in wanted_hc.items()):
                actions.append(
                    ApiCall(
                        "elbv2",
                        "modify_target_group",
                        {"TargetGroupArn": tg_arn(s), **wanted_hc},
                        f"set {lb_s.target_group}'s health check to the runbook's settings",
                        self.number,
                    )
                )
        delay = str(lb_s.deregistration_delay)
        if found.get("tg_attrs", {}).get("deregistration_delay.timeout_seconds") != delay:
            actions.append(
                ApiCall(
                    "elbv2",
                    "modify_target_group_attributes",
                    {
                        "TargetGroupArn": tg_arn(s),
                        "Attributes": [
                            {"Key": "deregistration_delay.timeout_seconds", "Value": delay}
                        ],
                    },
                    f"drain old tasks in {delay} s, not 300 s: quicker redeploys and teardown",
                    self.number,
                )
            )
        if lb is None:
            actions.append(
                ApiCall(
                    "elbv2",
                    "create_load_balancer",
                    {
                        "Name": lb_s.name,
                        "Subnets": Ref(SUBNETS),
                        "SecurityGroups": [group_id(s.security_groups.elb_sg)],
                        "Scheme": "internet-facing",
                        "Type": "application",
                        "IpAddressType": "ipv4",
                        "Tags": tags(deployment, lb_s.name),
                    },
                    f"create {lb_s.name}, internet-facing, on the default subnets of 2+ zones",
                    self.number,
                    captures={
                        lb_arn(s).key: "LoadBalancers.0.LoadBalancerArn",
                        dns_key(s): "LoadBalancers.0.DNSName",
                        zone_key(s): "LoadBalancers.0.CanonicalHostedZoneId",
                    },
                )
            )
        current = found.get("lb_attrs", {})
        if any(current.get(k) != v for k, v in LOAD_BALANCER_ATTRIBUTES.items()):
            actions.append(
                ApiCall(
                    "elbv2",
                    "modify_load_balancer_attributes",
                    {
                        "LoadBalancerArn": lb_arn(s),
                        "Attributes": [
                            {"Key": k, "Value": v} for k, v in LOAD_BALANCER_ATTRIBUTES.items()
                        ],
                    },
                    "drop HTTP header fields that are not valid instead of passing them to the app",
                    self.number,
                )
            )
        to_adopt = [
            r.id
            for r in (seen.resources if seen else [])
            if r.exists and not r.ours and r.kind in ("target group", "load balancer")
        ]
        if to_adopt:
            actions.append(
                adopt(
                    "elbv2",
                    "add_tags",
                    {"ResourceArns": to_adopt, "Tags": tags(deployment)},
                    "load balancer and target group",
                    f"{lb_s.name}, {lb_s.target_group}",
                    self.number,
                )
            )
        if found.get("listener") is None:
            port = s.security_groups.listener_port
            actions.append(
                ApiCall(
                    "elbv2",
                    "create_listener",
                    {
                        "LoadBalancerArn": lb_arn(s),
                        "Protocol": "HTTP",
                        "Port": port,
                        "DefaultActions": [{"Type": "forward", "TargetGroupArn": tg_arn(s)}],
                        "Tags": tags(deployment),
                    },
                    f"listen on HTTP:{port} and forward to {lb_s.target_group}",
                    self.number,
                    captures={http_listener_key(s): "Listeners.0.ListenerArn"},
                )
            )
        return actions

    def teardown(self, s: Settings, seen: Observed) -> list[Action]:
        by_kind = {r.kind: r for r in seen.resources}
        actions: list[Action] = []
        lb = by_kind[load_balancer.NAME]
        if lb.exists and lb.ours:
            actions += load_balancer.delete(lb.id, s.load_balancer.name, lb.name, self.number)
        tg = by_kind[target_group.NAME]
        if tg.exists and tg.ours:
            actions += target_group.KIND.deletes(tg.id, tg.name, self.number)
        return actions

    def output_keys(self, s: Settings) -> list[str]:
        return [lb_arn(s).key, dns_key(s), zone_key(s), http_listener_key(s), tg_arn(s).key]
