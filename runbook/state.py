"""The state file: the deployment's settings, each section's status and outputs.

Written atomically, mode 0600, never a secret. For resources it is a hint (discovery is the
truth of what exists); its settings are the person's truth, which every command starts from.
A file that cannot be read, or holds what this version does not write, is damaged: it is
never written over (a command refuses it whole), and a write that fails leaves the file as it
was and says so in one line (StateWriteError).
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from runbook.errors import Problem, RunbookError

# 2: the settings are recorded too. A version 1 file has none; it is read as such.
VERSION = 2
# A section's status in the state file, named as files of every version spell it.
SectionStatus = Literal["to do", "running", "done", "failed", "skipped"]
STATUSES: tuple[SectionStatus, ...] = get_args(SectionStatus)
# A section in one of these has made (or may have made) something in the account.
PROGRESS: tuple[SectionStatus, ...] = ("running", "done", "failed")


class StateWriteError(RunbookError):
    """The state file could not be written (a read-only folder, a full disk): it is as it was."""


def _field(
    data: dict[str, Any], key: str, kind: type | tuple[type, ...], default: Any, where: str = ""
) -> Any:
    value = data.get(key, default)
    if value is None and default is None:
        return None
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        wanted = kind.__name__ if isinstance(kind, type) else "a number"
        raise ValueError(f"{where}{key!r} is {type(value).__name__}, not {wanted}")
    return value


@dataclass
class SectionState:
    status: SectionStatus = "to do"
    outputs: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    updated_at: float = 0.0


class StateFile:
    def __init__(self, path: Path, *, target: str = "") -> None:
        self.path = path
        self.target = target
        self.sections: dict[str, SectionState] = {}
        # The settings a run used, as settings.to_record wrote them; None: never recorded.
        self.settings: dict[str, Any] | None = None
        # The latest day-two action of each kind (scale, redeploy, rollback), with its time.
        self.day_two: dict[str, dict[str, Any]] = {}
        self.version = VERSION
        # Which deployment this file records: made once, by the first run that writes it.
        self.deployment_id = ""
        # The AWS account the deployment lives in, as the first run that changed it saw it.
        self.account = ""
        self.damaged = ""  # why the file could not be read, if it could not
        self._lock = threading.Lock()
        self.existed = path.exists() or path.is_symlink()
        if self.existed:
            self._read()

    @property
    def progress(self) -> bool:
        """True once a run of this file made (or may have made) something in the account."""
        return any(entry.status in PROGRESS for entry in self.sections.values())

    def begin(self, *, account: str = "") -> None:
        """Write the file before a run that changes something sends its first call, so a
        folder it cannot be written in stops the run before anything is made."""
        import uuid  # (with platform, which it loads) only for a run that changes something

        with self._lock:
            self.deployment_id = self.deployment_id or f"d-{uuid.uuid4().hex[:12]}"
            self.account = self.account or account
            self._write()

    def _read(self) -> None:
        try:
            data = json.loads(self.path.read_text())
            self._take(data)
        except (OSError, ValueError, TypeError, UnicodeDecodeError) as exc:
            # Never read as "no deployment": that would act on the guide's defaults instead of
            # what the file records. Commands refuse it whole (see runbook.state_check).
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            self.damaged = f"{self.path} cannot be read: {why}"
            self.sections, self.settings, self.day_two = {}, None, {}

    def _take(self, data: Any) -> None:
        """The file's content, every field of the type this version writes, or ValueError."""
        if not isinstance(data, dict):
            raise ValueError(f"it holds a JSON {type(data).__name__}, not an object")
        version = _field(data, "version", int, 1)
        if version > VERSION:
            raise ValueError(f"version {version} was written by a newer runbook")
        self.version = version
        self.target = self.target or _field(data, "target", str, "")
        self.deployment_id = _field(data, "deployment_id", str, "")
        self.account = _field(data, "account", str, "")
        recorded = data.get("settings")
        if recorded is not None and not isinstance(recorded, dict):
            raise ValueError("'settings' is not an object")
        self.settings = recorded
        self.day_two = _field(data, "day_two", dict, {})
        if not all(isinstance(v, dict) for v in self.day_two.values()):
            raise ValueError("'day_two' holds an entry that is not an object")
        for key, raw in _field(data, "sections", dict, {}).items():
            if not isinstance(raw, dict):
                raise ValueError(f"section {key!r} is not an object")
            entry = SectionState(
                status=_field(raw, "status", str, "to do", where=f"section {key}: "),
                outputs=_field(raw, "outputs", dict, {}, where=f"section {key}: "),
                error=_field(raw, "error", str, "", where=f"section {key}: "),
                updated_at=float(_field(raw, "updated_at", (int, float), 0.0)),
            )
            if entry.status not in STATUSES:
                raise ValueError(f"section {key}: unknown status {entry.status!r}")
            self.sections[key] = entry

    def get(self, section: str) -> SectionState:
        return self.sections.get(section, SectionState())

    def known(self) -> dict[str, Any]:
        """Every output recorded so far, for references in a plan preview."""
        merged: dict[str, Any] = {}
        for entry in self.sections.values():
            merged.update(entry.outputs)
        return merged

    def record(
        self,
        section: str,
        status: SectionStatus,
        outputs: dict[str, Any] | None = None,
        error: str = "",
    ) -> None:
        with self._lock:
            entry = self.sections.setdefault(section, SectionState())
            entry.status, entry.error, entry.updated_at = status, error, time.time()
            if outputs is not None:
                entry.outputs = dict(outputs)
            self._write()

    def record_settings(self, record: dict[str, Any]) -> None:
        """Keep the settings with the deployment (the caller leaves the password out)."""
        with self._lock:
            if record == self.settings and self.path.exists():
                return
            self.settings = json.loads(json.dumps(record))  # a copy: the caller's may change
            self._write()

    def record_day_two(self, kind: str, entry: dict[str, Any]) -> None:
        """Keep the latest day-two action of this kind (a rollback's from and to, say)."""
        with self._lock:
            self.day_two[kind] = json.loads(json.dumps(entry, default=str))
            self._write()

    def reset(self, *, keep_settings: bool = False) -> None:
        """Forget every section's progress; and the settings too unless asked to keep them."""
        with self._lock:
            self.sections.clear()
            self.day_two.clear()
            if keep_settings and self.settings is not None:
                self._write()
                return
            self.settings = None
            try:
                self.path.unlink(missing_ok=True)
            except OSError as exc:
                raise StateWriteError(
                    Problem(
                        "StateFileNotWritten",
                        f"could not remove {self.path}: {exc.strerror or exc}",
                        "Make its folder writable, then start over again.",
                    )
                ) from exc
            self.existed = False
            self.deployment_id = ""

    def _write(self) -> None:
        if self.damaged:
            raise StateWriteError(
                Problem(
                    "StateFileDamaged",
                    f"{self.damaged}; it was not written over.",
                    f"Repair {self.path} or move it aside, then run again.",
                )
            )
        try:
            self._replace()
            self.existed = True
        except OSError as exc:
            raise StateWriteError(
                Problem(
                    "StateFileNotWritten",
                    f"could not write {self.path}: {exc.strerror or exc}; it is as it was.",
                    "Free some space, or make its folder writable (or give another --state "
                    "FILE in a folder you can write), then run the same command again.",
                )
            ) from exc

    def _replace(self) -> None:
        payload: dict[str, Any] = {
            "version": VERSION,
            "deployment_id": self.deployment_id,
            "account": self.account,
            "target": self.target,
            "settings": self.settings,
            "sections": {k: asdict(v) for k, v in self.sections.items()},
        }
        if self.day_two:
            payload["day_two"] = self.day_two
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w") as handle:
                json.dump(payload, handle, indent=2, default=str)
                # No fsync: the rename is atomic against a killed process, and after a power
                # loss a stale hint costs nothing (discovery is the truth).
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
