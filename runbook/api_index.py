"""What botocore's service models say about the calls the runbook makes, and nothing more.

Loading seven whole service models costs `runbook plan` more than a tenth of a second, and
importing botocore to read them costs more again; a plan needs the input shapes of about
thirty operations. So the first use reads botocore's own models once, keeps just those
shapes (and every service's operation names) in a small JSON file under the user's cache
folder, keyed by botocore's version, and later runs read only that. Nothing is written by
hand: a new botocore release makes a new file from its own data, and an operation the index
lacks is added from botocore's model the first time it is asked for.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FORMAT = 2  # bump when what a file holds changes shape

# What a check reads of a shape and of a structure's member; documentation and wire names
# are most of a model and no check needs them.
SHAPE_KEYS = {"type", "required", "min", "max", "pattern", "enum", "union", "document"}
MEMBER_KEYS = {"shape", "jsonvalue"}


class UnknownRegion(LookupError):
    """No partition of AWS's has this region, by name or by its pattern."""


class UnknownOperation(LookupError):
    """The service has no such operation (botocore's model lists every one)."""


@dataclass(frozen=True)
class Operation:
    service: str
    name: str  # CreateSecurityGroup: the name IAM and CloudTrail use
    input: str | None  # the input shape's name in `shapes`
    shapes: dict[str, dict[str, Any]]  # botocore's own JSON for each shape the input reaches


def cache_folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:  # no home to be found: a cache for this boot is still a cache
            base = tempfile.gettempdir()
    return Path(base) / "fargate-runbook"


def botocore_version() -> str:
    """The version of the botocore that `import botocore` loads, read from its own source.

    importlib.metadata would say the same, but importing it (email's parser and more) costs
    an offline plan about as much as all its checks; importing botocore, more again.
    """
    spec = importlib.util.find_spec("botocore")
    if spec is not None and spec.origin:
        with contextlib.suppress(OSError):
            source = Path(spec.origin).read_text(encoding="utf-8")
            found = re.search(r"^__version__ = ['\"]([^'\"]+)['\"]", source, re.MULTILINE)
            if found:
                return found.group(1)
    from importlib import metadata  # another layout: ask the installed distribution

    return metadata.version("botocore")


class Index:
    """One botocore version's operations: read from the cache file, grown on a miss."""

    def __init__(self, path: Path | None = None) -> None:
        self.version = botocore_version()
        self.path = path or cache_folder() / f"api-index-{self.version}-{FORMAT}.json"
        self._lock = threading.Lock()
        self._data: dict[str, Any] | None = None

    def _load(self) -> dict[str, Any]:
        if self._data is None:
            try:
                found = json.loads(self.path.read_text(encoding="utf-8"))
                valid = isinstance(found, dict) and found.get("botocore") == self.version
            except (OSError, ValueError):
                valid = False
            self._data = found if valid else {"botocore": self.version, "services": {}}
        return self._data

    def operation(self, service: str, method: str) -> Operation:
        """create_security_group of ec2, with the shapes its input reaches."""
        with self._lock:
            services = self._load()["services"]
            known = services.get(service)
            if known is None or method not in known["inputs"]:
                known = self._add(service, method)
            names = known["operations"]
            if method not in names:
                raise UnknownOperation(f"{service} has no operation {method}")
            return Operation(service, names[method], known["inputs"][method], known["shapes"])

    def operation_name(self, service: str, method: str) -> str:
        return self.operation(service, method).name

    def partitions(self) -> list[dict[str, Any]]:
        """botocore's endpoint data, trimmed: each partition's name, region pattern, regions."""
        with self._lock:
            data = self._load()
            if "partitions" not in data:
                data["partitions"] = _partitions()
                self._save()
            return data["partitions"]

    def partition(self, region: str) -> str:
        """aws, aws-cn, aws-us-gov, ...: as botocore's endpoint resolver decides it."""
        for each in self.partitions():
            if region in each["regions"] or re.match(each["regionRegex"], region):
                return each["partition"]
        raise UnknownRegion(f"no AWS partition has the region {region!r}")

    def _add(self, service: str, method: str) -> dict[str, Any]:
        """Read botocore's whole model once for what the index lacks, then keep it."""
        model = _service_model(service)
        services = self._load()["services"]
        known = services.setdefault(
            service,
            {
                "operations": {_xform(op): op for op in model["operations"]},
                "inputs": {},
                "shapes": {},
            },
        )
        name = known["operations"].get(method)
        if name is None:
            return known  # the caller says it does not exist; nothing worth writing
        input_ref = model["operations"][name].get("input")
        known["inputs"][method] = input_ref["shape"] if input_ref else None
        if input_ref:
            _reach(model["shapes"], input_ref["shape"], known["shapes"])
        self._save()
        return known

    def _save(self) -> None:
        """Atomically, and quietly: a cache that cannot be written is only slower."""
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".api-index-")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    json.dump(self._data, f, separators=(",", ":"), sort_keys=True)
                os.replace(tmp, self.path)
            except OSError:
                Path(tmp).unlink(missing_ok=True)
                raise


def _reach(all_shapes: dict[str, Any], name: str, kept: dict[str, Any]) -> None:
    """Keep the shape and every shape it names (members, list items, map keys and values)."""
    stack = [name]
    while stack:
        current = stack.pop()
        if current in kept:
            continue
        shape = all_shapes[current]
        slim = {k: v for k, v in shape.items() if k in SHAPE_KEYS}
        if "members" in shape:
            slim["members"] = {
                k: {t: v for t, v in m.items() if t in MEMBER_KEYS}
                for k, m in shape["members"].items()
            }
        for k in ("member", "key", "value"):
            if k in shape:
                slim[k] = {"shape": shape[k]["shape"]}
        kept[current] = slim
        refs = [m["shape"] for m in shape.get("members", {}).values()]
        refs += [shape[k]["shape"] for k in ("member", "key", "value") if k in shape]
        stack.extend(refs)


def _service_model(service: str) -> dict[str, Any]:
    import botocore.session  # only on a miss: the import alone costs more than a plan

    loader = botocore.session.get_session().get_component("data_loader")
    return loader.load_service_model(service, "service-2")


def _partitions() -> list[dict[str, Any]]:
    import botocore.session

    loader = botocore.session.get_session().get_component("data_loader")
    return [
        {
            "partition": p["partition"],
            "regionRegex": p["regionRegex"],
            "regions": sorted(p.get("regions", {})),
        }
        for p in loader.load_data("endpoints")["partitions"]
    ]


def _xform(name: str) -> str:
    import botocore

    return botocore.xform_name(name)


_shared: Index | None = None


def index() -> Index:
    global _shared
    if _shared is None:
        _shared = Index()
    return _shared
