"""The local AWS emulator (moto's server on loopback), so anyone can try the runbook.

Tests start it in-process. The command line keeps one running in the background, so that
`deploy`, `status` and `destroy` in separate commands see the same pretend account;
`runbook sandbox stop` ends it.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

# Without these moto cannot attach AWS-managed policies, never runs service tasks,
# and holds certificates pending for a minute (DESIGN.md, emulator facts).
EMULATOR_ENV = {
    "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
    "MOTO_ECS_SERVICE_RUNNING": "1",
    "MOTO_ACM_VALIDATION_WAIT": "0",
}
# Fake keys the emulator accepts; they open nothing anywhere else.
CREDENTIALS = {"aws_access_key_id": "sandbox", "aws_secret_access_key": "sandbox"}
INFO_FILE = Path(".runbook") / "sandbox.json"


class Emulator:
    """moto's threaded server on a free loopback port, in this process."""

    def __init__(self, port: int = 0) -> None:
        os.environ.update(EMULATOR_ENV)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        from moto.server import ThreadedMotoServer

        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self.url = ""

    def start(self) -> Emulator:
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        self._server.stop()

    def reset(self) -> None:
        """Forget every resource: a new pretend account."""
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        urllib.request.urlopen(request, timeout=10).close()


def _alive(url: str) -> bool:
    try:
        # The dashboard page, not data.json: that one fails once an RDS instance exists.
        urllib.request.urlopen(f"{url}/moto-api/", timeout=2).close()
        return True
    except OSError:
        return False


def _read_info(info: Path) -> dict[str, Any] | None:
    try:
        return json.loads(info.read_text())
    except (OSError, ValueError):
        return None


def ensure_running(info: Path = INFO_FILE, timeout: float = 20.0) -> str:
    """The URL of the background emulator, starting it if none answers."""
    known = _read_info(info)
    if known and _alive(known["url"]):
        return str(known["url"])
    info.parent.mkdir(parents=True, exist_ok=True)
    info.unlink(missing_ok=True)
    log = (info.parent / "sandbox.log").open("ab")
    subprocess.Popen(
        [sys.executable, "-m", "runbook.sandbox", "serve", "--info", str(info)],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        known = _read_info(info)
        if known and _alive(known["url"]):
            return str(known["url"])
        time.sleep(0.05)
    raise RuntimeError(f"the sandbox did not start within {timeout:.0f} s; see {log.name}")


def stop(info: Path = INFO_FILE) -> bool:
    """Stop the background emulator; False if none was running."""
    known = _read_info(info)
    info.unlink(missing_ok=True)
    if not known:
        return False
    try:
        os.kill(int(known["pid"]), signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _serve(info: Path) -> None:
    emulator = Emulator().start()
    tmp = info.with_suffix(".tmp")
    tmp.write_text(json.dumps({"url": emulator.url, "pid": os.getpid()}))
    tmp.replace(info)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while True:
            time.sleep(3600)
    finally:
        emulator.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m runbook.sandbox")
    parser.add_argument("command", choices=["serve"])
    parser.add_argument("--info", type=Path, default=INFO_FILE)
    _serve(parser.parse_args().info)
