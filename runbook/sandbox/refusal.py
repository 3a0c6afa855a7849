"""A refused request's answer, in the code and wire format AWS gives for the request's protocol.

The codes are AWS's common errors (e.g. docs.aws.amazon.com/AmazonRDS/latest/APIReference/
CommonErrors.html; EC2's in AWSEC2/latest/APIReference/errors-overview.html; the JSON APIs'
UnrecognizedClientException and InvalidSignatureException): the query APIs (IAM, STS, RDS,
ELB, Route 53) answer an ErrorResponse document, EC2 its own Response/Errors document, and the
JSON APIs (ECS, ECR, Secrets Manager, CloudWatch Logs, ACM, ...) a `__type`/`message` object.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from runbook.sandbox.signature import EXPIRED, INCOMPLETE, MISMATCH, MISSING, UNKNOWN_KEY

QUERY, EC2, JSON = "query", "ec2", "json"
EC2_VERSION = b"Version=2016-11-15"  # the one API version EC2's query requests name

_INVALID_TOKEN = "The security token included in the request is invalid."
_NO_MATCH = (
    "The request signature we calculated does not match the signature you provided. Check "
    "your AWS Secret Access Key and signing method. Consult the service documentation for "
    "details."
)
_EC2_AUTH = "AWS was not able to validate the provided access credentials"
# kind -> {protocol: (HTTP status, code, message)}
_ANSWERS: dict[str, dict[str, tuple[int, str, str]]] = {
    MISSING: {
        QUERY: (403, "MissingAuthenticationToken", "Request is missing Authentication Token"),
        EC2: (401, "MissingAuthenticationToken", "The request must contain valid credentials"),
        JSON: (403, "MissingAuthenticationTokenException", "Missing Authentication Token"),
    },
    INCOMPLETE: {
        QUERY: (400, "IncompleteSignature", "The request signature does not conform to AWS"),
        EC2: (400, "IncompleteSignature", "The request signature does not conform to AWS"),
        JSON: (400, "IncompleteSignatureException", "The request signature does not conform"),
    },
    UNKNOWN_KEY: {
        QUERY: (403, "InvalidClientTokenId", _INVALID_TOKEN),
        EC2: (401, "AuthFailure", _EC2_AUTH),
        JSON: (403, "UnrecognizedClientException", _INVALID_TOKEN),
    },
    MISMATCH: {
        QUERY: (403, "SignatureDoesNotMatch", _NO_MATCH),
        EC2: (401, "AuthFailure", _EC2_AUTH),
        JSON: (403, "InvalidSignatureException", _NO_MATCH),
    },
    EXPIRED: {
        QUERY: (400, "RequestExpired", "Request has expired"),
        EC2: (400, "RequestExpired", "Request has expired"),
        JSON: (400, "RequestExpired", "Request has expired"),
    },
}
_REASONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 421: "Misdirected Request"}
_REASONS |= {413: "Content Too Large"}

StartResponse = Callable[..., Any]


def protocol(headers: dict[str, str], service: str, body: bytes) -> str:
    """The request's protocol: JSON APIs name their operation in X-Amz-Target; EC2 is the
    query API signed for `ec2` (or, unsigned, naming EC2's API version)."""
    if headers.get("x-amz-target"):
        return JSON
    if service == "ec2" or (not service and EC2_VERSION in body):
        return EC2
    return QUERY


@dataclass(frozen=True)
class Refusal:
    status: int
    code: str
    message: str
    content_type: str
    body: bytes

    def answer(self, start_response: StartResponse) -> Iterable[bytes]:
        headers = [("Content-Type", self.content_type), ("Content-Length", str(len(self.body)))]
        if self.content_type.startswith("application/x-amz-json"):
            headers.append(("x-amzn-ErrorType", self.code))
        start_response(f"{self.status} {_REASONS.get(self.status, 'Error')}", headers)
        return [self.body]


def signature_refusal(kind: str, detail: str, wire: str) -> Refusal:
    status, code, message = _ANSWERS[kind][wire]
    message = f"{message} ({detail})" if kind == EXPIRED else message
    request_id = str(uuid.uuid4())
    if wire == JSON:
        body = json.dumps({"__type": code, "message": message}).encode()
        return Refusal(status, code, message, "application/x-amz-json-1.1", body)
    if wire == EC2:
        text = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
            f"<Code>{code}</Code><Message>{escape(message)}</Message></Error></Errors>"
            f"<RequestID>{request_id}</RequestID></Response>"
        )
    else:
        text = (
            '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>'
            f"<Type>Sender</Type><Code>{code}</Code><Message>{escape(message)}</Message>"
            f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )
    return Refusal(status, code, message, "text/xml", text.encode())


def plain_refusal(status: int, code: str, message: str) -> Refusal:
    """A refusal of a request no AWS SDK sends (a browser's, or one for another host)."""
    return Refusal(status, code, message, "text/plain; charset=utf-8", f"{message}\n".encode())
