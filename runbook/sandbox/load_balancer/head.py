"""A request's head as ALB's desync mitigation reads it: classified, cleaned, or refused.

ALB classifies every request with http_desync_guardian as compliant, acceptable, ambiguous or
severe, and in its default `defensive` mode refuses severe ones with 400, and sends ambiguous
ones on but closes both the client's and the target's connection after them, so their bytes
can never be read as a second request. `strictest` refuses everything but compliant requests.
With `routing.http.drop_invalid_header_fields.enabled`, header fields whose names are not
[A-Za-z0-9-] are removed before the target sees them. Request line 16 KB, one header 16 KB,
the whole head 64 KB, else 400. Transfer-Encoding other than chunked or identity: 501.
(docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html
 #desync-mitigation-mode, .../load-balancer-troubleshooting.html; github.com/aws/
 http-desync-guardian docs/README.md for the classes and their reasons)

This runs on the raw bytes before h11 parses them, because h11 (rightly strict) either
refuses what ALB forwards with the field dropped, or quietly repairs what ALB calls ambiguous.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_REQUEST_LINE = 16 * 1024
MAX_HEADER_LINE = 16 * 1024
MAX_HEAD = 64 * 1024
TIERS = ("compliant", "acceptable", "ambiguous", "severe")

HEAD_END = re.compile(rb"\n\r?\n")
LINE_END = re.compile(rb"\r?\n")
VALID_NAME = re.compile(rb"[A-Za-z0-9-]+")
TOKEN = re.compile(rb"[-!#$%&'*+.^_`|~0-9A-Za-z]+")
VERSION = re.compile(rb"HTTP/1\.[0-9]")
DIGITS = re.compile(rb"[0-9]{1,18}")
FRAMING = (b"transfer-encoding", b"content-length")


class Refused(Exception):
    """The request is answered by the balancer itself, and the connection closed."""

    def __init__(self, status: int, why: str, reason: str = "") -> None:
        super().__init__(why)
        self.status, self.why, self.reason = status, why, reason


@dataclass
class Verdict:
    tier: str = "compliant"
    reasons: list[str] = field(default_factory=list)

    def note(self, tier: str, reason: str) -> None:
        if TIERS.index(tier) > TIERS.index(self.tier):
            self.tier = tier
        self.reasons.append(reason)


@dataclass
class Head:
    method: bytes
    raw: bytes  # the cleaned head, for h11 to parse
    verdict: Verdict
    dropped: list[str]  # names of the invalid header fields taken out


def split_head(buffer: bytes) -> tuple[bytes, bytes] | None:
    """The head (through its blank line) and what follows it; None: not complete yet.
    Refused when it is already larger than ALB takes."""
    end = HEAD_END.search(buffer)
    first = buffer.find(b"\n")
    if (first < 0 and len(buffer) > MAX_REQUEST_LINE) or first > MAX_REQUEST_LINE:
        raise Refused(400, "the request line is longer than 16 KB", "RequestLineTooLong")
    if end is None:
        if len(buffer) > MAX_HEAD:
            raise Refused(400, "the request header is larger than 64 KB", "HeaderTooLarge")
        return None
    if end.end() > MAX_HEAD:
        raise Refused(400, "the request header is larger than 64 KB", "HeaderTooLarge")
    return buffer[: end.end()], buffer[end.end() :]


def classify(head: bytes, *, drop_invalid: bool, mode: str = "defensive") -> Head:
    """The head's class and the head to parse; Refused if the mode blocks it."""
    verdict = Verdict()
    lines = LINE_END.split(head.rstrip(b"\r\n"))
    if b"\r\n" not in head:
        verdict.note("acceptable", "NonCrLfLineTermination")
    method = _request_line(lines[0], verdict)
    kept: list[bytes] = []
    dropped: list[str] = []
    lengths: list[bytes] = []
    codings: list[bytes] = []
    last_dropped = False
    for line in lines[1:]:
        if len(line) > MAX_HEADER_LINE:
            raise Refused(400, "a request header is longer than 16 KB", "HeaderTooLong")
        if b"\x00" in line or b"\r" in line:
            raise Refused(400, "a header carries a NUL or a bare CR", "BadHeader")
        if line[:1] in (b" ", b"\t"):
            verdict.note("ambiguous", "MultilineHeader")
            if not last_dropped:
                kept.append(line)  # h11 joins it to the field above, as one value
            continue
        name, colon, value = line.partition(b":")
        if not colon:
            raise Refused(400, "a header line has no colon", "MissingHeaderColon")
        if not name.strip():
            raise Refused(400, "a header has no name", "EmptyHeader")
        last_dropped = False
        if not VALID_NAME.fullmatch(name):
            suspicious = _normalised(name) in FRAMING
            verdict.note(
                "ambiguous" if suspicious else "acceptable",
                "SuspiciousHeader" if suspicious else "NonCompliantHeader",
            )
            if drop_invalid:
                dropped.append(name.decode("latin-1"))
                last_dropped = True
                continue
            if not TOKEN.fullmatch(name):
                # ALB would forward it as it came; no strict parser can carry it (nor gunicorn).
                raise Refused(400, f"a header name is not a token: {name!r}", "BadHeaderName")
        lower = name.lower()
        if lower == b"content-length":
            lengths.append(value.strip(b" \t"))
        elif lower == b"transfer-encoding":
            codings.append(value.strip(b" \t"))
        else:
            if any(b > 0x7E or (b < 0x20 and b != 0x09) for b in value):
                verdict.note("acceptable", "NonCompliantHeader")
            kept.append(line)
    kept += _framing(method, lengths, codings, verdict)
    if verdict.tier == "severe":  # _framing raises for these; kept as a guard
        raise Refused(400, "the request is classed severe", verdict.reasons[-1])
    if mode == "strictest" and verdict.tier != "compliant":
        raise Refused(400, f"strictest mode refuses {verdict.tier} requests", verdict.reasons[-1])
    raw = b"\r\n".join([lines[0], *kept]) + b"\r\n\r\n"
    return Head(method, raw, verdict, dropped)


def _request_line(line: bytes, verdict: Verdict) -> bytes:
    if b"\x00" in line or b"\r" in line:
        raise Refused(400, "the request line carries a NUL or a bare CR", "BadUri")
    parts = line.split(b" ")
    if len(parts) < 3:
        raise Refused(400, "the request line has no version", "BadVersion")
    method, version = parts[0], parts[-1]
    if not TOKEN.fullmatch(method):
        raise Refused(400, "the method is malformed", "BadMethod")
    if not VERSION.fullmatch(version):
        raise Refused(400, "the HTTP version is malformed", "BadVersion")
    if len(parts) > 3 or any(b > 0x7E or b <= 0x20 for b in parts[1]):
        # ALB forwards some of these (acceptable: SpaceInUri); h11, rightly, will not send them.
        raise Refused(400, "the request target has spaces, controls or non-ASCII", "AmbiguousUri")
    if version not in (b"HTTP/1.0", b"HTTP/1.1"):
        verdict.note("acceptable", "NonCompliantVersion")
    return method


def _framing(
    method: bytes, lengths: list[bytes], codings: list[bytes], verdict: Verdict
) -> list[bytes]:
    """The body's framing as one clean field (or none), or Refused; notes what was unclean."""
    values = {part.strip(b" \t") for value in lengths for part in value.split(b",")}
    if lengths:
        if not all(DIGITS.fullmatch(v) for v in values):
            raise Refused(400, "Content-Length is not a number", "BadContentLength")
        if len(values) > 1:
            raise Refused(400, "Content-Length headers disagree", "MultipleContentLength")
        if len(lengths) > 1 or b"," in lengths[0]:
            verdict.note("ambiguous", "DuplicateContentLength")
    names = [c.strip(b" \t").lower() for value in codings for c in value.split(b",")]
    names = [c for c in names if c]
    if names.count(b"chunked") > 1:
        raise Refused(400, "chunked is applied twice", "MultipleTransferEncodingChunked")
    unknown = [c for c in names if c not in (b"chunked", b"identity")]
    if unknown:
        raise Refused(
            501,
            f"Transfer-Encoding {unknown[0].decode('latin-1')!r} is not supported",
            "BadTransferEncoding",
        )
    chunked = b"chunked" in names
    if chunked and names[-1] != b"chunked":
        raise Refused(400, "chunked is not the last transfer coding", "BadTransferEncoding")
    if codings and not chunked:
        verdict.note("acceptable", "IdentityTransferEncoding")  # as if it were not there
    if chunked and lengths:
        # A proxy must drop Content-Length then (RFC 9112 6.3); the request may still be a
        # smuggling attempt, so its connections are closed after it.
        verdict.note("ambiguous", "BothTeClPresent")
    if method in (b"GET", b"HEAD"):
        if chunked:
            verdict.note("ambiguous", "UndefinedTransferEncodingSemantics")
        elif lengths and values != {b"0"}:
            verdict.note("ambiguous", "UndefinedContentLengthSemantics")
        elif lengths:
            verdict.note("acceptable", "GetHeadZeroContentLength")
    if chunked:
        return [b"Transfer-Encoding: chunked"]
    if lengths:
        return [b"Content-Length: " + str(int(values.pop())).encode()]
    return []


def _normalised(name: bytes) -> bytes:
    """A name as a careless parser might read it: letters only, dashes for the rest."""
    text = name.decode("utf-8", "replace").upper().lower()  # a dotless i upper-cases to "I"
    letters = re.sub(r"[^a-z]+", "-", text).strip("-")
    return letters.encode("ascii", "ignore")
