"""Section VII (the guide's to-do): HTTPS with an ACM certificate, 80 -> 443, a Route 53 name."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from runbook.aws import Aws
from runbook.errors import Problem, RunbookError
from runbook.plan import Action, ApiCall, Ref, Wait, tags
from runbook.resources import certificate, dns_record
from runbook.resources import listener as listener_kind
from runbook.settings import Settings
from runbook.steps.base import Observed, Resource, Step, tagged
from runbook.steps.load_balancer import dns_key, http_listener_key, lb_arn, tg_arn, zone_key
from runbook.steps.security_groups import group_id

HTTPS_PORT = 443
# TLS 1.3 and 1.2 only: AWS's recommended policy for new HTTPS listeners.
SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
CERT_FAILED = {"FAILED", "VALIDATION_TIMED_OUT", "REVOKED", "EXPIRED", "INACTIVE"}


def keys(s: Settings) -> dict[str, str]:
    name = s.domain.name
    return {
        "certificate": f"{name}.CertificateArn",
        "record_name": f"{name}.ValidationRecord.Name",
        "record_value": f"{name}.ValidationRecord.Value",
        "zone": f"{name}.HostedZoneId",
        "https": f"{s.load_balancer.name}.HTTPS.ListenerArn",
    }


def find_zone(aws: Aws, s: Settings) -> dict[str, Any]:
    """The hosted zone named in settings, or the closest one the domain name ends with."""
    labels = s.domain.name.split(".")
    candidates = (
        [s.domain.hosted_zone]
        if s.domain.hosted_zone
        else [".".join(labels[i:]) for i in range(len(labels) - 1)]
    )
    for zone_name in candidates:
        zones = aws.call("route53", "list_hosted_zones_by_name", DNSName=zone_name, MaxItems="1")
        for zone in zones["HostedZones"]:
            if zone["Name"].rstrip(".") == zone_name and not zone["Config"].get("PrivateZone"):
                return zone
    raise RunbookError(
        Problem(
            "NoHostedZone",
            f"No public Route 53 hosted zone in this account holds {s.domain.name}.",
            "Create the zone (and point your registrar at its name servers), or set "
            "[domain] hosted_zone, or leave [domain] name empty for plain HTTP.",
        )
    )


def _upsert(zone: Ref, name: Any, kind: str, why: str, section: str, **body: Any) -> ApiCall:
    """One record set in the zone, made or replaced (Route 53's UPSERT)."""
    record = {"Name": name, "Type": kind, **body}
    change = dns_record.change(zone, "UPSERT", record)
    return ApiCall("route53", "change_resource_record_sets", change, why, section)


def _cert_issued(r: dict[str, Any]) -> bool | str:
    status = r["Certificate"]["Status"]
    if status in CERT_FAILED:
        return f"the certificate is {status}: {r['Certificate'].get('FailureReason', '')}"
    return status == "ISSUED"


def _validation_record_ready(r: dict[str, Any]) -> bool:
    options = r["Certificate"].get("DomainValidationOptions", [])
    return bool(options and options[0].get("ResourceRecord"))


class DomainStep(Step):
    number = "VII"
    key = "domain"
    title = "HTTPS and domain"
    explanation = (
        "Beyond the guide (its own to-do list): with a domain name set, the runbook requests "
        "an ACM certificate validated through Route 53, adds an HTTPS:443 listener (TLS 1.2 "
        "and 1.3 only), redirects HTTP to HTTPS, opens 443 on the load balancer's group, and "
        "points the name at the load balancer with an alias record. Leave the name empty to "
        "keep plain HTTP on the load balancer's own DNS name, as the guide does."
    )

    def enabled(self, s: Settings) -> bool:
        return bool(s.domain.name)

    def discover(self, aws: Aws, s: Settings, known: Mapping[str, Any]) -> Observed:
        seen = Observed()
        if not s.domain.name:
            return seen
        k, name = keys(s), s.domain.name
        zone = find_zone(aws, s)
        seen.known[k["zone"]] = zone["Id"]
        statuses = ["ISSUED", "PENDING_VALIDATION"]
        summaries = aws.call("acm", "list_certificates", CertificateStatuses=statuses)
        mine = [c for c in summaries["CertificateSummaryList"] if c["DomainName"] == name]
        # An issued certificate beats one still pending.
        mine.sort(key=lambda c: statuses.index(c["Status"]))
        cert = mine[0] if mine else None
        if cert:
            arn = cert["CertificateArn"]
            seen.known[k["certificate"]] = arn
            detail = aws.call("acm", "describe_certificate", CertificateArn=arn)["Certificate"]
            seen.found["certificate"] = detail
            record = (detail.get("DomainValidationOptions") or [{}])[0].get("ResourceRecord")
            if record:
                seen.known[k["record_name"]], seen.known[k["record_value"]] = (
                    record["Name"],
                    record["Value"],
                )
            cert_tags = aws.call("acm", "list_tags_for_certificate", CertificateArn=arn)
            seen.found["cert_ours"] = tagged(cert_tags.get("Tags"), s.deployment.name)
        records = aws.call(
            "route53",
            "list_resource_record_sets",
            HostedZoneId=zone["Id"],
            StartRecordName=name,
            StartRecordType="A",
            MaxItems="1",
        )
        alias = next(
            (
                r
                for r in records["ResourceRecordSets"]
                if r["Name"].rstrip(".") == name and r["Type"] == "A"
            ),
            None,
        )
        seen.found["alias"] = alias
        listener = None
        if lb_arn(s).key in known:
            listeners = aws.call(
                "elbv2", "describe_listeners", LoadBalancerArn=known[lb_arn(s).key]
            )["Listeners"]
            listener = next((x for x in listeners if x["Port"] == HTTPS_PORT), None)
            http = next(
                (x for x in listeners if x["Port"] == s.security_groups.listener_port), None
            )
            seen.found["redirects"] = bool(http) and http["DefaultActions"][0]["Type"] == "redirect"
            if listener:
                seen.known[k["https"]] = listener["ListenerArn"]
        seen.found["https_listener"] = listener
        elb_sg = known.get(group_id(s.security_groups.elb_sg).key)
        if elb_sg:
            group = aws.call("ec2", "describe_security_groups", GroupIds=[elb_sg])
            seen.found["opens_443"] = any(
                p.get("FromPort") == HTTPS_PORT for p in group["SecurityGroups"][0]["IpPermissions"]
            )
        seen.resources = [
            Resource.seen(
                certificate.NAME,
                name,
                cert,
                "CertificateArn",
                bool(seen.found.get("cert_ours")),
                state=lambda found: found["Status"],
            ),
            Resource.seen("HTTPS listener", f"HTTPS:{HTTPS_PORT}", listener, "ListenerArn", True),
            Resource.seen("alias record", name, alias and zone, "Id", True),
        ]
        return seen

    def plan(self, s: Settings, seen: Observed | None) -> list[Action]:
        if not s.domain.name:
            return []
        k, name, found = keys(s), s.domain.name, (seen.found if seen else {})
        known = seen.known if seen else {}
        actions: list[Action] = []
        cert = found.get("certificate")
        if cert is None:
            actions.append(
                ApiCall(
                    "acm",
                    "request_certificate",
                    {
                        "DomainName": name,
                        "ValidationMethod": "DNS",
                        # The same token within an hour returns the same certificate: resume-safe.
                        "IdempotencyToken": hashlib.sha256(name.encode()).hexdigest()[:32],
                        "Tags": tags(s.deployment.name),
                    },
                    f"request a certificate for {name}, validated through DNS",
                    self.number,
                    captures={k["certificate"]: "CertificateArn"},
                )
            )
        if cert is None or k["record_name"] not in known:
            actions.append(
                Wait(
                    "acm",
                    "describe_certificate",
                    {"CertificateArn": Ref(k["certificate"])},
                    "ACM to publish the certificate's validation record",
                    until=_validation_record_ready,
                    section=self.number,
                    interval=5,
                    timeout=300,
                    captures={
                        k[
                            "record_name"
                        ]: "Certificate.DomainValidationOptions.0.ResourceRecord.Name",
                        k[
                            "record_value"
                        ]: "Certificate.DomainValidationOptions.0.ResourceRecord.Value",
                    },
                )
            )
        if cert is None or cert["Status"] != "ISSUED":
            actions += [
                _upsert(
                    Ref(k["zone"]),
                    Ref(k["record_name"]),
                    "CNAME",
                    "publish the validation record so ACM can issue the certificate",
                    self.number,
                    TTL=300,
                    ResourceRecords=[{"Value": Ref(k["record_value"])}],
                ),
                Wait(
                    "acm",
                    "describe_certificate",
                    {"CertificateArn": Ref(k["certificate"])},
                    f"the certificate for {name} to be issued (DNS validation, minutes)",
                    until=_cert_issued,
                    section=self.number,
                    interval=15,
                    timeout=3600,
                ),
            ]
        if not found.get("opens_443"):
            actions.append(
                ApiCall(
                    "ec2",
                    "authorize_security_group_ingress",
                    {
                        "GroupId": group_id(s.security_groups.elb_sg),
                        "IpPermissions": [
                            {
                                "IpProtocol": "tcp",
                                "FromPort": HTTPS_PORT,
                                "ToPort": HTTPS_PORT,
                                "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "HTTPS"}],
                            }
                        ],
                    },
                    f"allow HTTPS into {s.security_groups.elb_sg}",
                    self.number,
                    done_on=("InvalidPermission.Duplicate",),
                )
            )
        if found.get("https_listener") is None:
            actions.append(
                ApiCall(
                    "elbv2",
                    "create_listener",
                    {
                        "LoadBalancerArn": lb_arn(s),
                        "Protocol": "HTTPS",
                        "Port": HTTPS_PORT,
                        "SslPolicy": SSL_POLICY,
                        "Certificates": [{"CertificateArn": Ref(k["certificate"])}],
                        "DefaultActions": [{"Type": "forward", "TargetGroupArn": tg_arn(s)}],
                        "Tags": tags(s.deployment.name),
                    },
                    f"listen on HTTPS:{HTTPS_PORT} with the certificate",
                    self.number,
                    captures={k["https"]: "Listeners.0.ListenerArn"},
                )
            )
        if not found.get("redirects"):
            actions.append(
                ApiCall(
                    "elbv2",
                    "modify_listener",
                    {
                        "ListenerArn": Ref(http_listener_key(s)),
                        "DefaultActions": [
                            {
                                "Type": "redirect",
                                "RedirectConfig": {
                                    "Protocol": "HTTPS",
                                    "Port": str(HTTPS_PORT),
                                    "StatusCode": "HTTP_301",
                                },
                            }
                        ],
                    },
                    "redirect HTTP to HTTPS",
                    self.number,
                )
            )
        alias = found.get("alias")
        target = known.get(dns_key(s))
        if alias is None or (
            target
            and alias.get("AliasTarget", {}).get("DNSName", "").rstrip(".").lower()
            != f"dualstack.{target}".lower()
        ):
            actions.append(
                _upsert(
                    Ref(k["zone"]),
                    name,
                    "A",
                    f"point {name} at the load balancer",
                    self.number,
                    AliasTarget={
                        "HostedZoneId": Ref(zone_key(s)),
                        "DNSName": Ref(dns_key(s), fmt="dualstack.{}"),
                        "EvaluateTargetHealth": True,
                    },
                )
            )
        return actions

    def teardown(self, s: Settings, seen: Observed) -> list[Action]:
        if not s.domain.name:
            return []
        k, found, known = keys(s), seen.found, seen.known
        actions: list[Action] = []
        alias = found.get("alias")
        target = known.get(dns_key(s), "")
        # Only the alias that points at our load balancer is ours to remove.
        if (
            alias
            and target
            and target.lower() in alias.get("AliasTarget", {}).get("DNSName", "").lower()
        ):
            actions += dns_record.delete(
                known[k["zone"]], alias, f"remove the record {s.domain.name}", self.number
            )
        https = found.get("https_listener")
        if https:
            actions += listener_kind.delete(
                https["ListenerArn"], "remove the HTTPS listener", self.number
            )
        cert = found.get("certificate")
        if cert and found.get("cert_ours"):
            record = (cert.get("DomainValidationOptions") or [{}])[0].get("ResourceRecord")
            if record:
                validation = {
                    "Name": record["Name"],
                    "Type": "CNAME",
                    "TTL": 300,
                    "ResourceRecords": [{"Value": record["Value"]}],
                }
                actions += dns_record.delete(
                    known[k["zone"]],
                    validation,
                    "remove the certificate's validation record",
                    self.number,
                )
            actions += certificate.KIND.deletes(
                cert["CertificateArn"], f"the certificate for {s.domain.name}", self.number
            )
        return actions

    def output_keys(self, s: Settings) -> list[str]:
        return list(keys(s).values()) if s.domain.name else []
