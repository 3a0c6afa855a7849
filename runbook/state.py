"""The state file: the deployment's settings, each section's status and outputs.

Written atomically, mode 0600, never a secret. For resources it is a hint (discovery is the
truth of what exists); its settings are the person's truth, which every command starts from.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# 2: the settings are recorded too. A version 1 file has none; it is read as such.
VERSION = 2


@dataclass
class SectionState:
    status: str = "to do"  # to do | running | done | failed | skipped
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
        self.damaged = ""  # why the file could not be read, if it could not
        self._lock = threading.Lock()
        self.existed = path.exists()
        if self.existed:
            self._read()

    def _read(self) -> None:
        try:
            data = json.loads(self.path.read_text())
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError) as exc:
            # A damaged hint is no hint: discovery will tell what exists.
            self.damaged = f"{self.path} could not be read ({exc}); it is ignored"
            return
        self.version = int(data.get("version", 1))
        self.target = self.target or data.get("target", "")
        recorded = data.get("settings")
        self.settings = recorded if isinstance(recorded, dict) else None
        day_two = data.get("day_two")
        self.day_two = (
            {k: v for k, v in day_two.items() if isinstance(v, dict)}
            if isinstance(day_two, dict)
            else {}
        )
        for key, raw in data.get("sections", {}).items():
            self.sections[key] = SectionState(
                **{k: v for k, v in raw.items() if k in SectionState.__dataclass_fields__}
            )

    def get(self, section: str) -> SectionState:
        return self.sections.get(section, SectionState())

    def known(self) -> dict[str, Any]:
        """Every output recorded so far, for references in a plan preview."""
        merged: dict[str, Any] = {}
        for entry in self.sections.values():
            merged.update(entry.outputs)
        return merged

    def record(
        self, section: str, status: str, outputs: dict[str, Any] | None = None, error: str = ""
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
            self.path.unlink(missing_ok=True)
            self.existed = False

    def _write(self) -> None:
        payload: dict[str, Any] = {
            "version": VERSION,
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
