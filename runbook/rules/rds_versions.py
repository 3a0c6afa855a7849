"""Which PostgreSQL versions RDS creates instances with, from cfn-lint's RDS data.

cfn-lint lists every version RDS has had (engine_version) and those it no longer creates
instances with (engine_version_deprecated, its W3691): a minor in the second list is refused.
A bare major ('16') lets RDS pick its current
minor (CreateDBInstance EngineVersion), so a major stands while any of its versions does;
the deprecated list names the bare majors too, which RDS does take, so majors are judged by
their minors.
"""

from __future__ import annotations

from runbook.rules import cfn

SHOWN = {"postgres": "PostgreSQL"}


def _major(version: str) -> str:
    return version.split(".")[0].split("-")[0]


def _order(version: str) -> tuple[int, ...]:
    return tuple(
        int(p) for p in version.replace("-rds", "").replace("-", ".").split(".") if p.isdigit()
    )


def creatable(engine: str) -> tuple[str, ...]:
    """The minors RDS creates instances with now, oldest first."""
    gone = cfn.deprecated_engine_versions(engine)
    minors = [v for v in cfn.engine_versions(engine) if "." in v and v not in gone]
    return tuple(sorted(minors, key=_order))


def problem(engine: str, version: str) -> str | None:
    """None for a version RDS would create with (or when cfn-lint has no data); else why not."""
    try:
        known = cfn.engine_versions(engine)
        minors = creatable(engine)
    except cfn.SchemaMissing:
        return None  # RDS itself checks then; `runbook plan` says cfn-lint is missing
    if not known:
        return None
    engine = SHOWN.get(engine, engine)
    major = _major(version)
    same_major = [v for v in minors if _major(v) == major]
    majors = sorted({_major(v) for v in minors}, key=lambda m: int(m) if m.isdigit() else 0)
    if version not in known:
        if not same_major:
            return f"RDS has no {engine} {version}; use one of its majors: {', '.join(majors)}"
        return (
            f"RDS has no {engine} {version} (its newest {major} is {same_major[-1]}); "
            f"give the major alone ({major}) and RDS picks its current minor"
        )
    if "." not in version:
        if same_major:
            return None
        return (
            f"RDS no longer creates {engine} {major} instances; use one of the majors it "
            f"does: {', '.join(majors)}"
        )
    if version in minors:
        return None
    if same_major:
        return (
            f"RDS no longer creates {engine} {version} instances (deprecated); give the major "
            f"alone ({major}) and RDS picks its current minor, or one of "
            f"{same_major[0]} to {same_major[-1]}"
        )
    return (
        f"RDS no longer creates {engine} {version} instances; use one of the majors it does: "
        f"{', '.join(majors)}"
    )
