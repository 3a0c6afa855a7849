"""The app's container image: which engine builds it, its version, and the job that builds
and pushes it while the database is created (one module per job)."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

from runbook.image.container_engine import ContainerEngine, find_engine


def app_source() -> Path:
    # Found, not imported: importing the Todo API would load Flask for nothing.
    spec = importlib.util.find_spec("todo_app")
    assert spec is not None and spec.origin is not None, "the todo_app package is installed"
    return Path(spec.origin).parent


@dataclass(frozen=True)
class Build:
    """What the image is built from (todo_app/, its Dockerfile) and with which engine; no
    engine: the person builds and pushes it, and section VI waits, showing how."""

    context: Path = field(default_factory=app_source)
    engine: ContainerEngine | None = None
    # The Dockerfile when it is not the context's own Dockerfile ([app] dockerfile).
    dockerfile: Path | None = None

    @classmethod
    def of_app(cls, folder: str, dockerfile: str, engine: ContainerEngine | None) -> Build:
        """The [app] settings' build: their folder (empty: the Todo API) and Dockerfile."""
        if not folder:
            return cls(engine=engine)
        context = Path(folder)
        named = context / dockerfile if dockerfile and dockerfile != "Dockerfile" else None
        return cls(context, engine, named)


__all__ = ["Build", "ContainerEngine", "find_engine"]
