"""SigV4 in the sandbox: whether a request reaching the emulator was signed with its keys, and
signing the sandbox's own plain HTTP calls. Both sides use botocore's signer (SigV4Auth): the
canonical request and the signature are recomputed exactly as an AWS SDK computes them.

docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html: the
Authorization header names the key, the scope (date/region/service/aws4_request), the signed
headers and the signature; `host` and `x-amz-date` must be signed; a request more than 15
minutes from the service's clock is refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ALGORITHM = "AWS4-HMAC-SHA256"
AMZ_DATE = "%Y%m%dT%H%M%SZ"
SKEW = dt.timedelta(minutes=15)
_AUTHORIZATION = re.compile(
    ALGORITHM + r" Credential=(?P<key>[^/\s,]+)/(?P<day>\d{8})/(?P<region>[^/\s,]+)/"
    r"(?P<service>[^/\s,]+)/aws4_request,\s*"
    r"SignedHeaders=(?P<headers>[a-z0-9-]+(?:;[a-z0-9-]+)*),\s*"
    r"Signature=(?P<signature>[0-9a-f]{64})\s*"
)
_SCOPE = re.compile(r"Credential=[^/]+/\d+/([^/]+)/([^/]+)/")

# Why a request is refused, in the words AWS's common errors use (runbook.sandbox.refusal
# turns each into the code and wire format of the request's protocol).
MISSING = "missing"  # no signature at all
INCOMPLETE = "incomplete"  # an Authorization header that is not a whole SigV4 one
UNKNOWN_KEY = "unknown key"  # signed with an access key id that is not the sandbox's
MISMATCH = "mismatch"  # the sandbox's key id, but not its secret (or the request was changed)
EXPIRED = "expired"  # signed more than 15 minutes from now


@dataclass(frozen=True)
class Verdict:
    """A refusal: its kind (above) and a line saying what exactly was wrong."""

    kind: str
    detail: str


def scope(authorization: str) -> tuple[str, str] | None:
    """(region, service) from an Authorization header's credential scope, if it has one."""
    found = _SCOPE.search(authorization)
    return (found.group(1), found.group(2)) if found else None


def verify(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    credentials: Mapping[str, str],
    now: dt.datetime,
) -> Verdict | None:
    """None if the request was signed with `credentials` within AWS's clock skew.

    `url` is the request's own (scheme, its Host, the path and query exactly as sent);
    `headers` are the request's, by lower-case name.
    """
    authorization = headers.get("authorization", "")
    if not authorization:
        return Verdict(MISSING, "the request carries no Authorization header")
    found = _AUTHORIZATION.fullmatch(authorization)
    if found is None:
        return Verdict(INCOMPLETE, "the Authorization header is not a whole AWS4-HMAC-SHA256 one")
    if not hmac.compare_digest(found["key"], credentials["aws_access_key_id"]):
        return Verdict(UNKNOWN_KEY, "the access key id is not this sandbox's")
    names = found["headers"].split(";")
    if "host" not in names or "x-amz-date" not in names:
        return Verdict(INCOMPLETE, "host and x-amz-date must be signed headers")
    stamp = headers.get("x-amz-date", "")
    try:
        signed_at = dt.datetime.strptime(stamp, AMZ_DATE).replace(tzinfo=dt.UTC)
    except ValueError:
        return Verdict(INCOMPLETE, f"X-Amz-Date {stamp!r} is not in the form YYYYMMDDTHHMMSSZ")
    if found["day"] != stamp[:8]:
        return Verdict(MISMATCH, "the credential scope's date is not X-Amz-Date's")
    if any(name not in headers for name in names):
        return Verdict(MISMATCH, "a signed header is missing from the request")
    claimed = headers.get("x-amz-content-sha256")
    if claimed is not None and claimed != hashlib.sha256(body).hexdigest():
        return Verdict(MISMATCH, "X-Amz-Content-SHA256 is not the body's digest")
    request = AWSRequest(
        method=method, url=url, data=body, headers={name: headers[name] for name in names}
    )
    request.context["timestamp"] = stamp
    auth = SigV4Auth(
        Credentials(credentials["aws_access_key_id"], credentials["aws_secret_access_key"]),
        found["service"],
        found["region"],
    )
    # botocore leaves a few headers out of any signature (User-Agent, Expect, ...): one of
    # those among SignedHeaders makes a canonical request that no SDK could have signed.
    if auth.signed_headers(auth.headers_to_sign(request)) != found["headers"]:
        return Verdict(MISMATCH, "SignedHeaders names a header no SigV4 signer signs")
    expected = _signature(auth, request)
    if not hmac.compare_digest(expected, found["signature"]):
        return Verdict(MISMATCH, "the signature is not the one the sandbox's secret key makes")
    if abs(now - signed_at) > SKEW:
        return Verdict(
            EXPIRED,
            f"signed at {stamp}, more than 15 minutes from the sandbox's clock "
            f"({now.strftime(AMZ_DATE)})",
        )
    return None


def _signature(auth: SigV4Auth, request: AWSRequest) -> str:
    string_to_sign = auth.string_to_sign(request, auth.canonical_request(request))
    return str(auth.signature(string_to_sign, request))


def sign(
    method: str,
    url: str,
    credentials: Mapping[str, str],
    *,
    service: str,
    region: str = "us-east-1",
    headers: Mapping[str, str] | None = None,
    body: bytes = b"",
    when: dt.datetime | None = None,
) -> dict[str, str]:
    """`headers` with X-Amz-Date and an Authorization header signing the request, as an AWS
    SDK signs it (at `when`, now unless given)."""
    stamp = (when or dt.datetime.now(dt.UTC)).strftime(AMZ_DATE)
    sent = {**(headers or {}), "X-Amz-Date": stamp}
    request = AWSRequest(method=method, url=url, data=body, headers=sent)
    request.context["timestamp"] = stamp
    auth = SigV4Auth(
        Credentials(credentials["aws_access_key_id"], credentials["aws_secret_access_key"]),
        service,
        region,
    )
    signature = _signature(auth, request)
    signed = auth.signed_headers(auth.headers_to_sign(request))
    sent["Authorization"] = (
        f"{ALGORITHM} Credential={auth.scope(request)}, SignedHeaders={signed}, "
        f"Signature={signature}"
    )
    return sent


# Straight to the sandbox on loopback, whatever HTTP(S)_PROXY the environment names.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def open_signed(
    url: str,
    credentials: Mapping[str, str],
    *,
    service: str,
    region: str = "us-east-1",
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = 10.0,
) -> Any:
    """urlopen for a signed call to the sandbox's emulator (HTTPError for an error answer)."""
    signed = sign(
        method, url, credentials, service=service, region=region, headers=headers, body=body or b""
    )
    request = urllib.request.Request(url, data=body, headers=signed, method=method)
    return _DIRECT.open(request, timeout=timeout)
