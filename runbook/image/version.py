"""The version an image is tagged with: what identifies the app's source, never `latest`.

The git commit that last changed the build context, when its tree is clean (`git-<12 hex>`,
which `git show` names); otherwise, or without git (a runbook installed from a wheel), a
digest of the context's content as the build sends it (`src-<12 hex>`). The same source
gives the same version, so a rebuild is skipped and a task definition names one image.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import subprocess
from pathlib import Path

GIT_TIMEOUT = 10.0


def version_of(context: Path, dockerfile: Path | None = None) -> str:
    """dockerfile: another than the context's own Dockerfile ([app] dockerfile). The same
    source built by another Dockerfile is another image, so its tag says which (a short
    digest of its path in the context): switching Dockerfiles is never a skipped build."""
    commit = clean_commit(context)
    version = f"git-{commit}" if commit else f"src-{content_digest(context)[:12]}"
    if dockerfile is None:
        return version
    try:
        named = dockerfile.resolve().relative_to(context.resolve()).as_posix()
    except ValueError:  # outside the context (the settings refuse it; said at the build)
        named = str(dockerfile)
    return f"{version}-df{hashlib.sha256(named.encode()).hexdigest()[:6]}"


def clean_commit(context: Path) -> str | None:
    """The last commit that changed the context, if nothing in it differs from that commit."""
    if not _maybe_in_a_repository(context):
        return None  # git would only say so, after ~10 ms of starting (a plan's start-up)
    try:
        changed = _git(context, "status", "--porcelain", "--untracked-files=all", "--", ".")
        if changed is None or changed.strip():
            return None
        commit = _git(context, "log", "-1", "--format=%h", "--abbrev=12", "--", ".")
    except OSError:  # no git here
        return None
    return (commit or "").strip() or None


def _maybe_in_a_repository(context: Path) -> bool:
    """False only where git cannot find a repository: no `.git` in the context or above it,
    and no GIT_DIR naming one elsewhere."""
    if "GIT_DIR" in os.environ:
        return True
    folder = context.absolute()
    return any((f / ".git").exists() for f in (folder, *folder.parents))


def _git(context: Path, *args: str) -> str | None:
    done = subprocess.run(
        ["git", "-C", str(context), *args],
        capture_output=True,
        text=True,
        timeout=GIT_TIMEOUT,
        env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},  # a look must not take git's locks
    )
    return done.stdout if done.returncode == 0 else None


def ignored_patterns(context: Path) -> list[str]:
    """The .dockerignore's patterns (comments and blank lines left out)."""
    try:
        lines = (context / ".dockerignore").read_text().splitlines()
    except OSError:
        return []
    return [p.strip().rstrip("/") for p in lines if p.strip() and not p.startswith("#")]


def sent_files(context: Path) -> list[Path]:
    """The files a build sends, as .dockerignore leaves them (its `!` exceptions aside)."""
    patterns = [p.replace("**/", "*").replace("**", "*") for p in ignored_patterns(context)]
    kept = []
    for path in sorted(p for p in context.rglob("*") if p.is_file()):
        relative = path.relative_to(context).as_posix()
        parts = relative.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if not any(fnmatch.fnmatch(prefix, p) for p in patterns for prefix in prefixes):
            kept.append(path)
    return kept


def content_digest(context: Path) -> str:
    """sha256 over each sent file's name, executable bit and content."""
    digest = hashlib.sha256()
    for path in sent_files(context):
        digest.update(path.relative_to(context).as_posix().encode() + b"\0")
        digest.update(b"x" if os.access(path, os.X_OK) else b"-")
        digest.update(path.read_bytes())
    return digest.hexdigest()
