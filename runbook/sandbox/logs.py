"""A task's output -> CloudWatch Logs, as the awslogs driver ships it.

The stream is `<awslogs-stream-prefix>/<container name>/<task id>` in the group the task
definition names; lines go out in order, in batches, through put_log_events. As with
awslogs, a missing group stops the task from starting unless `awslogs-create-group` is
"true". (docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html)
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Mapping
from typing import IO, Any

MAX_BATCH = 1000
FLUSH_EVERY = 0.2


class LogSetupError(Exception):
    """ResourceInitializationError: the log stream cannot be made."""


def stream_name(options: Mapping[str, str], container: str, task_id: str) -> str:
    prefix = options.get("awslogs-stream-prefix")
    return f"{prefix}/{container}/{task_id}" if prefix else task_id


class LogShipper:
    """Reads one process's output and puts it in its stream until the output ends."""

    def __init__(self, logs: Any, options: Mapping[str, str], container: str, task_id: str):
        self.logs = logs
        self.group = options["awslogs-group"]
        self.stream = stream_name(options, container, task_id)
        self._create_group = str(options.get("awslogs-create-group", "")).lower() == "true"
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._threads: list[threading.Thread] = []
        self.tail: list[str] = []  # last lines, for the sandbox's own log when a task fails

    def open(self) -> None:
        """Make the stream (and the group, if asked), or LogSetupError as awslogs fails."""
        try:
            if self._create_group:
                with contextlib.suppress(self.logs.exceptions.ResourceAlreadyExistsException):
                    self.logs.create_log_group(logGroupName=self.group)
            self.logs.create_log_stream(logGroupName=self.group, logStreamName=self.stream)
        except self.logs.exceptions.ResourceAlreadyExistsException:
            pass
        except Exception as exc:
            raise LogSetupError(
                "ResourceInitializationError: failed to validate logger args: create stream "
                f"has been retried 1 times: failed to create Cloudwatch log stream: {exc}"
            ) from exc

    def follow(self, output: IO[bytes]) -> None:
        reader = threading.Thread(target=self._read, args=(output,), daemon=True, name="logs-read")
        sender = threading.Thread(target=self._send_loop, daemon=True, name="logs-send")
        self._threads = [reader, sender]
        reader.start()
        sender.start()

    def _read(self, output: IO[bytes]) -> None:
        try:
            for raw in iter(output.readline, b""):
                line = raw.decode(errors="replace").rstrip("\n")
                with self._lock:
                    self._pending.append({"timestamp": int(time.time() * 1000), "message": line})
                    self.tail = [*self.tail[-19:], line]
        finally:
            output.close()
            self._done.set()

    def _send_loop(self) -> None:
        while not self._done.wait(FLUSH_EVERY):
            self._flush()
        self._flush()

    def _flush(self) -> None:
        while True:
            with self._lock:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            if not batch:
                return
            try:
                self.logs.put_log_events(
                    logGroupName=self.group, logStreamName=self.stream, logEvents=batch
                )
            except Exception:  # the group was deleted under a running task: lines are lost
                return

    def close(self, timeout: float = 5.0) -> None:
        for thread in self._threads:
            thread.join(timeout)
