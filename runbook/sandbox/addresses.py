"""Loopback addresses as the sandbox's ENIs: each task, database and load balancer its own.

All of 127.0.0.0/8 reaches this machine on Linux, so each part can listen on its real port
(a task on 5000, the database on 5432, the listener on 80) at an address of its own, and
traffic never leaves the machine. A sandbox claims a block 127.A.B.0/24 by holding a socket
bound to its .1 address at CLAIM_PORT: the kernel lets one socket at a time hold it, whoever
owns it, so two sandboxes (two test workers, two users) never share a block. The port is an
unprivileged one (an ordinary user may bind ports from net.ipv4.ip_unprivileged_port_start,
1024 by default), below Linux's ephemeral range (32768 up), so no outgoing connection takes it.
"""

from __future__ import annotations

import errno
import random
import socket
import threading

CLAIM_PORT = 10009  # registered to nothing common; only our claims bind it on 127.A.B.1
TRIES = 200


class LoopbackBlock:
    def __init__(self, rng: random.Random | None = None) -> None:
        rng = rng or random.Random()
        for _ in range(TRIES):
            a, b = rng.randint(16, 250), rng.randint(0, 255)
            claim = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                claim.bind((f"127.{a}.{b}.1", CLAIM_PORT))
            except OSError as exc:
                claim.close()
                if exc.errno == errno.EADDRINUSE:
                    continue  # another sandbox's block
                # Not a taken block: this machine refuses the claim itself (127/8 not all
                # local, say). Every other block would fail alike: say why now.
                raise RuntimeError(
                    f"the sandbox cannot claim loopback addresses (binding 127.{a}.{b}.1 "
                    f"port {CLAIM_PORT}: {exc.strerror or exc}); it needs all of 127.0.0.0/8 "
                    "on the loopback interface, as Linux has it by default"
                ) from exc
            self.prefix = f"127.{a}.{b}"
            self._claim = claim
            break
        else:
            raise RuntimeError(
                f"no free loopback block for the sandbox: {TRIES} blocks tried, each taken "
                f"(port {CLAIM_PORT} on its .1 address was bound: by other sandboxes, or by "
                "a program listening on that port on every address)"
            )
        self._next = 2
        self._free: list[int] = []
        self._lock = threading.Lock()

    def take(self) -> str:
        """A fresh address in the block (recycled once given back)."""
        with self._lock:
            if self._free:
                return f"{self.prefix}.{self._free.pop(0)}"
            if self._next > 254:
                raise RuntimeError("the sandbox ran out of loopback addresses")
            host, self._next = self._next, self._next + 1
            return f"{self.prefix}.{host}"

    def give_back(self, address: str) -> None:
        with self._lock:
            host = int(address.rsplit(".", 1)[1])
            if host not in self._free:
                self._free.append(host)

    def close(self) -> None:
        self._claim.close()


def bind(address: str, port: int) -> socket.socket:
    """A listening socket on the address at the port, or at a free one if that is refused."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((address, port))
        except OSError:  # port 80 needs root; a port may be taken
            sock.bind((address, 0))
        sock.listen(128)
    except OSError:  # the address itself is refused: give the socket back, say why
        sock.close()
        raise
    return sock
