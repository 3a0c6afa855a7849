"""One client connection to a listener: its requests parsed strictly, forwarded, streamed back.

h11 (the sans-I/O HTTP/1.1 parser httpcore and uvicorn build on) reads both sides: the
client's requests, after head.py has classed and cleaned each head, and the target's answers,
so a malformed answer is ALB's 502, never passed on. Bodies stream through in both directions
in pieces of at most CHUNK bytes, waiting for the other side to take each one, so memory stays
bounded whatever their size. A target that answers before the request body is all sent (a
413, say) is heard out: its answer is passed back, and both connections close. Each wait is
bounded by the load balancer's idle timeout; a head must arrive within the header timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import h11

from runbook.sandbox.load_balancer.head import MAX_HEAD, Head, Refused, classify, split_head
from runbook.sandbox.load_balancer.pages import page, raw_page, redirect_location
from runbook.sandbox.load_balancer.upstream import Upstream

CHUNK = 64 * 1024
CONNECT_TIMEOUT = 10.0  # ALB: a target that does not accept within 10 s is a 504
MAX_FORWARDED_FOR = 30  # ALB: more addresses than this in X-Forwarded-For is a 463
HOP_BY_HOP = {
    b"connection",
    b"keep-alive",
    b"proxy-authenticate",
    b"proxy-authorization",
    b"proxy-connection",
    b"te",
    b"trailer",
    b"transfer-encoding",
    b"upgrade",
}
# Set by the balancer, whatever the client sent under any case (X-Forwarded-For is appended to).
OURS = {b"x-forwarded-proto", b"x-forwarded-port", b"x-amzn-trace-id", b"expect"}


class Gone(Exception):
    """The client went away, or stalled past the idle timeout (`stalled`)."""

    def __init__(self, *, stalled: bool = False) -> None:
        super().__init__("stalled" if stalled else "closed")
        self.stalled = stalled


@dataclass
class Settings:
    """What a listener reads from its load balancer's attributes (ALB's defaults)."""

    idle_timeout: float = 60.0  # idle_timeout.timeout_seconds
    drop_invalid: bool = False  # routing.http.drop_invalid_header_fields.enabled
    desync_mode: str = "defensive"  # routing.http.desync_mitigation_mode
    forwarded_for: str = "append"  # routing.http.xff_header_processing.mode
    header_timeout: float = 20.0  # a request's head must arrive within this
    max_connections: int = 1000  # per listener; beyond it a new connection gets 503

    @classmethod
    def of(cls, attributes: dict[str, str], **fixed: Any) -> Settings:
        return cls(
            idle_timeout=float(attributes.get("idle_timeout.timeout_seconds", 60)),
            drop_invalid=attributes.get("routing.http.drop_invalid_header_fields.enabled")
            == "true",
            desync_mode=attributes.get("routing.http.desync_mitigation_mode", "defensive"),
            forwarded_for=attributes.get("routing.http.xff_header_processing.mode", "append"),
            **fixed,
        )


class ListenerView(Protocol):
    """What a connection reads of the listener that accepted it (listener.Listener)."""

    settings: Settings
    address: str
    requested_port: int

    def action(self) -> dict[str, Any]: ...

    def note(self, status: int, client: str, why: str, reason: str = "") -> None: ...


class ClientConnection:
    """Serves one client connection until it closes, stalls, or a request must close it."""

    def __init__(
        self, listener: ListenerView, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.listener = listener
        self.settings = listener.settings
        self.reader, self.writer = reader, writer
        peer = writer.get_extra_info("peername") or ("0.0.0.0", 0)
        self.client = str(peer[0])

    async def serve(self) -> None:
        buffer = b""
        try:
            while True:
                found = await self._head(buffer)
                if found is None:
                    return
                keep, buffer = await self._exchange(*found)
                if not keep:
                    return
        except Refused as refused:
            self.listener.note(refused.status, self.client, refused.why, refused.reason)
            with contextlib.suppress(Exception):
                self.writer.write(raw_page(refused.status))
                await asyncio.wait_for(self.writer.drain(), self.settings.idle_timeout)
        except Gone:
            pass
        finally:
            self.writer.close()

    async def _read(self, timeout: float) -> bytes:
        try:
            return await asyncio.wait_for(self.reader.read(CHUNK), max(timeout, 0.0))
        except TimeoutError:
            raise Gone(stalled=True) from None
        except ConnectionError:
            raise Gone() from None

    async def _write(self, data: bytes | None) -> None:
        if not data:
            return
        self.writer.write(data)
        try:
            await asyncio.wait_for(self.writer.drain(), self.settings.idle_timeout)
        except TimeoutError:
            raise Gone(stalled=True) from None
        except ConnectionError:
            raise Gone() from None

    async def _head(self, buffer: bytes) -> tuple[bytes, bytes] | None:
        """The next request's head and the bytes after it; None: the client is done."""
        deadline = 0.0
        while True:
            buffer = buffer.lstrip(b"\r\n")  # blank lines between requests are tolerated
            found = split_head(buffer)
            if found is not None:
                return found
            wait = self.settings.idle_timeout
            if buffer:  # a head has begun: it has the header timeout to finish
                deadline = deadline or time.monotonic() + self.settings.header_timeout
                wait = min(wait, deadline - time.monotonic())
            try:
                data = await asyncio.wait_for(self.reader.read(CHUNK), max(wait, 0.0))
            except TimeoutError:
                if buffer:  # a head started and never finished: ALB's 408
                    raise Refused(408, "the request head did not arrive in time") from None
                return None  # idle between requests: closed quietly, as ALB does
            except ConnectionError:
                return None
            if not data:
                return None
            buffer += data

    async def _exchange(self, head_bytes: bytes, rest: bytes) -> tuple[bool, bytes]:
        """One request and its answer; whether the connection stays open, and what is left."""
        head = classify(
            head_bytes, drop_invalid=self.settings.drop_invalid, mode=self.settings.desync_mode
        )
        server = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD + 1024)
        server.receive_data(head.raw)
        try:
            request = server.next_event()
        except h11.RemoteProtocolError as exc:
            raise Refused(400, str(exc), "Malformed") from None
        assert isinstance(request, h11.Request)
        if rest:  # (an empty receive_data would tell h11 the client closed)
            server.receive_data(rest)
        exchange = Exchange(self, server, request, head)
        await exchange.run()
        if head.verdict.tier == "ambiguous" or server.our_state is not h11.DONE:
            return False, b""
        if server.their_state is not h11.DONE:
            return False, b""
        return True, bytes(server.trailing_data[0])


class Exchange:
    """One request: answered by the balancer (redirect, fixed response, 503) or forwarded."""

    def __init__(
        self, conn: ClientConnection, server: h11.Connection, request: h11.Request, head: Head
    ) -> None:
        self.conn, self.server, self.request, self.head = conn, server, request, head
        self.listener = conn.listener
        self.settings = conn.settings
        self.closing = head.verdict.tier == "ambiguous"
        self.body_done = False
        self.answered = False

    async def run(self) -> None:
        action = self.listener.action()
        kind = action.get("Type")
        if kind == "redirect":
            await self._redirect(action.get("RedirectConfig", {}))
        elif kind == "fixed-response":
            config = action.get("FixedResponseConfig", {})
            body = config.get("MessageBody", "").encode()
            headers = [(b"Content-Type", config.get("ContentType", "text/plain").encode())]
            await self._answer(int(config.get("StatusCode", 200)), headers, body)
        elif kind == "forward":
            await self._forward(action.get("group"))
        else:
            await self._page(503)

    # -- answers the balancer writes ------------------------------------------------------

    async def _page(self, status: int, why: str = "") -> None:
        if status >= 500 or why:
            self.listener.note(status, self.conn.client, why or "no healthy target")
        headers, body = page(status)
        await self._answer(status, headers, body)

    async def _answer(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        """A whole answer from the balancer; closes after it unless the request was all read."""
        self._finish_reading()
        if not self.body_done:
            self.closing = True
        headers = [*headers, (b"Content-Length", str(len(body)).encode())]
        if self.closing:
            headers.append((b"Connection", b"close"))
        self.answered = True
        send = self.server.send
        out = send(h11.Response(status_code=status, headers=headers)) or b""
        out += (send(h11.Data(data=body)) or b"") if body else b""
        await self.conn._write(out + (send(h11.EndOfMessage()) or b""))

    def _finish_reading(self) -> None:
        """Take a body-less request's end from what is already here, without waiting."""
        if self.body_done:
            return
        with contextlib.suppress(h11.RemoteProtocolError):
            while True:
                event = self.server.next_event()
                if isinstance(event, h11.EndOfMessage):
                    self.body_done = True
                    return
                if not isinstance(event, h11.Data):
                    return  # more to come: the connection closes after the answer

    async def _redirect(self, config: dict[str, Any]) -> None:
        target = urlsplit(self.request.target.decode("ascii"))
        host = self._header(b"host") or self.listener.address
        status, location = redirect_location(
            config,
            host=host.rsplit(":", 1)[0] if not host.endswith("]") else host,
            path=target.path or "/",
            query=target.query,
            port=self.listener.requested_port,
        )
        headers, body = page(status)
        await self._answer(status, [*headers, (b"Location", location.encode())], body)

    def _header(self, name: bytes) -> str:
        for key, value in self.request.headers:
            if key == name:
                return value.decode("latin-1")
        return ""

    # -- forwarding ------------------------------------------------------------------------

    async def _forward(self, group: Any) -> None:
        first = await self._first_body_event()
        target = group.pick() if group is not None else None
        if target is None:
            await self._page(503)
            return
        headers = self._forwarded_headers()
        if headers is None:
            await self._page(463, "X-Forwarded-For holds more than 30 addresses")
            return
        try:
            upstream = await asyncio.wait_for(
                Upstream.connect(target.id, target.port, self.settings.idle_timeout),
                CONNECT_TIMEOUT,
            )
        except TimeoutError:
            await self._page(504, f"target {target.id}:{target.port} did not accept in 10 s")
            return
        except OSError as exc:
            await self._page(502, f"target {target.id}:{target.port}: {exc.strerror or exc}")
            return
        try:
            await self._relay(upstream, headers, first)
        finally:
            upstream.close()

    def _forwarded_headers(self) -> list[tuple[bytes, bytes]] | None:
        """The client's headers for the target: hop-by-hop and ours taken out, ALB's set."""
        raw = list(self.request.headers.raw_items())
        named = {
            token.strip().lower()
            for name, value in raw
            if name.lower() == b"connection"
            for token in value.split(b",")
        }
        chain: list[bytes] = []
        kept: list[tuple[bytes, bytes]] = []
        for name, value in raw:
            lower = name.lower()
            if lower == b"x-forwarded-for":
                chain += [part.strip() for part in value.split(b",") if part.strip()]
            elif lower not in HOP_BY_HOP and lower not in OURS and lower not in named:
                kept.append((name, value))
        if self.request.http_version == b"1.0" and not any(n.lower() == b"host" for n, _ in kept):
            kept.append((b"Host", self.listener.address.encode()))
        mode = self.settings.forwarded_for
        if mode == "append":
            chain.append(self.conn.client.encode())
        if len(chain) > MAX_FORWARDED_FOR:
            return None
        if chain and mode != "remove":
            kept.append((b"X-Forwarded-For", b", ".join(chain)))
        kept += [
            (b"X-Forwarded-Proto", b"http"),
            (b"X-Forwarded-Port", str(self.listener.requested_port).encode()),
            (b"X-Amzn-Trace-Id", f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}".encode()),
        ]
        if any(n.lower() == b"transfer-encoding" for n, _ in raw):
            kept.append((b"Transfer-Encoding", b"chunked"))
        if self.closing:
            kept.append((b"Connection", b"close"))  # an ambiguous request shares no connection
        return kept

    async def _relay(
        self, upstream: Upstream, headers: list[tuple[bytes, bytes]], first: Any
    ) -> None:
        request = h11.Request(
            method=self.request.method, target=self.request.target, headers=headers
        )
        try:
            head = upstream.h11.send(request)
        except h11.LocalProtocolError as exc:  # what the client sent cannot be sent on
            await self._page(400, f"the request cannot be forwarded: {exc}")
            return
        try:
            await upstream.write(head)
        except (ConnectionError, TimeoutError) as exc:
            await self._page(502, f"target closed the connection: {exc}")
            return
        sending = asyncio.create_task(self._send_body(upstream, first))
        try:
            await self._pass_back(upstream, sending)
        finally:
            if not sending.done():
                sending.cancel()
            with contextlib.suppress(BaseException):
                await sending

    async def _body_event(self) -> Any:
        """The client's next body event (Data or EndOfMessage), reading from it as needed."""
        while True:
            event = self.server.next_event()
            if event is not h11.NEED_DATA:
                return event
            data = await self.conn._read(self.settings.idle_timeout)
            if not data:
                raise Gone()  # mid-body: ALB logs a 460 and answers nothing
            self.server.receive_data(data)

    async def _first_body_event(self) -> Any:
        """The body's first piece, before a target hears of the request: a body malformed
        from its start (a bad chunk size) is refused without reaching the app."""
        if self.server.they_are_waiting_for_100_continue:
            await self.conn._write(
                self.server.send(h11.InformationalResponse(status_code=100, headers=[]))
            )
        try:
            return await self._body_event()
        except h11.RemoteProtocolError as exc:
            raise Refused(400, f"malformed request body: {exc}", "Malformed") from None
        except Gone as exc:
            if exc.stalled:
                raise Refused(408, "the request body stalled past the idle timeout") from None
            raise

    async def _send_body(self, upstream: Upstream, event: Any) -> None:
        """The client's body to the target, piece by piece; stops quietly if the target
        stops reading (its answer, if any, still comes back)."""
        while True:
            if isinstance(event, h11.Data):
                out = upstream.h11.send(h11.Data(data=event.data))
            elif isinstance(event, h11.EndOfMessage):
                out = upstream.h11.send(h11.EndOfMessage())  # trailers are not passed on
                self.body_done = True
            else:
                return
            try:
                await upstream.write(out)
            except (ConnectionError, TimeoutError, h11.LocalProtocolError):
                return
            if self.body_done:
                return
            event = await self._body_event()

    async def _pass_back(self, upstream: Upstream, sending: asyncio.Task[None]) -> None:
        """The target's answer to the client as it comes; ALB's 502/504 if there is none.
        What arrived together leaves together (one write, not one per event), at most about
        CHUNK bytes at a time."""
        out = bytearray()
        while True:
            if sending.done() and not sending.cancelled() and sending.exception() is not None:
                await self._body_failed(sending.exception())
                return
            try:
                event = upstream.h11.next_event()
            except h11.RemoteProtocolError as exc:
                await self._flush(out)
                await self._target_failed(502, f"malformed answer: {exc}")
                return
            if event is h11.NEED_DATA:
                await self._flush(out)
                data = await self._upstream_read(upstream, sending)
                if data is None:
                    return
                upstream.h11.receive_data(data)
                continue
            if isinstance(event, h11.InformationalResponse):
                continue  # we asked for no 100 Continue; nothing else is for the client
            if isinstance(event, h11.Response):
                out += self._start_answer(event, sending)
            elif isinstance(event, h11.Data):
                out += self.server.send(h11.Data(data=event.data)) or b""
                if len(out) >= CHUNK:
                    await self._flush(out)
            elif isinstance(event, h11.EndOfMessage):
                out += self.server.send(h11.EndOfMessage()) or b""
                await self._flush(out)
                return
            else:  # ConnectionClosed before an end
                await self._flush(out)
                await self._target_failed(502, "the target closed the connection")
                return

    async def _flush(self, out: bytearray) -> None:
        if out:
            data = bytes(out)
            out.clear()
            await self.conn._write(data)

    async def _upstream_read(self, upstream: Upstream, sending: asyncio.Task[None]) -> bytes | None:
        """The target's next bytes; b"" at its end; None when the exchange is over."""
        reading = asyncio.ensure_future(upstream.read())
        waits: set[asyncio.Future[Any]] = {reading}
        if not sending.done():
            waits.add(sending)
        done, _ = await asyncio.wait(
            waits, timeout=self.settings.idle_timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if reading in done:
            try:
                return reading.result()
            except ConnectionError:
                return b""  # as an end: h11 then says whether the answer was whole
        if sending in done:
            # The body went out (or failed): look at the target again, with a fresh wait.
            reading.cancel()
            with contextlib.suppress(BaseException):
                await reading
            if sending.exception() is not None:
                await self._body_failed(sending.exception())
                return None
            return await self._upstream_read(upstream, sending)
        reading.cancel()
        with contextlib.suppress(BaseException):
            await reading
        await self._target_failed(504, f"no answer within the idle timeout ({self._idle()})")
        return None

    def _idle(self) -> str:
        return f"{self.settings.idle_timeout:g} s"

    def _start_answer(self, response: h11.Response, sending: asyncio.Task[None]) -> bytes:
        named = {
            token.strip().lower()
            for name, value in response.headers
            if name == b"connection"
            for token in value.split(b",")
        }
        headers = [
            (name, value)
            for name, value in response.headers.raw_items()
            if name.lower() not in HOP_BY_HOP and name.lower() not in named
        ]
        if not sending.done() or not self.body_done:
            self.closing = True  # the rest of the body is never read: this connection ends
        if self.closing:
            headers.append((b"Connection", b"close"))
        self.answered = True
        return (
            self.server.send(
                h11.Response(
                    status_code=response.status_code, headers=headers, reason=response.reason
                )
            )
            or b""
        )

    async def _body_failed(self, exc: BaseException | None) -> None:
        """The client's body could not be read: a malformed one is a 400, a stalled one a 408
        (if nothing was answered yet); a client that left gets nothing."""
        if self.answered:
            raise Gone()
        if isinstance(exc, h11.RemoteProtocolError):
            raise Refused(400, f"malformed request body: {exc}", "Malformed")
        if isinstance(exc, Gone) and exc.stalled:
            raise Refused(408, "the request body stalled past the idle timeout")
        raise Gone()

    async def _target_failed(self, status: int, why: str) -> None:
        if self.answered:  # part of the answer is out: all that is left is to cut it short
            self.listener.note(status, self.conn.client, why)
            raise Gone()
        await self._page(status, why)
