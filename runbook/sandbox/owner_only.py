"""The emulator's front door: it answers only its owner, whoever else can reach the port.

Loopback is not private: any local user, and any web page through the browser (a CORS
preflight, or DNS rebinding a name of its own to 127.0.0.1), can reach it. So, before moto
sees anything, a request must
- name the emulator's own address:port as its Host (a rebound name is refused);
- carry no Origin (and no cross-site Sec-Fetch-Site): SDKs send neither, browsers always do
  cross-origin, and an OPTIONS preflight is refused outright; no answer carries a CORS grant
  (moto's server adds them to every answer: they are taken off);
- be SigV4-signed with the sandbox's own keys, within AWS's 15-minute clock skew
  (runbook.sandbox.signature), or get the error AWS gives (runbook.sandbox.refusal).
Nothing refused reaches moto, the data plane or the idle clock.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from runbook.sandbox import signature
from runbook.sandbox.refusal import Refusal, plain_refusal, protocol, signature_refusal

MAX_BODY = 16 * 1024 * 1024  # far above any call of the runbook's (a manifest is a few KB)
_CROSS_SITE = {"cross-site", "same-site"}


def request_headers(environ: Mapping[str, Any]) -> dict[str, str]:
    """The request's headers by lower-case name, as WSGI hands them over."""
    headers = {
        key[5:].lower().replace("_", "-"): str(value)
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.lower().replace("_", "-")] = str(environ[key])
    return headers


class OwnerOnly:
    """WSGI middleware in front of `app` (see the module's docstring)."""

    def __init__(
        self,
        app: Any,
        credentials: Mapping[str, str],
        *,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.app = app
        self.credentials = credentials
        self.clock = clock
        self.hosts: set[str] = set()  # set once the server has its port
        self.taken = 0
        self.refused: Counter[str] = Counter()  # by the code answered

    def answer_as(self, port: int) -> None:
        self.hosts |= {f"127.0.0.1:{port}", f"localhost:{port}"}

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        refusal = self.refusal(environ)
        if refusal is not None:
            self.refused[refusal.code] += 1
            return refusal.answer(start_response)
        self.taken += 1

        def without_cors(status: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
            kept = [(k, v) for k, v in headers if not k.lower().startswith("access-control-")]
            return start_response(status, kept, *exc)

        return self.app(environ, without_cors)

    def refusal(self, environ: dict[str, Any]) -> Refusal | None:
        headers = request_headers(environ)
        host = headers.get("host", "")
        if host not in self.hosts:
            return plain_refusal(
                421,
                "MisdirectedRequest",
                f"This is the runbook sandbox's emulator; it answers only as "
                f"{min(self.hosts, default='its own address')}, not as {host!r}.",
            )
        if environ.get("REQUEST_METHOD") == "OPTIONS" or "origin" in headers:
            return plain_refusal(403, "CrossOriginRefused", "The sandbox answers no web page.")
        if headers.get("sec-fetch-site", "none") in _CROSS_SITE:
            return plain_refusal(403, "CrossOriginRefused", "The sandbox answers no web page.")
        body = _body(environ)
        if body is None:
            return plain_refusal(413, "RequestTooLarge", "The request's body is too large.")
        verdict = signature.verify(
            environ.get("REQUEST_METHOD", "GET"),
            f"http://{host}{environ.get('RAW_URI') or environ.get('REQUEST_URI') or '/'}",
            headers,
            body,
            self.credentials,
            self.clock(),
        )
        if verdict is None:
            return None
        service = (signature.scope(headers.get("authorization", "")) or ("", ""))[1]
        return signature_refusal(verdict.kind, verdict.detail, protocol(headers, service, body))


def _body(environ: dict[str, Any]) -> bytes | None:
    """The whole body (None if it is too large), put back for whoever reads it next."""
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH") or ""
    if length:
        try:
            size = int(length)
        except ValueError:
            return None
        if not 0 <= size <= MAX_BODY:
            return None
        body = stream.read(size)
    elif environ.get("wsgi.input_terminated"):  # chunked: read to its end, within the cap
        body = stream.read(MAX_BODY + 1)
        if len(body) > MAX_BODY:
            return None
        environ["CONTENT_LENGTH"] = str(len(body))
    else:
        body = b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body
