"""One run at a time per deployment: an OS lock on a file beside the state file.

The lock is the kernel's (flock), so a holder that dies, even by `kill -9`, releases it at
once; no stale lock can block anyone. The file also holds the holder's description (its
command and process id), written once it holds the lock and emptied before it lets go, so a
waiter can name the run it waits for, and a run that finds a description there on taking the
lock knows the last holder ended without letting go. The description is only data: nothing is
decided by it, and nothing in it is trusted beyond being shown (as plain text).
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runbook.errors import Problem, RunbookError

# How long a description may be: more is not ours (the file is ours alone, but be sure).
MOST = 4096
# How often a waiter looks again; the look itself never blocks, so ctrl+c is at once.
EVERY = 0.2
# A run writes who it is just after it takes the lock: how long a waiter reads again for it.
DESCRIBE_GRACE = 1.0
DESCRIBE_EVERY = 0.05


class Busy(RunbookError):
    """Another run holds the deployment, and this one was asked not to wait."""


@dataclass(frozen=True)
class Holder:
    """Who holds (or last held) the lock, as it described itself."""

    command: str
    pid: int
    since: float

    def __str__(self) -> str:
        when = time.strftime("%H:%M:%S", time.localtime(self.since)) if self.since else "?"
        return f"`{self.command}` (process {self.pid}, since {when})"


def lock_path(state: Path) -> Path:
    """Beside the state file, hidden: .runbook-state.json.lock."""
    return state.parent / f".{state.name}.lock"


def this_command(argv: list[str] | None = None) -> str:
    """`runbook deploy --yes --sandbox`, as this process was started."""
    args = list(sys.argv[1:] if argv is None else argv)
    return " ".join(["runbook", *args])


class RunLock:
    """The lock on one deployment; `with RunLock(...).held(...)` for the run's length."""

    def __init__(self, state: Path, command: str) -> None:
        self.path = lock_path(state)
        self.state = state
        self.command = command
        self._fd: int | None = None
        # The run that held it last and ended without letting go (killed), if one did.
        self.left_by: Holder | None = None

    def acquire(
        self,
        *,
        wait: bool = True,
        tell: Callable[[str], None] = lambda _line: None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Hold the lock; while another run holds it, wait (saying for whom) or refuse."""
        fd = self._open()
        told = False
        try:
            while not _try_lock(fd):
                holder = None if told else _holder(fd, sleep)
                if not wait:
                    raise Busy(
                        Problem(
                            "DeploymentBusy",
                            f"another run changes this deployment now: "
                            f"{holder or 'a run that has not described itself yet'}; "
                            "nothing was done.",
                            "Wait for it to end (or run without --no-wait to wait for it), "
                            "then run again.",
                        )
                    )
                if not told:
                    tell(
                        "Waiting for another run of this deployment to end: "
                        f"{holder or 'a run that has not described itself yet'} "
                        f"(lock {self.path}; ctrl+c stops waiting, nothing is changed)."
                    )
                    told = True
                sleep(EVERY)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        self.left_by = _describe(fd)
        if self.left_by is not None:
            tell(
                f"The last run of this deployment, {self.left_by}, ended without letting go "
                "of it (it was killed); this run takes over. Each section looks at what "
                "exists first, so nothing it made is made twice."
            )
        elif told:
            tell("The other run ended; this one goes on.")
        _write_holder(fd, Holder(self.command, os.getpid(), time.time()))

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)  # an empty file: the holder let go on purpose
        except OSError:
            pass  # the lock still goes with the descriptor; the next run reads "killed"
        finally:
            os.close(fd)  # closing releases the flock

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.release()

    def _open(self) -> int:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            try:
                return os.open(self.path, flags, 0o600)
            except OSError:
                if not self.path.exists():
                    raise
                # A read-only folder: flock needs no write access, and the write of the
                # state file then says itself why it cannot be made.
                return os.open(self.path, flags & ~(os.O_RDWR | os.O_CREAT) | os.O_RDONLY)
        except OSError as exc:
            raise RunbookError(
                Problem(
                    "LockNotTaken",
                    f"could not open {self.path}, beside the state file {self.state}, which "
                    f"keeps two runs of this deployment apart: {exc.strerror or exc}; nothing "
                    "was done.",
                    "Make the state file's folder writable (or give another --state FILE), "
                    "then run again.",
                )
            ) from exc


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _holder(fd: int, sleep: Callable[[float], None]) -> Holder | None:
    """Who holds the lock. A run writes its description just after it takes the lock, so one
    found held but not yet described is read again for a moment: the person is told which
    command they wait for, not that an unknown run holds it (seen on a loaded machine)."""
    holder, waited = _describe(fd), 0.0
    while holder is None and waited < DESCRIBE_GRACE:
        sleep(DESCRIBE_EVERY)
        waited += DESCRIBE_EVERY
        holder = _describe(fd)
    return holder


def _describe(fd: int) -> Holder | None:
    """The description in the file, if any; anything unreadable describes no one."""
    try:
        raw = os.pread(fd, MOST, 0)
        data = json.loads(raw.decode()) if raw.strip() else None
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    command, pid, since = data.get("command"), data.get("pid"), data.get("since")
    if not (isinstance(command, str) and isinstance(pid, int) and isinstance(since, int | float)):
        return None
    printable = "".join(c if c.isprintable() else "?" for c in command[:200])
    return Holder(printable, pid, float(since))


def _write_holder(fd: int, holder: Holder) -> None:
    text = json.dumps({"command": holder.command, "pid": holder.pid, "since": holder.since})
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, text.encode(), 0)
    except OSError:
        pass  # a full disk: the lock holds all the same; a waiter names no one
