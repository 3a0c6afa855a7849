"""ACM certificates: section VII's certificate for the domain, validated through Route 53."""

from __future__ import annotations

from collections.abc import Iterator

from runbook.aws import Aws
from runbook.plan import ApiCall
from runbook.recovery.answers import Recovery, Token
from runbook.resources.kind import Create, Delete, Kind, Tagged, TagSearch, missing_on
from runbook.resources.template import Template, cfn_tags
from runbook.rules import cfn
from runbook.rules.combinations import tag_count
from runbook.rules.common import tag_fields
from runbook.rules.kinds import from_schema, length, pattern
from runbook.rules.spec import OWN_TEXT, Field, Operation
from runbook.rules.spec import settings_fix as fix

NAME = "certificate"
NOT_FOUND = ("ResourceNotFoundException",)
API = "https://docs.aws.amazon.com/acm/latest/APIReference/API_RequestCertificate.html"


def tagged(aws: Aws, _deployment: str, arns: list[str]) -> Iterator[Tagged]:
    for arn in sorted(set(arns)):
        cert = missing_on(
            NOT_FOUND,
            lambda arn=arn: aws.call("acm", "describe_certificate", CertificateArn=arn),
        )
        if cert:
            c = cert["Certificate"]
            yield Tagged(NAME, c["DomainName"], c["CertificateArn"], c["Status"])


def as_cfn(t: Template, call: ApiCall) -> None:
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
            "Tags": cfn_tags(p["Tags"]),
        },
    )
    for key in call.captures:
        t.provides(key, logical)


def rules() -> dict[tuple[str, str], Operation]:
    cert = "AWS::CertificateManager::Certificate"
    return {
        ("acm", "request_certificate"): Operation(
            (
                Field(
                    "DomainName",
                    # 253 for any DNS name, but the first one is the certificate's Common
                    # Name: "cannot exceed 64 octets (characters), including periods".
                    (length(1, 253, API), length(1, 64, API)),
                    fix("domain.name"),
                ),
                Field(
                    "ValidationMethod",
                    from_schema(cert, "ValidationMethod")
                    if cfn.constraints(cert, "ValidationMethod")
                    else (pattern(r"DNS|EMAIL", "must be DNS or EMAIL", API),),
                    OWN_TEXT,
                ),
                *tag_fields(cert),
            ),
            (tag_count("Tags"),),
        ),
        ("acm", "describe_certificate"): Operation(),
    }


KIND = Kind(
    NAME,
    section="VII",
    not_found=NOT_FOUND,
    # The step sets IdempotencyToken (valid for an hour); the same token, the same one.
    create=Create(
        "acm", "request_certificate", as_cfn, Recovery(token=Token("IdempotencyToken", 32))
    ),
    rules=rules,
    inventory=TagSearch("certificates", tagged, arn_type="certificate", tagging_service="acm"),
    delete=Delete(
        "acm",
        "delete_certificate",
        "CertificateArn",
        rank=8,
        # The listener lets go of it a moment after it is deleted.
        retry_on=("ResourceInUseException",),
    ),
)
