"""PostgreSQL's template cluster, kept for the machine: initdb once, not once per sandbox.

initdb takes about 2 s of CPU (over 10 s on a loaded machine) and made the same cluster for
every sandbox start and every test's data plane. Its result depends only on the binaries and
our options, so it is kept here, by those, as pip keeps wheels (beside the images' Python
environments: image_build.environments()), and copied from (a fraction of the cost).

The superuser's password the cluster was made with is kept beside it, readable by its owner
only; no server keeps it: every instance sets a new one of its own as it starts
(LocalDatabase), so what lies on disk opens nothing that runs.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

CACHE_ENV = "RUNBOOK_PG_TEMPLATE_CACHE"  # a folder to keep them in, or "off"
# What initdb was asked (todo_app.embedded_pg.initdb): a change there must not reuse these.
FORMAT = "initdb scram-sha-256 UTF8 -U postgres v1"
PASSWORD = "admin-password"
COMPLETE = ".complete"


def folder() -> Path | None:
    """Where templates are kept; None when caching is off."""
    given = os.environ.get(CACHE_ENV)
    if given == "off":
        return None
    if given:
        return Path(given)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "fargate-runbook" / "postgres-templates"


def key(major: int, bindir: Path) -> str:
    """The binaries (by path, size and time of their server and initdb) and our options."""
    digest = hashlib.sha256(f"{FORMAT}\0{major}\0{bindir.resolve()}".encode())
    for name in ("postgres", "initdb"):
        with contextlib.suppress(OSError):
            found = (bindir / name).stat()
            digest.update(f"\0{name}:{found.st_size}:{found.st_mtime_ns}".encode())
    return f"{major}-{digest.hexdigest()[:24]}"


def find(major: int, bindir: Path) -> tuple[Path, str] | None:
    """A kept template's data folder and its superuser's password, if there is one."""
    root = folder()
    if root is None:
        return None
    kept = root / key(major, bindir)
    try:
        if not (kept / COMPLETE).exists() or not all(_ours_alone(p) for p in (root, kept)):
            return None
        return kept / "pgdata", (kept / PASSWORD).read_text()
    except OSError:
        return None


def keep(major: int, bindir: Path, pgdata: Path, password: str) -> None:
    """Keep a fresh template (best effort: a cache that cannot be written is no failure)."""
    root = folder()
    if root is None:
        return
    kept = root / key(major, bindir)
    with contextlib.suppress(OSError), _locked(root / f"{kept.name}.lock"):
        if (kept / COMPLETE).exists():
            return  # another sandbox kept one meanwhile
        staging = root / f"{kept.name}.{os.getpid()}.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(mode=0o700)
        try:
            shutil.copytree(pgdata, staging / "pgdata", symlinks=True)
            fd = os.open(staging / PASSWORD, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as file:
                file.write(password)
            (staging / COMPLETE).write_text("")
            shutil.rmtree(kept, ignore_errors=True)
            staging.rename(kept)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def _ours_alone(path: Path) -> bool:
    """A folder this user owns and no one else may write: a template found anywhere else
    (RUNBOOK_PG_TEMPLATE_CACHE naming a shared folder) could carry another user's server
    settings, run by our PostgreSQL; it is not used (initdb runs instead)."""
    found = path.lstat()
    return found.st_uid == os.geteuid() and not found.st_mode & 0o022 and path.is_dir()


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Two sandboxes making the same template at once keep one."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
