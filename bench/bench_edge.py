"""Edge benchmark: the sandbox's load balancer under a big upload and slow clients, before/after.

Run: python bench/bench_edge.py [--before REF] [--upload-mb 300] [--checks 200] [--slow 50]
    [--held 300]
"Before" is REF's code (default: main), copied out with `git archive` into a temporary folder;
"after" is this checkout; both run in the same run, against the same target (gunicorn with
tests/sandbox/lb_target.py, whose body limit is raised so the upload streams to the end). Each
side's listener and target group run in a process of their own (as in the sandbox's process),
and this one drives them and reads that process's /proc status. Figures:
- memory: that process's RSS before and at its peak during one upload (sampled every 20 ms);
- /healthz through the listener, 200 requests one after another (a new connection each),
  median and p99, while 50 slow clients each hold a connection with half a request head;
- threads of that process with 300 slow clients connected.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from goals import add_smoke, run

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the target the tests use: tests/sandbox/lb_target.py

from tests.sandbox.lb_target import serve_command  # noqa: E402

CODE_ENV = "BENCH_EDGE_CODE"  # the folder whose runbook/ the measured process runs
HALF_HEAD = b"POST /upload HTTP/1.1\r\nHost: bench\r\nContent-Length: 10\r\n"


def serve(target_port: int) -> None:
    """In the measured process: a listener forwarding to the target, as the sandbox runs it."""
    # The side's own code first: ROOT, put first above for the target, would shadow "before".
    sys.path.insert(0, os.environ[CODE_ENV])
    from runbook.sandbox import load_balancer as lb

    group = lb.TargetGroup(
        "arn:bench", lb.HealthCheck("/healthz", 15, 5, 2, 2, "200"), 0.01, lambda _: None
    )
    group.start()
    target = group.register("127.0.0.1", target_port)
    while target.state != "healthy":
        time.sleep(0.02)
    listener = lb.Listener("127.0.0.1", 0, lambda: {"Type": "forward", "group": group})
    print(json.dumps({"port": listener.port, "code": lb.__file__}), flush=True)
    sys.stdin.read()  # until the bench closes our stdin
    listener.close()
    group.stop()


def status_of(pid: int) -> dict[str, int]:
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "Threads"):
            found[key] = int(value.split()[0])
    return found


def request(port: int, raw: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(raw)
        answer = b""
        while b"\r\n\r\n" not in answer:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
        return answer.split(b"\r\n", 1)[0]


def upload(port: int, pid: int, megabytes: int) -> dict[str, Any]:
    before = status_of(pid)["VmRSS"]
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            with contextlib.suppress(OSError):
                peak[0] = max(peak[0], status_of(pid)["VmRSS"])
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    size = megabytes * 1024 * 1024
    piece = b"x" * (1024 * 1024)
    started = time.monotonic()
    line = b""
    with socket.create_connection(("127.0.0.1", port), timeout=120) as sock:
        sock.sendall(
            f"POST /upload HTTP/1.1\r\nHost: bench\r\nContent-Length: {size}\r\n\r\n".encode()
        )
        with contextlib.suppress(OSError):
            for _ in range(megabytes):
                sock.sendall(piece)
        with contextlib.suppress(OSError):
            line = sock.recv(65536).split(b"\r\n", 1)[0]
    done.set()
    sampler.join()
    return {
        "status": line.decode(errors="replace"),
        "rss_before_mb": round(before / 1024, 1),
        "rss_peak_mb": round(peak[0] / 1024, 1),
        "growth_mb": round((peak[0] - before) / 1024, 1),
        "seconds": round(time.monotonic() - started, 2),
    }


def slow_clients(port: int, count: int) -> list[socket.socket]:
    held = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(HALF_HEAD)
        held.append(sock)
    time.sleep(0.5)  # let the listener take them all
    return held


def healthz_during_slow_clients(port: int, slow: int, n: int = 200) -> dict[str, Any]:
    held = slow_clients(port, slow)
    latencies, failures = [], 0
    try:
        for _ in range(n):
            started = time.perf_counter()
            try:
                ok = b" 200 " in request(port, b"GET /healthz HTTP/1.1\r\nHost: bench\r\n\r\n")
            except OSError:
                ok = False
            latencies.append((time.perf_counter() - started) * 1000)
            failures += not ok
    finally:
        for sock in held:
            sock.close()
    latencies.sort()
    return {
        "slow_clients": slow,
        "median_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 2),
        "failed": failures,
    }


def threads_with_slow_clients(port: int, pid: int, slow: int) -> dict[str, int]:
    idle = status_of(pid)["Threads"]
    held = slow_clients(port, slow)
    try:
        return {"slow_clients": slow, "threads_idle": idle, "threads": status_of(pid)["Threads"]}
    finally:
        for sock in held:
            sock.close()


def measure(code: Path, target_port: int, args: argparse.Namespace) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(code), **{CODE_ENV: str(code)})
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(target_port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        cwd=code,
    )
    assert process.stdout is not None and process.stdin is not None
    ready = json.loads(process.stdout.readline())
    port = ready["port"]
    try:
        # Latency first: right after a 300 MB upload the target (and a loaded machine) is
        # still settling, which says nothing about the listener.
        found: dict[str, Any] = {"code": ready["code"]}
        found["healthz"] = healthz_during_slow_clients(port, args.slow, args.checks)
        found["threads"] = threads_with_slow_clients(port, process.pid, args.held)
        found["upload"] = upload(port, process.pid, args.upload_mb)
        return found
    finally:
        process.stdin.close()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def start_target(limit: int) -> tuple[subprocess.Popen[bytes], int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen(
        serve_command(port),
        cwd=ROOT,
        env=dict(os.environ, LB_TARGET_LIMIT=str(limit)),
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, port
        time.sleep(0.1)
    process.kill()
    raise SystemExit("the bench target did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="main", help="git ref of the code to compare with")
    parser.add_argument("--upload-mb", type=int, default=300)
    parser.add_argument("--checks", type=int, default=200, help="/healthz requests, in turn")
    parser.add_argument("--slow", type=int, default=50, help="slow clients during the checks")
    parser.add_argument("--held", type=int, default=300, help="slow clients while threads count")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    add_smoke(parser)
    args = parser.parse_args()
    if args.smoke:  # every measurement, each on a tenth or less
        args.upload_mb, args.checks, args.slow, args.held = 5, 20, 5, 30
    if args.serve:
        serve(args.serve)
        return
    target, port = start_target(limit=(args.upload_mb + 1) * 1024 * 1024)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-edge-before-") as folder:
            archive = subprocess.run(
                ["git", "archive", args.before, "runbook"],
                cwd=ROOT,
                check=True,
                capture_output=True,
            ).stdout
            subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
            results = {
                f"before ({args.before})": measure(Path(folder), port, args),
                "after (this checkout)": measure(ROOT, port, args),
            }
    finally:
        target.terminate()
        target.wait(10)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    run(main)
