"""The sandbox's own SigV4 signer (no botocore) signs exactly as botocore's SigV4Auth signs,
and the emulator's check takes what it signs."""

from __future__ import annotations

import datetime as dt

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from runbook.sandbox.account import new_credentials
from runbook.sandbox.signature import sign, verify

WHEN = dt.datetime(2026, 5, 4, 3, 2, 1, tzinfo=dt.UTC)
JSON = {"X-Amz-Target": "AmazonEC2ContainerRegistry_V20150921.PutImage"}

# (method, url, headers, body): the sandbox's own calls, and what makes a canonical request hard.
REQUESTS = [
    ("POST", "http://127.0.0.1:40000/", {**JSON, "x-moto-account-id": "123"}, b'{"a": 1}'),
    ("POST", "http://127.0.0.1:40000/moto-api/reset", {}, b""),
    ("GET", "http://127.0.0.1:40000/moto-api/data.json", {}, b""),
    ("GET", "http://LocalHost:80/a//b/./c/../d/", {}, b""),
    ("GET", "https://example.com:443/x y/~z", {}, b""),
    ("GET", "http://[::1]:5000/", {}, b""),
    ("GET", "http://127.0.0.1:1/?b=2&a-b=1&a=2&a=1&c", {}, b""),
    ("PUT", "http://127.0.0.1:1/", {"X-Odd": "  two   spaces  ", "User-Agent": "x"}, b"1"),
    ("POST", "http://127.0.0.1:1/", {"Host": "127.0.0.1:9", "Content-Type": "a/b"}, b"{}"),
    ("POST", "http://127.0.0.1:1/", {"X-Amz-Content-SHA256": "f" * 64}, b"{}"),
]


def botocore_signature(method, url, headers, body, keys, service, region) -> dict[str, str]:
    """What an AWS SDK sends for the same request at the same moment: the reference."""
    stamp = WHEN.strftime("%Y%m%dT%H%M%SZ")
    request = AWSRequest(
        method=method, url=url, data=body, headers={**headers, "X-Amz-Date": stamp}
    )
    request.context["timestamp"] = stamp
    auth = SigV4Auth(
        Credentials(keys["aws_access_key_id"], keys["aws_secret_access_key"]), service, region
    )
    canonical = auth.canonical_request(request)
    signature = auth.signature(auth.string_to_sign(request, canonical), request)
    signed = auth.signed_headers(auth.headers_to_sign(request))
    return {
        **headers,
        "X-Amz-Date": stamp,
        "Authorization": f"AWS4-HMAC-SHA256 Credential={auth.scope(request)}, "
        f"SignedHeaders={signed}, Signature={signature}",
    }


@pytest.mark.parametrize(("method", "url", "headers", "body"), REQUESTS)
def test_signs_as_botocore_signs(method, url, headers, body) -> None:
    keys = new_credentials()
    ours = sign(
        method, url, keys, service="ecr", region="eu-west-1", headers=headers, body=body, when=WHEN
    )
    assert ours == botocore_signature(method, url, headers, body, keys, "ecr", "eu-west-1")


def test_the_emulators_check_takes_what_it_signs_and_nothing_else() -> None:
    keys = new_credentials()
    url = "http://127.0.0.1:40000/?Action=List&Version=1"
    body = b'{"repositoryName": "flask-todo"}'
    headers = sign("POST", url, keys, service="ecr", headers=JSON, body=body, when=WHEN)
    sent = {name.lower(): value for name, value in headers.items()}
    sent["host"] = "127.0.0.1:40000"
    assert verify("POST", url, sent, body, keys, WHEN) is None
    changed = verify("POST", url, sent, body + b" ", keys, WHEN)
    assert changed is not None and changed.kind == "mismatch"
    other = verify("POST", url, sent, body, new_credentials(), WHEN)
    assert other is not None and other.kind == "unknown key"
