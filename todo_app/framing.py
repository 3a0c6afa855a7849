"""Whether the bytes read so far hold a whole HTTP/1.1 request (its head, and its body).

The worker (todo_app.gunicorn_worker) reads each request in its event loop and hands it to
a thread only once it is all there. This module decides only *when*: gunicorn's own parser
still parses every request from the same bytes, and refuses what is malformed. So when the
framing is anything but plain (a Content-Length that is not digits, two different ones,
a transfer coding other than chunked), the answer is Verdict.DISPATCH at once: gunicorn
answers such a request with a 400 without reading a body.
"""

from __future__ import annotations

import enum

# The largest head read here; ALB's own limit for all header fields is 64 KB.
HEAD_MAX_BYTES = 64 * 1024
_HEX = b"0123456789abcdefABCDEF"


class Verdict(enum.Enum):
    INCOMPLETE = "incomplete"  # wait for more bytes
    DISPATCH = "dispatch"  # a thread can serve it without waiting on the client
    HEAD_TOO_LARGE = "head too large"  # no end of the head within HEAD_MAX_BYTES
    # A chunked body beyond the limit: only reading 64 KiB of it would tell the app so, and
    # a thread would wait on the client for that; the worker refuses it itself (413).
    BODY_TOO_LARGE = "body too large"


def _head_end(data: bytes) -> tuple[int, int] | None:
    """(end of the head, start of the body), or None while the head goes on."""
    crlf = data.find(b"\r\n\r\n")
    if crlf >= 0:
        return crlf, crlf + 4
    # A bare LF ends a line too for some clients; gunicorn judges whether it accepts that.
    lf = data.find(b"\n\n")
    return (lf, lf + 2) if lf >= 0 else None


def _fields(head: bytes) -> dict[bytes, list[bytes]]:
    fields: dict[bytes, list[bytes]] = {}
    for line in head.replace(b"\r\n", b"\n").split(b"\n")[1:]:
        name, _, value = line.partition(b":")
        fields.setdefault(name.strip().lower(), []).append(value.strip())
    return fields


def _chunked_end(body: bytes, body_max: int) -> Verdict:
    """Walk the chunk sizes of a chunked body (not its data) to its last chunk and trailers."""
    pos = 0
    seen = 0
    while True:
        eol = body.find(b"\r\n", pos)
        if eol < 0:
            return Verdict.INCOMPLETE
        size_text = body[pos:eol].split(b";", 1)[0].strip()
        if not size_text or len(size_text) > 16 or size_text.translate(None, _HEX):
            return Verdict.DISPATCH  # malformed: gunicorn refuses it
        size = int(size_text, 16)
        if size == 0:
            # Trailer fields, then an empty line.
            trailers = body[eol + 2 :]
            if trailers.startswith(b"\r\n") or b"\r\n\r\n" in trailers:
                return Verdict.DISPATCH
            return Verdict.INCOMPLETE
        seen += size
        if seen > body_max:
            return Verdict.BODY_TOO_LARGE
        pos = eol + 2 + size + 2
        if pos > len(body):
            return Verdict.INCOMPLETE
        if body[pos - 2 : pos] != b"\r\n":
            return Verdict.DISPATCH  # the chunk's data runs on past its size


def verdict(data: bytes, body_max: int) -> Verdict:
    """What to do with a request whose first bytes (and maybe more) are `data`.

    body_max is the largest body the app takes: one whose Content-Length is larger is
    handed on as soon as its head is here, since the app refuses it (413) from that alone.
    """
    ends = _head_end(data)
    if ends is None:
        return Verdict.HEAD_TOO_LARGE if len(data) > HEAD_MAX_BYTES else Verdict.INCOMPLETE
    head_end, body_start = ends
    if head_end > HEAD_MAX_BYTES:
        return Verdict.HEAD_TOO_LARGE
    fields = _fields(data[:head_end])
    body = data[body_start:]
    codings = fields.get(b"transfer-encoding")
    lengths = fields.get(b"content-length")
    if codings is not None:
        if lengths is not None or len(codings) != 1 or codings[0].lower() != b"chunked":
            return Verdict.DISPATCH
        return _chunked_end(body, body_max)
    if lengths is None:
        return Verdict.DISPATCH  # no body
    if len(set(lengths)) != 1 or not lengths[0].isdigit() or len(lengths[0]) > 18:
        return Verdict.DISPATCH
    length = int(lengths[0])
    if length > body_max or len(body) >= length:
        return Verdict.DISPATCH
    return Verdict.INCOMPLETE


def expects_continue(data: bytes) -> bool:
    """Whether the request's head (all of it in data) asks for "100 Continue"."""
    ends = _head_end(data)
    if ends is None:
        return False
    values = _fields(data[: ends[0]]).get(b"expect", [])
    return any(value.lower() == b"100-continue" for value in values)
