"""Waiting for a local server of the Todo API to answer /healthz."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from typing import Any


def wait_for_health(port: int, process: subprocess.Popen[str], seconds: float = 60) -> Any:
    """Poll a local server's /healthz until it answers 200 (its JSON), or fail. `seconds` is a
    ceiling, not a pace: a loaded machine may take seconds to boot gunicorn's workers, and
    a first answer slower than the poll's timeout is polled again, not a failure."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the server exited early: {process.communicate()}"
        try:
            url = f"http://127.0.0.1:{port}/healthz"
            with urllib.request.urlopen(url, timeout=2) as answer:
                return json.load(answer)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    raise AssertionError("/healthz never answered 200")
