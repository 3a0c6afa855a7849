"""The one embedded PostgreSQL: a server whose owner is killed does not outlive it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

OWNER = """
import sys
from todo_app.embedded_pg import EmbeddedPostgres
server = EmbeddedPostgres()
server.start()
print(server.home.path, server.pid(), flush=True)
sys.stdin.read()  # until the test kills us
"""


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_killed_owners_server_is_stopped_and_its_folder_removed() -> None:
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert owner.stdout is not None
        folder, pid = owner.stdout.readline().split()
        assert _running(int(pid)) and Path(folder).is_dir()
        owner.send_signal(signal.SIGKILL)  # no `finally`, no atexit: only the watchdog is left
        owner.wait(10)
        deadline = time.monotonic() + 30
        while (_running(int(pid)) or Path(folder).exists()) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _running(int(pid)), "the server outlived its owner"
        assert not Path(folder).exists(), "the server's folder outlived its owner"
    finally:
        if owner.poll() is None:
            os.kill(owner.pid, signal.SIGKILL)
            owner.wait(10)
