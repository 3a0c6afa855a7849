"""Gunicorn settings for a 0.25 vCPU / 0.5 GB Fargate task (`-c python:todo_app.gunicorn_conf`).

Every value can be changed by environment variable without rebuilding the image.
"""

from __future__ import annotations

import os
from typing import Any

wsgi_app = "todo_app:create_app()"
bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '5000')}"

# A quarter of a vCPU gains nothing from more processes; two workers keep one serving
# while the other is recycled or busy, and threads overlap the waits on PostgreSQL.
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
# gthread, except that a thread gets a request only once all of it has arrived: slow
# clients wait in the worker's event loop, not in the threads /healthz needs. (gevent or
# eventlet would need psycopg2 patched to yield; an asyncio server, the app rewritten.)
worker_class = "todo_app.gunicorn_worker.RequestBufferingWorker"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Connections each worker holds at once (idle, arriving or served); beyond it new ones
# wait in the kernel's queue. A request on its way in buffers at most 128 KiB, so this
# bounds that memory too (25 MiB a worker).
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "200"))
# One pooled database connection per thread (read by todo_app.config in each worker).
os.environ.setdefault("DB_POOL_MAX", str(threads))

# Recycle workers now and then, staggered, to bound any slow memory growth; rarely, since
# a recycle briefly halves the capacity of a task this small.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "100000"))
max_requests_jitter = max_requests // 10

timeout = 30
# ECS sends SIGTERM, then SIGKILL after stopTimeout (30 s by default): finish in-flight
# requests well within it.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
# Longer than the ALB's 60 s idle timeout, so the ALB, not gunicorn, closes idle
# connections (otherwise the ALB may reuse one gunicorn just closed: a 502).
keepalive = 65

accesslog = "-"  # stdout, one JSON object per line (awslogs ships it to CloudWatch)
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
logger_class = "todo_app.gunicorn_logging.JsonAccessLogger"
# Gunicorn trusts no peer's forwarding headers; ProxyFix in the app applies exactly the
# ones an ALB sets (X-Forwarded-For, -Proto). Trusting every peer ("*") let any client
# set the app's SCRIPT_NAME with a header of that name (the todos' URLs then pointed
# anywhere) and fail its own requests with contradictory X-Forwarded-Ssl/-Proto values.
forwarded_allow_ips = ""
secure_scheme_headers: dict[str, str] = {}
forwarder_headers = ""
# Gunicorn 25+ opens a control socket under $HOME by default; the container has no use
# for it (and no home), and two servers on one machine would fight over the path.
control_socket_disable = True


def worker_exit(server: Any, worker: Any) -> None:
    """Close the worker's pooled connections so PostgreSQL sees a clean goodbye."""
    from todo_app.db import close_pool

    app = getattr(worker, "wsgi", None)
    if app is not None and hasattr(app, "extensions"):
        close_pool(app)
