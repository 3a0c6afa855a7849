"""One engine command, run with its output read as it comes; stoppable from another thread.

A push runs on a pseudo-terminal (where one exists), wide enough for docker to draw its
progress bars (it hides them on terminals narrower than 110 columns); everything else runs
on pipes, where BuildKit prints plain lines. Input, the registry password, goes on stdin; the
environment is only what an engine reads (runbook.image.commands.environment).
"""

from __future__ import annotations

import codecs
import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from runbook.image.commands import environment
from runbook.image.progress import fragments

TAIL = 40  # lines kept for the failure message
COLUMNS, ROWS = 200, 50
# No "What's next" hints and no colour codes: the output is read, not looked at.
QUIET = {"DOCKER_CLI_HINTS": "false", "NO_COLOR": "1"}


@dataclass
class Finished:
    returncode: int
    output: list[str] = field(default_factory=list)


class Command:
    """Start with run(); stop() from any thread ends it (its whole process group)."""

    def __init__(self, argv: list[str], *, terminal: bool = False) -> None:
        self.argv = argv
        self.terminal = terminal and _has_pty()
        self._process: subprocess.Popen[bytes] | None = None
        self._stopped = threading.Event()

    def run(self, on_line: Callable[[str], None], stdin: bytes | None = None) -> Finished:
        """Run to the end, calling on_line with each line (or redrawn fragment) it prints."""
        kept: list[str] = []

        def take(line: str) -> None:
            kept.append(line)
            del kept[:-TAIL]
            on_line(line)

        env = {**environment(os.environ), **QUIET}
        if self.terminal:
            code = self._on_terminal(take, stdin, env)
        else:
            code = self._on_pipes(take, stdin, env)
        return Finished(code, kept)

    def stop(self) -> None:
        self._stopped.set()
        process = self._process
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGTERM)

    def _start(self, env: dict[str, str], **streams: object) -> subprocess.Popen[bytes]:
        if self._stopped.is_set():
            raise InterruptedError("stopped before it started")
        self._process = subprocess.Popen(self.argv, env=env, start_new_session=True, **streams)  # type: ignore[call-overload]
        return self._process

    def _on_pipes(self, take: Callable[[str], None], stdin: bytes | None, env: dict) -> int:
        process = self._start(
            env,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        if stdin is not None:
            assert process.stdin is not None
            with contextlib.suppress(BrokenPipeError):
                process.stdin.write(stdin)
            process.stdin.close()
        assert process.stdout is not None
        reader = _Lines(take)
        for chunk in iter(lambda: process.stdout.read1(65536), b""):  # type: ignore[union-attr]
            reader.feed(chunk)
        reader.close()
        return process.wait()

    def _on_terminal(self, take: Callable[[str], None], stdin: bytes | None, env: dict) -> int:
        import pty

        main, secondary = pty.openpty()
        _set_size(secondary)
        try:
            process = self._start(
                {**env, "TERM": "xterm", "COLUMNS": str(COLUMNS)},
                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                stdout=secondary,
                stderr=secondary,
            )
        finally:
            os.close(secondary)
        if stdin is not None:
            assert process.stdin is not None
            with contextlib.suppress(BrokenPipeError):
                process.stdin.write(stdin)
            process.stdin.close()
        reader = _Lines(take)
        try:
            while True:
                try:
                    chunk = os.read(main, 65536)
                except OSError:  # EIO: the other end closed
                    break
                if not chunk:
                    break
                reader.feed(chunk)
        finally:
            os.close(main)
        reader.close()
        return process.wait()


class _Lines:
    """Bytes in, whole fragments out: a fragment split between two reads waits for its end."""

    def __init__(self, take: Callable[[str], None]) -> None:
        self.take = take
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.pending = ""

    def feed(self, chunk: bytes) -> None:
        text = self.pending + self.decoder.decode(chunk)
        # Up to the last separator is whole; what follows (a line, or an escape sequence cut
        # in two) may continue in the next read.
        cut = max(text.rfind("\n"), text.rfind("\r"))
        whole, self.pending = text[: cut + 1], text[cut + 1 :]
        for fragment in fragments(whole):
            self.take(fragment)

    def close(self) -> None:
        for fragment in fragments(self.pending + self.decoder.decode(b"", final=True)):
            self.take(fragment)
        self.pending = ""


def _has_pty() -> bool:
    try:
        import pty  # noqa: F401  (not on Windows)
    except ImportError:
        return False
    return True


def _set_size(fd: int) -> None:
    with contextlib.suppress(Exception):
        import fcntl
        import struct
        import termios

        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
