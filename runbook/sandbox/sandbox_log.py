"""The background sandbox's log (.runbook/sandbox.log): everything it and the processes it
starts print, kept within a size: past LIMIT bytes it moves to sandbox.log.1 (and that one
to .2), so at most (BACKUPS + 1) x LIMIT bytes are ever kept. Owner-only, as its folder."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path

LIMIT = 1_000_000
BACKUPS = 2


class RotatingLog:
    def __init__(self, path: Path, limit: int = LIMIT, backups: int = BACKUPS) -> None:
        self.path, self.limit, self.backups = path, limit, backups
        self._fd = self._open()

    def _open(self) -> int:
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.fchmod(fd, 0o600)
        return fd

    def write(self, data: bytes) -> None:
        if os.fstat(self._fd).st_size + len(data) > self.limit:
            self._rotate()
        os.write(self._fd, data[-self.limit :])

    def _rotate(self) -> None:
        os.close(self._fd)
        for number in range(self.backups, 0, -1):
            with contextlib.suppress(FileNotFoundError):
                self._numbered(number - 1).replace(self._numbered(number))
        self._fd = self._open()

    def _numbered(self, number: int) -> Path:
        return self.path.with_name(f"{self.path.name}.{number}") if number else self.path

    def close(self) -> None:
        os.close(self._fd)


def capture(path: Path, limit: int = LIMIT, backups: int = BACKUPS) -> Callable[[], None]:
    """From now on, whatever is written to this process's standard output and error (its own
    prints and those of every process it starts, which inherit them) goes into `path`,
    rotated. Returns the function that finishes: it writes out what is still on its way."""
    log = RotatingLog(path, limit, backups)
    read_end, write_end = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(write_end, 1)
    os.dup2(write_end, 2)
    os.close(write_end)

    def copy() -> None:
        while chunk := os.read(read_end, 65536):
            # A full disk must not stall every process that prints: drop, and go on reading.
            with contextlib.suppress(OSError):
                log.write(chunk)

    copier = threading.Thread(target=copy, name="sandbox-log", daemon=True)
    copier.start()

    def finish() -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.close(devnull)
        # Processes it started that still hold the pipe would keep it open: wait a little only.
        copier.join(2)
        with contextlib.suppress(OSError):
            log.close()

    return finish


def last_lines(path: Path, count: int = 20) -> list[str]:
    """The log's last lines (reaching into the previous file when the current one is short)."""
    lines: list[str] = []
    for file in (path, path.with_name(f"{path.name}.1")):
        try:
            with file.open("rb") as opened:
                opened.seek(max(0, opened.seek(0, os.SEEK_END) - 16_384))
                text = opened.read().decode(errors="replace")
        except OSError:
            continue
        lines = text.splitlines()[-count:] + lines
        if len(lines) >= count:
            break
    return lines[-count:]
