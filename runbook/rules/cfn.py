"""AWS's constraints as CloudFormation's resource schemas state them, read from cfn-lint's data.

cfn-lint ships the resource provider schemas (patterns, lengths, enumerations) with its own
additions (Fargate CPU/memory pairs, RDS instance classes per engine version). We read its JSON
files directly: importing cfn-lint itself would cost `runbook plan` about a second.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

# The schemas are the same in every commercial region for what we make; us-east-1 is the
# region cfn-lint itself falls back to.
REGION = "us-east-1"


class SchemaMissing(LookupError):
    """cfn-lint's data is not where it should be (not installed, or another layout)."""


@functools.cache
def _root() -> Path:
    spec = importlib.util.find_spec("cfnlint")
    if spec is None or not spec.submodule_search_locations:
        raise SchemaMissing("cfn-lint is not installed: pip install cfn-lint")
    root = Path(next(iter(spec.submodule_search_locations))) / "data" / "schemas"
    if not (root / "providers" / f"{REGION}.json").exists():
        raise SchemaMissing(f"cfn-lint's resource schemas are not in {root}")
    return root


def _read(path: Path) -> Any:
    with path.open(encoding="utf-8") as f:
        return json.load(f)


@functools.cache
def _providers() -> dict[str, str]:
    return _read(_root() / "providers" / f"{REGION}.json")


@functools.cache
def schema(resource_type: str) -> dict[str, Any]:
    try:
        digest = _providers()[resource_type]
    except KeyError:
        raise SchemaMissing(f"cfn-lint has no schema for {resource_type}") from None
    return _read(_root() / "resources" / f"{digest}.json")


def extension(name: str) -> Any:
    """One of cfn-lint's own additions, e.g. aws_ecs_taskdefinition/fargate_cpu_memory."""
    return _read(_root() / "extensions" / f"{name}.json")


def _deref(node: dict[str, Any], whole: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = whole
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


@functools.cache
def constraints(resource_type: str, path: str) -> dict[str, Any]:
    """The leaf constraints of a property, path like 'Tags[].Key' or 'GroupDescription'."""
    whole = schema(resource_type)
    node: dict[str, Any] = {"properties": whole["properties"]}
    for part in re.findall(r"[^.\[\]]+|\[\]", path):
        node = _deref(node, whole)
        node = node["items"] if part == "[]" else node["properties"][part]
    node = _deref(node, whole)
    keys = ("pattern", "minLength", "maxLength", "enum", "minimum", "maximum", "const")
    return {k: node[k] for k in keys if k in node}


@functools.cache
def fargate_sizes() -> dict[str, tuple[int, ...]]:
    """Fargate's CPU units -> the task memory sizes (MiB) that go with them."""
    sizes: dict[str, tuple[int, ...]] = {}
    for branch in extension("aws_ecs_taskdefinition/fargate_cpu_memory")["then"]["anyOf"]:
        cpu = branch["properties"]["Cpu"]["then"]["enum"]
        memory = branch["properties"]["Memory"]["then"]
        allowed = memory.get("enum") or range(
            memory["minimum"], memory["maximum"] + 1, memory["multipleOf"]
        )
        for units in cpu:
            sizes[str(units)] = tuple(int(m) for m in allowed)
    return sizes


CLASSES = "aws_rds_dbinstance/db_instance_class"


@functools.cache
def instance_classes(engine: str, version: str) -> frozenset[str]:
    """The classes RDS offers for an engine version; a bare major ('16'): any of its minors.

    The answer is kept in a small cache file: cfn-lint's table is 5 MB of JSON (about 70 ms
    to read), and `runbook plan` asks it once per run.
    """
    return frozenset(
        _kept(
            CLASSES,
            "rds-classes",
            f"{engine} {version}",
            lambda: _classes_from(extension(CLASSES)["allOf"], engine, version),
        )
    )


REGION_CLASSES = "aws_rds_dbinstance/dbinstanceclass_enum"


def instance_classes_in(engine: str, region: str) -> frozenset[str] | None:
    """The classes RDS offers for an engine in one region (any version); None: no data.

    From cfn-lint's per-region table (its E3025 rule's data, from RDS's orderable options).
    Where the table repeats an engine with two lists, a class either lists is taken: the
    union refuses only what no list offers. Cached like instance_classes (3.6 MB of JSON).
    """

    def offered() -> set[str]:
        classes: set[str] = set()
        for entry in (extension(REGION_CLASSES).get(region) or {}).get("allOf", []):
            if entry["if"]["properties"].get("Engine", {}).get("const") == engine:
                classes |= set(entry["then"]["properties"]["DBInstanceClass"]["enum"])
        return classes

    # An empty list is kept as such: "no data" and "none offered" both mean unknown.
    kept = _kept(REGION_CLASSES, "rds-region-classes", f"{engine} {region}", offered)
    return frozenset(kept) or None


def _kept(table: str, prefix: str, key: str, compute: Callable[[], set[str]]) -> list[str]:
    """One answer from a cfn-lint table, kept in a cache file named after the table's size
    and time (a new cfn-lint's table is read afresh): computed once, read after."""
    stat = (_root() / "extensions" / f"{table}.json").stat()
    cache = _cache_dir() / f"{prefix}-{stat.st_size}-{int(stat.st_mtime)}.json"
    known = _read_cache(cache)
    if key not in known:
        known[key] = sorted(compute())
        _write_cache(cache, known)
    return known[key]


def _classes_from(entries: list[dict[str, Any]], engine: str, version: str) -> set[str]:
    offered: set[str] = set()
    for entry in entries:
        props = entry["if"]["properties"]
        if props.get("Engine", {}).get("const") != engine:
            continue
        # Each entry names one minor ('16.4' matches '^(16\\.4\\..+|16\\.4)$').
        pattern = props["EngineVersion"]["pattern"]
        minor = re.match(r"\^\((\d+)\\\.(\d+)", pattern)
        matches = (
            minor is not None and minor.group(1) == version and "-" not in pattern
            if "." not in version
            else re.search(pattern, version) is not None
        )
        if matches:
            offered |= set(entry["then"]["properties"]["DBInstanceClass"]["enum"])
    return offered


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "fargate-runbook"


def _read_cache(path: Path) -> dict[str, list[str]]:
    try:
        return _read(path)
    except (OSError, ValueError):
        return {}


def _write_cache(path: Path, data: dict[str, list[str]]) -> None:
    """Atomically, and never an error: without a cache the answer is only slower."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False) as f:
            json.dump(data, f)
        os.replace(f.name, path)
    except OSError:
        pass


@functools.cache
def engine_versions(engine: str) -> tuple[str, ...]:
    for entry in extension("aws_rds_dbinstance/engine_version")["allOf"]:
        props = entry["if"]["properties"]
        if props.get("Engine", {}).get("const") == engine:
            return tuple(entry["then"]["properties"]["EngineVersion"]["enum"])
    return ()


@functools.cache
def deprecated_engine_versions(engine: str) -> frozenset[str]:
    """Versions RDS no longer creates instances with (cfn-lint's W3691 data)."""
    found: set[str] = set()
    for entry in extension("aws_rds_dbinstance/engine_version_deprecated")["allOf"]:
        props = entry["if"]["properties"]
        if props.get("Engine", {}).get("const") == engine:
            found |= set(props["EngineVersion"]["enum"])
    return frozenset(found)
