"""A small keep-alive HTTP load generator for loopback benchmarks (processes x threads).

Each connection sends requests back to back for a fixed time, or until a request budget
is spent, whichever comes first, and records every latency.
"""

from __future__ import annotations

import http.client
import multiprocessing
import statistics
import threading
import time
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Load:
    method: str
    path: str
    body: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()  # sent with every request (If-None-Match, ...)


@dataclass(frozen=True)
class Result:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    # Percentiles already computed by an external tool (wrk), when latencies_ms is empty.
    fixed_percentiles: dict[int, float] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: int) -> float:
        if p in self.fixed_percentiles:
            return self.fixed_percentiles[p]
        if p == 50:
            return statistics.median(self.latencies_ms)
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


def _connection_loop(
    port: int, load: Load, deadline: float, budget: int, out: list[float], errors: list[int]
) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Content-Type": "application/json"} if load.body is not None else {}
    headers.update(load.headers)
    try:
        while time.monotonic() < deadline and len(out) < budget:
            started = time.perf_counter()
            conn.request(load.method, load.path, body=load.body, headers=headers)
            response = conn.getresponse()
            response.read()
            out.append((time.perf_counter() - started) * 1000)
            if response.status >= 400:
                errors.append(response.status)
    finally:
        conn.close()


def _process(
    port: int, load: Load, threads: int, seconds: float, budget: int, queue: multiprocessing.Queue
) -> None:
    began = time.monotonic()
    deadline = began + seconds
    per_thread: list[list[float]] = [[] for _ in range(threads)]
    errors: list[int] = []
    workers = [
        threading.Thread(
            target=_connection_loop, args=(port, load, deadline, budget, per_thread[n], errors)
        )
        for n in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    queue.put(([ms for lat in per_thread for ms in lat], len(errors), began, time.monotonic()))


def run(
    port: int,
    load: Load,
    concurrency: int = 32,
    processes: int = 4,
    seconds: float = 5.0,
    max_requests: int = 200_000,
) -> Result:
    """Keep `concurrency` connections busy for `seconds` (at most `max_requests` in all)."""
    threads = concurrency // processes
    budget = max(1, max_requests // concurrency)
    queue: multiprocessing.Queue = multiprocessing.Queue()
    procs = [
        multiprocessing.Process(target=_process, args=(port, load, threads, seconds, budget, queue))
        for _ in range(processes)
    ]
    for proc in procs:
        proc.start()
    latencies: list[float] = []
    errors = 0
    spans: list[tuple[float, float]] = []
    for _ in procs:
        lat, err, began, ended = queue.get(timeout=seconds + 60)
        latencies.extend(lat)
        errors += err
        spans.append((began, ended))
    for proc in procs:
        proc.join(timeout=10)
    # The time requests were in flight (CLOCK_MONOTONIC is shared by all processes), not
    # counting the load generator's own start-up.
    elapsed = max(end for _, end in spans) - min(begin for begin, _ in spans)
    return Result(len(latencies), errors, elapsed, latencies)
