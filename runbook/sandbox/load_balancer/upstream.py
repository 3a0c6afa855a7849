"""The connection to one target for one request, keeping what the target said apart from how
the connection ended.

A target that answers early (a 413 before the body is all sent) and closes makes our next
write fail with a reset; asyncio then closes the socket at once, and an answer still in the
kernel's receive queue would be lost (asyncio's StreamReader would also raise before handing
out what it holds). Here what the kernel still holds is read before asyncio closes the
socket, and bytes received are always handed out before the end is reported. Reading pauses
while CHUNK bytes wait unread, so memory stays bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections import deque

import h11

CHUNK = 64 * 1024


class _Target(asyncio.Protocol):
    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self.received: deque[bytes] = deque()
        self.waiting = 0  # bytes received and not yet read
        self.ended = False
        self.transport: asyncio.Transport | None = None
        self._arrived = asyncio.Event()
        self._writable = asyncio.Event()
        self._writable.set()
        self._paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.received.append(data)
        self.waiting += len(data)
        self._arrived.set()
        if self.waiting >= CHUNK and not self._paused and self.transport is not None:
            self.transport.pause_reading()
            self._paused = True

    def eof_received(self) -> bool:
        self.ended = True
        self._arrived.set()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None:  # a failed write: the socket is still open (asyncio closes it next)
            with contextlib.suppress(OSError):
                while data := self._sock.recv(CHUNK):
                    self.received.append(data)
                    self.waiting += len(data)
        self.ended = True
        self._arrived.set()
        self._writable.set()

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    async def read(self) -> bytes:
        """What the target sent so far (waiting for some); b"" once it is done sending."""
        while not self.received and not self.ended:
            self._arrived.clear()
            await self._arrived.wait()
        data = self.received.popleft() if self.received else b""
        self.waiting -= len(data)
        if self._paused and self.waiting < CHUNK and self.transport is not None:
            self._paused = False
            self.transport.resume_reading()
        return data

    async def drained(self) -> None:
        await self._writable.wait()
        if self.ended or self.transport is None or self.transport.is_closing():
            raise ConnectionResetError("the target closed the connection")


class Upstream:
    """The connection to one target, for one request (ALB never reuses it for an ambiguous
    one; the sandbox never reuses it at all)."""

    def __init__(self, protocol: _Target, idle_timeout: float) -> None:
        self._protocol = protocol
        self.h11 = h11.Connection(h11.CLIENT)
        self.idle_timeout = idle_timeout

    @classmethod
    async def connect(cls, host: str, port: int, idle_timeout: float) -> Upstream:
        loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setblocking(False)
            await loop.sock_connect(sock, (host, port))
            _, protocol = await loop.create_connection(lambda: _Target(sock), sock=sock)
        except BaseException:
            sock.close()
            raise
        return cls(protocol, idle_timeout)

    async def read(self) -> bytes:
        return await self._protocol.read()

    async def write(self, data: bytes | None) -> None:
        if not data:
            return
        transport = self._protocol.transport
        if self._protocol.ended or transport is None or transport.is_closing():
            raise ConnectionResetError("the target closed the connection")
        transport.write(data)
        await asyncio.wait_for(self._protocol.drained(), self.idle_timeout)

    def close(self) -> None:
        if self._protocol.transport is not None:
            self._protocol.transport.close()
