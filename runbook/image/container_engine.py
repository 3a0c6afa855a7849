"""Which container engine builds and pushes the image: docker, then podman, on PATH.

`RUNBOOK_CONTAINER_ENGINE=<path>` wins over PATH (the sandbox points it at its stand-in). Both
engines take the same commands for what the runbook asks (login, build, push); what differs is
how each is started when its service is down, which the failures' advice names.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

ENGINE_ENV = "RUNBOOK_CONTAINER_ENGINE"
SEARCHED = ("docker", "podman")


class EngineSettingError(ValueError):
    """RUNBOOK_CONTAINER_ENGINE names something that cannot be run."""


@dataclass(frozen=True)
class ContainerEngine:
    path: str

    @property
    def name(self) -> str:
        return Path(self.path).name

    @property
    def kind(self) -> str:
        """docker or podman: the command line it speaks (a stand-in speaks docker's)."""
        return "podman" if "podman" in self.name else "docker"


class LateEngine(ContainerEngine):
    """An engine whose path is known only later (the sandbox's stand-in, while the sandbox
    starts behind the app's first screen): named at once, its path asked for when a build
    runs (which waits, in the build's thread, until it is known)."""

    def __init__(self, name: str, path: Callable[[], str]) -> None:
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_path", path)

    @property  # type: ignore[override]
    def path(self) -> str:  # type: ignore[override]
        return self._path()  # type: ignore[no-any-return]

    @property
    def name(self) -> str:
        return str(self._name)  # type: ignore[attr-defined]


def find_engine(
    environ: Mapping[str, str] | None = None,
    which: Callable[[str], str | None] = shutil.which,
) -> ContainerEngine | None:
    """The engine to use, or None: the person pushes the image themselves."""
    environ = os.environ if environ is None else environ
    given = environ.get(ENGINE_ENV, "").strip()
    if given:
        found = which(given)
        if found is None:
            raise EngineSettingError(
                f"{ENGINE_ENV}={given!r} is not an executable file (give the full path of "
                "docker or podman, or unset it to look for them on PATH)"
            )
        return ContainerEngine(found)
    for name in SEARCHED:
        found = which(name)
        if found:
            return ContainerEngine(found)
    return None
