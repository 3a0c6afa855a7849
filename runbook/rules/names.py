"""Name rules that need data: real regions, PostgreSQL's reserved words, image references.

Regions come from botocore's endpoint data (the compact index's partitions); the ECR
repository pattern from botocore's ECR model; PostgreSQL's reserved key words from the
server's own parser/kwlist.h (tests/engine/test_name_rules.py holds this list to that file).
"""

from __future__ import annotations

import functools
import re

from runbook.api_index import index
from runbook.rules.core import compiled

# PostgreSQL's RESERVED_KEYWORD entries (parser/kwlist.h, PostgreSQL 16): never a role or a
# database name without quotes, and RDS refuses them ("Can't be a reserved word for the
# chosen database engine", CreateDBInstance MasterUsername / DBName).
PG_RESERVED = frozenset(
    [
        "all",
        "analyse",
        "analyze",
        "and",
        "any",
        "array",
        "as",
        "asc",
        "asymmetric",
        "both",
        "case",
        "cast",
        "check",
        "collate",
        "column",
        "constraint",
        "create",
        "current_catalog",
        "current_date",
        "current_role",
        "current_time",
        "current_timestamp",
        "current_user",
        "default",
        "deferrable",
        "desc",
        "distinct",
        "do",
        "else",
        "end",
        "except",
        "false",
        "fetch",
        "for",
        "foreign",
        "from",
        "grant",
        "group",
        "having",
        "in",
        "initially",
        "intersect",
        "into",
        "lateral",
        "leading",
        "limit",
        "localtime",
        "localtimestamp",
        "not",
        "null",
        "offset",
        "on",
        "only",
        "or",
        "order",
        "placing",
        "primary",
        "references",
        "returning",
        "select",
        "session_user",
        "some",
        "symmetric",
        "system_user",
        "table",
        "then",
        "to",
        "trailing",
        "true",
        "union",
        "unique",
        "user",
        "using",
        "variadic",
        "when",
        "where",
        "window",
        "with",
    ]
)
# Names RDS for PostgreSQL keeps for itself (User Guide, "Understanding PostgreSQL roles":
# rdsadmin manages the instance; rds_superuser and the rds_* roles are RDS's), and the
# pseudo-role 'public' PostgreSQL refuses as a role name. 'postgres' is NOT reserved: it is
# RDS's own default master user name.
RDS_ROLES = frozenset({"rdsadmin", "rdsrepladmin", "rds_superuser", "public"})
# Databases every PostgreSQL cluster already has ('postgres' among them: RDS makes it).
PG_DATABASES = frozenset({"postgres", "template0", "template1", "rdsadmin"})


def reserved_user(name: str) -> bool:
    low = name.lower()
    return low in PG_RESERVED or low in RDS_ROLES or low.startswith("rds_") or low.startswith("pg_")


def reserved_database(name: str) -> bool:
    return name.lower() in PG_RESERVED or name.lower() in PG_DATABASES


@functools.cache
def regions() -> dict[str, str]:
    """Every region botocore's endpoint data names -> its partition (aws, aws-cn, ...)."""
    return {r: p["partition"] for p in index().partitions() for r in p.get("regions", ())}


def region_problem(region: str) -> str | None:
    """None for a region botocore knows; else what is wrong and what to do."""
    if region in regions():
        return None
    import botocore

    return (
        f"is not a region botocore {botocore.__version__} knows (such as us-east-1, "
        "eu-west-1); check the spelling, or if AWS opened it recently: pip install -U botocore"
    )


@functools.cache
def _repository_pattern() -> re.Pattern[str]:
    op = index().operation("ecr", "create_repository")
    member = op.shapes[op.input]["members"]["repositoryName"]["shape"]
    return compiled(op.shapes[member]["pattern"])


# Docker's reference grammar (distribution/reference): a registry host may hold capitals,
# a tag is [\w][\w.-]{0,127}, a digest algorithm:hex; the repository path may not.
_TAG = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST = re.compile(r"[a-z0-9]+(?:[+._-][a-z0-9]+)*:[0-9a-fA-F]{32,}")
_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*(?::\d+)?")


def image_problem(image: str) -> str | None:
    """None for a pullable image reference; else the rule it breaks."""
    rest, _, digest = image.partition("@")
    if digest and not _DIGEST.fullmatch(digest):
        return "must end in a digest such as @sha256:<64 hex digits>"
    first, slash, after = rest.partition("/")
    host = slash and ("." in first or ":" in first or first == "localhost")
    if host and not _HOST.fullmatch(first):
        return f"has a registry host {first!r} that is not a host name"
    path = after if host else rest
    last = path.rsplit("/", 1)[-1]
    if ":" in last:
        path, _, tag = path.rpartition(":")
        if not _TAG.fullmatch(tag):
            return "must have a tag of at most 128 letters, digits, _ . or -, not starting . or -"
    if not path or not _repository_pattern().fullmatch(path) or len(path) > 256:
        return (
            "must name a repository in lower case (letters, digits and . _ - / between them): "
            "ECR and Docker refuse capitals, so every pull would fail"
        )
    return None
