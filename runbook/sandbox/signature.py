"""SigV4 in the sandbox: whether a request reaching the emulator was signed with its keys, and
signing the sandbox's own plain HTTP calls.

The check uses botocore's signer (SigV4Auth), so it recomputes the canonical request exactly as
an AWS SDK computes it. The sandbox's own calls are signed here with hashlib and hmac alone:
the container engine stand-in, a process of its own started for each login and push, spent
about 0.2 s of CPU importing botocore's signer for its one or two calls.

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
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

if TYPE_CHECKING:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

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
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

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
    SDK signs it (at `when`, now unless given): every header given is signed, and Host."""
    stamp = (when or dt.datetime.now(dt.UTC)).strftime(AMZ_DATE)
    sent = {**(headers or {}), "X-Amz-Date": stamp}
    signed: dict[str, str] = {}
    for name, value in sent.items():
        if name.lower() not in UNSIGNED_HEADERS:
            # Trimmed, inner runs of spaces made one; a header given twice, its values joined.
            value, key = " ".join(value.split()), name.lower()
            signed[key] = f"{signed[key]},{value}" if key in signed else value
    signed.setdefault("host", _host(url))
    parts = urlsplit(url)
    names = ";".join(sorted(signed))
    canonical = "\n".join(
        (
            method.upper(),
            _canonical_path(parts.path),
            _canonical_query(parts.query),
            "".join(f"{name}:{signed[name]}\n" for name in sorted(signed)),
            names,
            signed.get("x-amz-content-sha256") or hashlib.sha256(body).hexdigest(),
        )
    )
    day = stamp[:8]
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = f"{ALGORITHM}\n{stamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    key = f"AWS4{credentials['aws_secret_access_key']}".encode()
    for part in (day, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    sent["Authorization"] = (
        f"{ALGORITHM} Credential={credentials['aws_access_key_id']}/{scope}, "
        f"SignedHeaders={names}, Signature={signature}"
    )
    return sent


# Headers AWS's SDKs leave out of every signature (proxies and HTTP itself may change them).
UNSIGNED_HEADERS = frozenset(
    (
        "baggage",
        "connection",
        "expect",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "traceparent",
        "tracestate",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "user-agent",
        "x-amzn-trace-id",
    )
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _host(url: str) -> str:
    """The Host header a client sends for `url`: lower case, its port only if not the
    scheme's own."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 address, bracketed as in the URL
        host = f"[{host}]"
    if parts.port is not None and parts.port != _DEFAULT_PORTS.get(parts.scheme):
        host = f"{host}:{parts.port}"
    return host


def _canonical_path(path: str) -> str:
    """The path without empty, "." and ".." segments, percent-encoded (but "/" and "~")."""
    kept: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if kept:
                kept.pop()
        elif segment and segment != ".":
            kept.append(segment)
    trailing = "/" if path.endswith("/") and kept else ""
    lead = "/" if path.startswith("/") or not path else ""
    return quote(lead + "/".join(kept) + trailing, safe="/~")


def _canonical_query(query: str) -> str:
    """The query's key=value pairs as sent (already percent-encoded), by key, then value."""
    pairs = sorted(pair.partition("=")[::2] for pair in query.split("&")) if query else []
    return "&".join(f"{key}={value}" for key, value in pairs)


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
