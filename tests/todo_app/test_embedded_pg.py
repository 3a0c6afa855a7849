"""The one embedded PostgreSQL: run as root, it opens no folder above its own; a server whose
owner is killed does not outlive it."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg2
import pytest

from todo_app.embedded_pg import EmbeddedPostgres, shipped_bindir
from todo_app.server_home import server_user

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


def modes_on_the_way(path: Path) -> dict[Path, int]:
    return {folder: folder.stat().st_mode for folder in path.resolve().parents}


@pytest.mark.skipif(os.geteuid() != 0, reason="as root, PostgreSQL runs as its own user")
def test_as_root_it_runs_as_its_own_user_in_a_private_folder_and_opens_none_above() -> None:
    binaries = shipped_bindir()
    before = {**modes_on_the_way(binaries), **modes_on_the_way(Path(tempfile.gettempdir()) / "x")}
    server = EmbeddedPostgres()
    server.start()
    try:
        user = server_user()
        assert user is not None
        home = server.home.path.stat()
        assert (home.st_uid, stat.S_IMODE(home.st_mode)) == (user.pw_uid, 0o700)
        assert Path(f"/proc/{server.pid()}").stat().st_uid == user.pw_uid
        conn = psycopg2.connect(server.dsn())
        conn.close()
        assert {folder: folder.stat().st_mode for folder in before} == before
    finally:
        server.remove()
