"""A target for the load balancer's tests, run by gunicorn: it says what it was sent.

/healthz 200; /echo the headers it got (as the WSGI environ has them, duplicates joined);
/seen every request line it has seen; /upload reads the body in pieces and answers its size
and digest, or 413 without reading a Content-Length over LIMIT (as Flask's
MAX_CONTENT_LENGTH does); /big?n= streams n bytes; /slow?s= answers after s seconds.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import parse_qs

# Flask's MAX_CONTENT_LENGTH in the Todo API; bench/bench_edge.py raises it to stream 300 MB.
LIMIT = int(os.environ.get("LB_TARGET_LIMIT", 10 * 1024 * 1024))
_seen: list[str] = []
_lock = threading.Lock()

Start = Callable[[str, list[tuple[str, str]]], Any]


def serve_command(port: int) -> list[str]:
    """gunicorn running this app on 127.0.0.1:port, one worker with threads (as the Todo API
    runs), from the repository's root."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
        "--threads",
        "8",
        "--worker-class",
        "gthread",
        "--log-level",
        "warning",
        "tests.sandbox.lb_target:app",
    ]


def _json(start: Start, status: str, value: Any) -> list[bytes]:
    body = json.dumps(value).encode()
    start(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def _stream(n: int) -> Iterator[bytes]:
    piece = b"x" * 65536
    while n > 0:
        yield piece[: min(n, len(piece))]
        n -= len(piece)


def app(environ: dict[str, Any], start: Start) -> Iterable[bytes]:
    path = environ["PATH_INFO"]
    query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    with _lock:
        _seen.append(f"{environ['REQUEST_METHOD']} {path}")
    if path == "/healthz":
        return _json(start, "200 OK", {"ok": True})
    if path == "/seen":
        with _lock:
            return _json(start, "200 OK", list(_seen))
    if path == "/echo":
        headers = {
            k[5:].replace("_", "-").title(): v for k, v in environ.items() if k[:5] == "HTTP_"
        }
        body = environ["wsgi.input"].read()
        return _json(start, "200 OK", {"headers": headers, "body": body.decode("latin-1")})
    if path == "/upload":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length > LIMIT:
            return _json(start, "413 REQUEST ENTITY TOO LARGE", {"error": "too large"})
        digest, size = hashlib.sha256(), 0
        while piece := environ["wsgi.input"].read(65536):
            digest.update(piece)
            size += len(piece)
        return _json(start, "200 OK", {"bytes": size, "sha256": digest.hexdigest()})
    if path == "/big":
        n = int(query.get("n", "0"))
        start("200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(n))])
        return _stream(n)
    if path == "/slow":
        time.sleep(float(query.get("s", "1")))
        return _json(start, "200 OK", {"slept": True})
    return _json(start, "404 NOT FOUND", {"error": "not found"})
