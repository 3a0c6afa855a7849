"""The state file: each section's status and outputs, written atomically, mode 0600, no secrets.

It is a hint for resume and for the UI; discovery is the truth.
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

VERSION = 1


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
        self._lock = threading.Lock()
        self.existed = path.exists()
        if self.existed:
            self._read()

    def _read(self) -> None:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            # A damaged hint is no hint: discovery will tell what exists.
            return
        self.target = self.target or data.get("target", "")
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

    def reset(self) -> None:
        with self._lock:
            self.sections.clear()
            self.path.unlink(missing_ok=True)
            self.existed = False

    def _write(self) -> None:
        payload = {
            "version": VERSION,
            "target": self.target,
            "sections": {k: asdict(v) for k, v in self.sections.items()},
        }
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
