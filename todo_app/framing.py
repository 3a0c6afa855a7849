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


def _head_end(data: bytearray | bytes, start: int) -> tuple[int, int] | None:
    """(end of the head, start of the body), or None while the head goes on."""
    crlf = data.find(b"\r\n\r\n", start)
    # A bare LF ends a line too for some clients; gunicorn judges whether it accepts that.
    lf = data.find(b"\n\n", start)
    if crlf >= 0 and (lf < 0 or crlf < lf):
        return crlf, crlf + 4
    return (lf, lf + 2) if lf >= 0 else None


def _fields(head: bytes) -> dict[bytes, list[bytes]]:
    fields: dict[bytes, list[bytes]] = {}
    for line in head.replace(b"\r\n", b"\n").split(b"\n")[1:]:
        name, _, value = line.partition(b":")
        fields.setdefault(name.strip().lower(), []).append(value.strip())
    return fields


class RequestScan:
    """Where one request ends, worked out as its bytes arrive.

    Call verdict() with the whole buffer each time it grows. The work already done is
    kept (how far the head was searched, the framing, the last chunk boundary), so a
    client that sends a byte at a time costs each call only its new bytes: a scan from
    the start every time would be quadratic, and a cheap way to burn the worker's CPU.
    """

    def __init__(self, body_max: int) -> None:
        # body_max: the largest body the app takes. One whose Content-Length is larger is
        # handed on as soon as its head is here: the app refuses it (413) from that alone.
        self.body_max = body_max
        self.expects_continue = False  # known once the head is here
        self._searched = 0  # the head's end is not before this offset
        self._body_start = -1  # -1: head not here yet
        self._length = -1  # Content-Length, or -1 for chunked
        self._next_chunk = 0  # offset of the next chunk-size line (chunked)
        self._seen = 0  # chunk data so far (chunked)
        self._decided: Verdict | None = None

    def verdict(self, data: bytearray | bytes) -> Verdict:
        if self._decided is not None:
            return self._decided
        if self._body_start < 0:
            found = self._head(data)
            if found is not None:
                self._decided = found
                return found
            if self._body_start < 0:
                return Verdict.INCOMPLETE
        if self._length >= 0:
            if len(data) - self._body_start >= self._length:
                self._decided = Verdict.DISPATCH
                return self._decided
            return Verdict.INCOMPLETE
        found = self._chunks(data)
        if found is not Verdict.INCOMPLETE:
            self._decided = found
        return found

    def _head(self, data: bytearray | bytes) -> Verdict | None:
        """Find and read the head; a verdict when the head alone decides."""
        ends = _head_end(data, self._searched)
        if ends is None:
            self._searched = max(0, len(data) - 3)
            return Verdict.HEAD_TOO_LARGE if len(data) > HEAD_MAX_BYTES else None
        head_end, self._body_start = ends
        if head_end > HEAD_MAX_BYTES:
            return Verdict.HEAD_TOO_LARGE
        fields = _fields(bytes(data[:head_end]))
        self.expects_continue = any(
            value.lower() == b"100-continue" for value in fields.get(b"expect", [])
        )
        codings = fields.get(b"transfer-encoding")
        lengths = fields.get(b"content-length")
        if codings is not None:
            if lengths is not None or len(codings) != 1 or codings[0].lower() != b"chunked":
                return Verdict.DISPATCH
            self._next_chunk = self._body_start
            return None
        if lengths is None:
            return Verdict.DISPATCH  # no body
        if len(set(lengths)) != 1 or not lengths[0].isdigit() or len(lengths[0]) > 18:
            return Verdict.DISPATCH
        self._length = int(lengths[0])
        return Verdict.DISPATCH if self._length > self.body_max else None

    def _chunks(self, data: bytearray | bytes) -> Verdict:
        """Walk the chunk sizes (not their data) to the last chunk and its trailers."""
        while True:
            pos = self._next_chunk
            eol = data.find(b"\r\n", pos)
            if eol < 0:
                return Verdict.INCOMPLETE
            size_text = bytes(data[pos:eol]).split(b";", 1)[0].strip()
            if not size_text or len(size_text) > 16 or size_text.translate(None, _HEX):
                return Verdict.DISPATCH  # malformed: gunicorn refuses it
            size = int(size_text, 16)
            if size == 0:
                # Trailer fields, then an empty line.
                if data[eol + 2 : eol + 4] == b"\r\n" or data.find(b"\r\n\r\n", eol) >= 0:
                    return Verdict.DISPATCH
                return Verdict.INCOMPLETE
            if self._seen + size > self.body_max:
                return Verdict.BODY_TOO_LARGE
            end = eol + 2 + size + 2
            if end > len(data):
                return Verdict.INCOMPLETE
            if data[end - 2 : end] != b"\r\n":
                return Verdict.DISPATCH  # the chunk's data runs on past its size
            self._seen += size
            self._next_chunk = end


def verdict(data: bytes, body_max: int) -> Verdict:
    """What to do with a request whose first bytes (and maybe more) are `data`."""
    return RequestScan(body_max).verdict(data)


def expects_continue(data: bytes) -> bool:
    """Whether the request's head (all of it in data) asks for "100 Continue"."""
    scan = RequestScan(body_max=0)
    scan.verdict(data)
    return scan.expects_continue
