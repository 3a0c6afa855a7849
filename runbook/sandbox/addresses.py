"""Loopback addresses as the sandbox's ENIs: each task, database and load balancer its own.

All of 127.0.0.0/8 reaches this machine on Linux, so each part can listen on its real port
(a task on 5000, the database on 5432, the listener on 80) at an address of its own, and
traffic never leaves the machine. A sandbox claims a block 127.A.B.0/24 by holding a socket
on its .1 address, so two sandboxes (two test workers) never share a block.
"""

from __future__ import annotations

import random
import socket
import threading

CLAIM_PORT = 9  # "discard": nothing else listens there on loopback


class LoopbackBlock:
    def __init__(self, rng: random.Random | None = None) -> None:
        rng = rng or random.Random()
        for _ in range(200):
            a, b = rng.randint(16, 250), rng.randint(0, 255)
            claim = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                claim.bind((f"127.{a}.{b}.1", CLAIM_PORT))
            except OSError:
                claim.close()
                continue
            self.prefix = f"127.{a}.{b}"
            self._claim = claim
            break
        else:
            raise RuntimeError("no free loopback block for the sandbox")
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
