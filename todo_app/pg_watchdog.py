"""Stops the PostgreSQL servers in a folder, and removes it, once the process that owns it ends.

pg_ctl starts a server as a daemon of its own, so a process killed before it stops its
servers (a pytest run ended with SIGKILL, a sandbox killed) would leave them running, with
their data, for good. Each server folder (todo_app.server_home) therefore starts this script
as a process of its own, in a session of its own, holding the read end of a pipe whose write
end only the owner holds: when the owner ends, however it ends, the pipe reads its end, and
this stops what the owner left. An owner that stops its servers itself closes the pipe
after, and this finds nothing left to stop.

Run by its path with the standard library alone (`python -I pg_watchdog.py FOLDER`): it must
start fast and must not import the Todo API.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import time
from pathlib import Path

GRACE = 5.0  # seconds an immediate shutdown may take before the server is killed


def postmaster(pgdata: Path) -> int | None:
    """The pid of the server running on `pgdata`, if one is (checked against its command line,
    so a pid reused by another process since is left alone)."""
    try:
        pid = int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return None
    return pid if str(pgdata).encode() in command else None


def stop_server(pgdata: Path) -> None:
    """Immediate shutdown (SIGQUIT: no checkpoint, the data is about to go), then SIGKILL."""
    pid = postmaster(pgdata)
    if pid is None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGQUIT)
    # Gone once its command line is (a zombie has none): init reaps it, pg_ctl having left.
    deadline = time.monotonic() + GRACE
    while postmaster(pgdata) == pid and time.monotonic() < deadline:
        time.sleep(0.05)
    if postmaster(pgdata) == pid:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def stop_servers(folder: Path) -> None:
    """Every server whose data lies in `folder` (its data folders sit at most two deep)."""
    with contextlib.suppress(OSError):
        for pid_file in [*folder.glob("*/postmaster.pid"), *folder.glob("*/*/postmaster.pid")]:
            stop_server(pid_file.parent)


def main(argv: list[str]) -> int:
    folder = Path(argv[1])
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C meant for the owner is not ours
    with contextlib.suppress(OSError):
        while sys.stdin.buffer.read(4096):  # nothing is ever written: this waits for the end
            pass
    stop_servers(folder)
    shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
