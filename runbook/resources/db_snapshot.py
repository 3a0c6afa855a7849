"""RDS DB snapshots: the final snapshot a destroy keeps of the database. Named here; never
deleted by the runbook (the data outlives the deployment until the person deletes it)."""

from __future__ import annotations

import re
from collections.abc import Callable, Container
from datetime import date

from runbook.resources.kind import Kind

NAME = "database snapshot"
NOT_FOUND = ("DBSnapshotNotFound", "DBSnapshotNotFoundFault")
# RDS API Reference, DeleteDBInstance, FinalDBSnapshotIdentifier: 1 to 255 letters, digits or
# hyphens; first character a letter; no two consecutive hyphens; no hyphen at the end.
MAX_LENGTH = 255
_VALID = re.compile(r"[A-Za-z](?:-?[A-Za-z0-9])*")


def valid(identifier: str) -> bool:
    return len(identifier) <= MAX_LENGTH and _VALID.fullmatch(identifier) is not None


def name(deployment: str, day: date, taken: Container[str] = ()) -> str:
    """<deployment>-final-<YYYY-MM-DD>, a valid DBSnapshotIdentifier not already taken
    (a second destroy the same day gets -2, -3, ...)."""
    base = re.sub(r"[^A-Za-z0-9]+", "-", deployment).strip("-") or "db"
    if not base[0].isalpha():
        base = "db-" + base
    stem = f"{base[: MAX_LENGTH - 24].rstrip('-')}-final-{day.isoformat()}"
    candidate, n = stem, 1
    while candidate.lower() in taken:
        n += 1
        candidate = f"{stem}-{n}"
    return candidate


def free_name(deployment: str, day: date, exists: Callable[[str], bool]) -> str:
    """The first name in the sequence above that no snapshot has yet (RDS looks up ids
    without case, so the names we try are compared in lower case)."""
    taken: set[str] = set()
    while True:
        candidate = name(deployment, day, taken)
        if not exists(candidate):
            return candidate
        taken.add(candidate.lower())


KIND = Kind(NAME, section="IV", not_found=NOT_FOUND)
