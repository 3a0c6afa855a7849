"""Gunicorn logger that writes each access log line as one JSON object (for CloudWatch)."""

from __future__ import annotations

import json
import traceback
from datetime import UTC, datetime
from typing import Any

from gunicorn.glogging import Logger


class JsonAccessLogger(Logger):
    """Access lines as JSON: a request's fields are escaped properly, whatever they hold."""

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        if not self.access_log_enabled:
            return
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        record = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "remote_addr": environ.get("REMOTE_ADDR"),  # the client's, once ProxyFix ran
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"),
            "query": environ.get("QUERY_STRING") or None,
            "status": int(status),
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 2),
            "user_agent": environ.get("HTTP_USER_AGENT"),
        }
        try:
            self.access_log.info(json.dumps(record, separators=(",", ":")))
        except Exception:
            self.error(traceback.format_exc())
