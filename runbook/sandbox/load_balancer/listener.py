"""One ALB listener at the load balancer's loopback address, served on the sandbox's edge loop.

Every listener of the sandbox shares one asyncio loop on one thread (the process also runs
the emulator, so a thread per connection would let slow clients crowd it out); each has a
bounded number of connections, and each connection waits no longer than the idle timeout
for anything (a head: no longer than the header timeout).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any

from runbook.sandbox.addresses import bind
from runbook.sandbox.load_balancer.forwarding import ClientConnection, Settings
from runbook.sandbox.load_balancer.pages import raw_page

log = logging.getLogger("runbook.sandbox")


class EdgeLoop:
    """The one event loop, on its own thread, that serves every listener of this process."""

    _lock = threading.Lock()
    _running: EdgeLoop | None = None

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="edge", daemon=True)
        self.thread.start()

    @classmethod
    def get(cls) -> EdgeLoop:
        with cls._lock:
            if cls._running is None:
                cls._running = EdgeLoop()
            return cls._running

    def run(self, work: Coroutine[Any, Any, Any], timeout: float = 30.0) -> Any:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout)


class Listener:
    """An HTTP listener: accepts on the address (the requested port, or a free one if that is
    refused; OSError if the address itself is), and hands each connection its own task."""

    def __init__(
        self,
        address: str,
        port: int,
        action: Callable[[], dict[str, Any]],
        settings: Settings | None = None,
        report: Callable[[str], None] | None = None,
    ) -> None:
        self.requested_port = port
        self._action = action
        self.settings = settings or Settings()
        self._report = report or log.info
        sock = bind(address, port)
        self.address, self.port = sock.getsockname()[:2]
        self.dns = ""
        self._connections: set[asyncio.Task[None]] = set()
        self._edge = EdgeLoop.get()
        try:
            self._server = self._edge.run(self._start(sock))
        except BaseException:
            sock.close()
            raise

    async def _start(self, sock: Any) -> asyncio.Server:
        return await asyncio.start_server(self._accept, sock=sock, limit=64 * 1024)

    @property
    def url(self) -> str:
        return f"http://{self.address}" + ("" if self.port == 80 else f":{self.port}")

    def action(self) -> dict[str, Any]:
        return self._action()

    def note(self, status: int, client: str, why: str, reason: str = "") -> None:
        """One log line for an answer the balancer wrote itself instead of the target's."""
        self._report(
            f"listener {self.url}: {status} to {client}: {why}" + (f" ({reason})" if reason else "")
        )

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if len(self._connections) >= self.settings.max_connections:
            # Full: a short answer rather than a queue the slow ones would hold for everyone.
            with contextlib.suppress(Exception):
                writer.write(raw_page(503))
                await asyncio.wait_for(writer.drain(), 1.0)
            writer.close()
            return
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            await ClientConnection(self, reader, writer).serve()
        except Exception as exc:  # one connection's trouble is its own: a line, never a stop
            self._report(f"listener {self.url}: connection failed: {type(exc).__name__}: {exc}")
            writer.close()
        finally:
            self._connections.discard(task)

    @property
    def connections(self) -> int:
        return len(self._connections)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._edge.run(self._stop(), timeout=10)

    async def _stop(self) -> None:
        self._server.close()
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.wait(list(self._connections), timeout=5)
        await self._server.wait_closed()
