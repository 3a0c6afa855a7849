"""AWS's error answers as each protocol puts them on the wire, and what a request asks for.

The formats are AWS's own, so botocore parses them exactly as it parses a real answer:
- EC2: <Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>
  ("Error codes for the Amazon EC2 API", docs.aws.amazon.com/AWSEC2/latest/APIReference/
  errors-overview.html); throttling is RequestLimitExceeded with HTTP 503.
- Query services (ELB, RDS, IAM, STS) and REST-XML (Route 53): <ErrorResponse><Error><Type/>
  <Code/><Message/></Error><RequestId/></ErrorResponse>; throttling is Throttling, HTTP 400.
- JSON services (ECS, CloudWatch Logs, Secrets Manager, ECR, ACM, Application Auto Scaling):
  {"__type": code, "message": ...}; throttling is ThrottlingException "Rate exceeded", HTTP 400
  ("Request throttling for the Amazon ECS API", docs.aws.amazon.com/AmazonECS/latest/
  APIReference/request-throttling.html).
Server errors use each service's modelled fault where botocore's model names one (ECS's
ServerException, IAM's ServiceFailure, ...), else the common InternalFailure /
ServiceUnavailable ("Common Errors" in each API reference, e.g. docs.aws.amazon.com/AmazonECS/
latest/APIReference/CommonErrors.html: InternalFailure 500, ServiceUnavailable 503).
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from functools import cache
from urllib.parse import parse_qs, unquote

import botocore.session
from botocore.model import ServiceModel

# The services the runbook calls, by botocore name.
SERVICES = (
    "ec2",
    "elbv2",
    "rds",
    "iam",
    "sts",
    "ecs",
    "logs",
    "secretsmanager",
    "ecr",
    "acm",
    "route53",
    "application-autoscaling",
    "resourcegroupstaggingapi",  # status and destroy find what carries the tag (signs as "tagging")
)

THROTTLE, ERROR_500, ERROR_503 = "throttle", "error 500", "error 503"

COMMON = {
    THROTTLE: ("Throttling", "Rate exceeded", 400),
    ERROR_500: (
        "InternalFailure",
        "The request processing has failed because of an unknown error, exception or failure.",
        500,
    ),
    ERROR_503: (
        "ServiceUnavailable",
        "The request has failed due to a temporary failure of the server.",
        503,
    ),
}
EC2 = {
    THROTTLE: ("RequestLimitExceeded", "Request limit exceeded.", 503),
    ERROR_500: ("InternalError", "An internal error has occurred.", 500),
    ERROR_503: ("Unavailable", "The server is overloaded and can't handle the request.", 503),
}
JSON_THROTTLE = ("ThrottlingException", "Rate exceeded", 400)
# JSON services whose model names their throttle otherwise (botocore's service-2.json).
MODELLED_THROTTLE = {
    "resourcegroupstaggingapi": (
        "ThrottledException",
        "The request failed because it exceeded the allowed frequency of submitted requests.",
        400,
    ),
}
# Server faults as each JSON or query service models them (botocore's service-2.json).
MODELLED_500 = {
    "ecs": ("ServerException", "These errors are usually caused by a server issue."),
    "ecr": ("ServerException", "These errors are usually caused by a server-side issue."),
    "iam": (
        "ServiceFailure",
        "The request processing has failed because of an unknown error, exception or failure.",
    ),
    "secretsmanager": ("InternalServiceError", "An error occurred on the server side."),
    "acm": (
        "InternalServerException",
        "The request processing has failed because of an unknown error, exception, or failure.",
    ),
    "logs": ("ServiceUnavailableException", "The service cannot complete the request."),
    "resourcegroupstaggingapi": (
        "InternalServiceException",
        "The request processing failed because of an unknown error, exception, or failure.",
    ),
}


@dataclass(frozen=True)
class Request:
    """What the proxy reads of a request: which service, which operation, its body."""

    service: str
    operation: str  # AWS's name: CreateSecurityGroup
    account: str
    method: str
    path: str
    body: bytes

    @property
    def text(self) -> str:
        """The body as readable text (query bodies are form-encoded)."""
        raw = self.body.decode("utf-8", "replace")
        return unquote(raw.replace("+", " ")) if self.protocol in ("ec2", "query") else raw

    @property
    def protocol(self) -> str:
        return protocol(self.service)


@cache
def _model(service: str) -> dict:
    loader = botocore.session.get_session().get_component("data_loader")
    return loader.load_service_model(service, "service-2")


@cache
def protocol(service: str) -> str:
    """The protocol botocore's clients speak to it: the first of the model's `protocols` that
    botocore supports (the Tagging API lists smithy-rpc-v2-cbor first, json second)."""
    return ServiceModel(_model(service), service).resolved_protocol


@cache
def _signing_names() -> dict[str, str]:
    names = {}
    for service in SERVICES:
        meta = _model(service)["metadata"]
        names[meta.get("signingName", meta["endpointPrefix"])] = service
    return names


@cache
def _rest_routes(service: str) -> list[tuple[str, re.Pattern[str], str]]:
    routes = []
    for name, op in _model(service)["operations"].items():
        uri = op["http"]["requestUri"].split("?")[0]
        pattern = re.sub(r"\{[^}]+\+\}", ".+", uri)
        pattern = re.sub(r"\{[^}]+\}", "[^/]+", pattern)
        routes.append((op["http"]["method"], re.compile(f"^{pattern}/?$"), name))
    # Longer templates first: /hostedzone/{Id}/rrset before /hostedzone/{Id}.
    return sorted(routes, key=lambda r: -len(r[1].pattern))


def read_request(method: str, path: str, headers: dict[str, str], body: bytes) -> Request:
    """Tell which service and operation a signed request is for, as AWS's front door does."""
    auth = headers.get("authorization", "")
    scope = re.search(r"Credential=[^/]+/\d+/[^/]+/([^/]+)/aws4_request", auth)
    service = _signing_names().get(scope.group(1), scope.group(1)) if scope else "?"
    account = headers.get("x-moto-account-id", "")
    if service == "?":
        return Request(service, "?", account, method, path, body)
    kind = protocol(service)
    if kind in ("ec2", "query"):
        action = parse_qs(body.decode()).get("Action", ["?"])[0]
        return Request(service, action, account, method, path, body)
    if kind == "json":
        target = headers.get("x-amz-target", "?")
        return Request(service, target.rsplit(".", 1)[-1], account, method, path, body)
    bare = path.split("?")[0]
    for verb, pattern, name in _rest_routes(service):
        if verb == method and pattern.match(bare):
            return Request(service, name, account, method, path, body)
    return Request(service, "?", account, method, path, body)


def fault_codes(service: str, kind: str) -> tuple[str, str, int]:
    """(code, message, HTTP status) of a throttle or server error from this service."""
    if protocol(service) == "ec2":
        return EC2[kind]
    if kind == THROTTLE and protocol(service) == "json":
        return MODELLED_THROTTLE.get(service, JSON_THROTTLE)
    if kind == ERROR_500 and service in MODELLED_500:
        return (*MODELLED_500[service], 500)
    return COMMON[kind]


def error_answer(service: str, code: str, message: str, status: int) -> tuple[int, dict, bytes]:
    """(status, headers, body) of an error answer in the service's own protocol."""
    request_id = str(uuid.uuid4())
    kind = protocol(service)
    if kind == "json":
        body = json.dumps({"__type": code, "message": message}).encode()
        headers = {
            "Content-Type": "application/x-amz-json-1.1",
            "x-amzn-RequestId": request_id,
        }
        return status, headers, body
    if kind == "ec2":
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Response><Errors><Error><Code>{code}</Code><Message>{_escape(message)}"
            f"</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>"
        )
    else:  # query and rest-xml
        side = "Receiver" if status >= 500 else "Sender"
        meta = _model(service)["metadata"]
        namespace = meta.get("xmlNamespace") or (
            f"https://{meta['endpointPrefix']}.amazonaws.com/doc/{meta['apiVersion']}/"
        )
        xmlns = f' xmlns="{namespace}"' if isinstance(namespace, str) else ""
        xml = (
            f"<ErrorResponse{xmlns}><Error><Type>{side}</Type><Code>{code}</Code>"
            f"<Message>{_escape(message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        )
    return status, {"Content-Type": "text/xml", "x-amzn-RequestId": request_id}, xml.encode()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
