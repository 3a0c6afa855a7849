"""The template being built: resources, parameters, and what each plan reference becomes."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from runbook.plan import ApiCall, Ref, Secret

PASSWORD_PARAMETER = "DBPassword"


@dataclass(frozen=True)
class Source:
    """What a plan reference is in CloudFormation: a parameter, a Ref, or a GetAtt."""

    logical: str
    attribute: str = ""
    sub: str = ""  # or a Fn::Sub text of its own (e.g. the ARN of a role the account lends)

    def expression(self) -> dict[str, Any]:
        if self.sub:
            return {"Fn::Sub": self.sub}
        if self.attribute:
            return {"Fn::GetAtt": [self.logical, self.attribute]}
        return {"Ref": self.logical}

    def variable(self) -> str:
        """The same inside Fn::Sub."""
        return "${" + self.logical + (f".{self.attribute}" if self.attribute else "") + "}"


def logical_id(*parts: str) -> str:
    """flask-todo-elb-sg -> FlaskTodoElbSg: CloudFormation takes letters and digits only."""
    words = re.split(r"[^A-Za-z0-9]+", "-".join(parts))
    return "".join(w[:1].upper() + w[1:] for w in words if w)


def pascal(value: Any, keep: frozenset[str] = frozenset({"options"})) -> Any:
    """ECS's camelCase parameters as CloudFormation's PascalCase properties; maps kept as is."""
    if isinstance(value, dict):
        return {
            k[:1].upper() + k[1:]: (v if k in keep else pascal(v, keep)) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [pascal(v, keep) for v in value]
    return value


@dataclass
class Template:
    description: str
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    parameters: dict[str, dict[str, Any]] = field(default_factory=dict)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    sources: dict[str, Source] = field(default_factory=dict)
    # A resource's physical name -> its logical ID, for calls that name what they change.
    names: dict[str, str] = field(default_factory=dict)

    def add(
        self,
        logical: str,
        kind: str,
        properties: dict[str, Any],
        *,
        name: str = "",
        depends_on: list[str] | None = None,
    ) -> dict[str, Any]:
        resource: dict[str, Any] = {"Type": kind, "Properties": properties}
        if depends_on:
            resource["DependsOn"] = depends_on
        self.resources[logical] = resource
        if name:
            self.names[name] = logical
        return properties

    def made(
        self,
        call: ApiCall,
        kind: str,
        properties: dict[str, Any],
        *,
        logical: str,
        name: str = "",
        attribute: str | Mapping[str, str] = "",
    ) -> None:
        """The resource a creating call makes, with the call's tags (in any service's spelling)
        and known by its name; what the call captures is this resource, or its `attribute`
        (one for all, or one for each path the call captures)."""
        tags = call.params.get("Tags", call.params.get("tags"))
        self.add(logical, kind, self.value(properties) | {"Tags": cfn_tags(tags)}, name=name)
        for key, path in call.captures.items():
            self.provides(
                key, logical, attribute if isinstance(attribute, str) else attribute[path]
            )

    def provides(self, key: str, logical: str, attribute: str = "") -> None:
        self.sources[key] = Source(logical, attribute)

    def properties(self, logical: str) -> dict[str, Any]:
        return self.resources[logical]["Properties"]

    def owner(self, value: Any) -> str:
        """The logical ID a reference (or a physical name) stands for."""
        if isinstance(value, Ref):
            return self.sources[value.key].logical
        return self.names[value]

    def value(self, value: Any) -> Any:
        """A plan value as CloudFormation: references as Ref/GetAtt/Fn::Sub, never a secret."""
        if isinstance(value, Ref):
            source = self.sources[value.key]
            if value.fmt == "{}":
                return source.expression()
            if value.fmt.startswith('{"'):  # a JSON document naming the value
                return self.value(_json_with(value))
            return {"Fn::Sub": value.fmt.replace("${", "${!").replace("{}", source.variable())}
        if isinstance(value, Secret):
            raise ValueError("a secret has no place in a template")
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(v) for v in value]
        return value

    def document(self) -> dict[str, Any]:
        whole: dict[str, Any] = {
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": self.description,
            "Metadata": {"fargate-runbook": {"notes": self.notes}},
        }
        if self.parameters:
            whole["Parameters"] = self.parameters
        whole["Resources"] = self.resources
        if self.outputs:
            whole["Outputs"] = self.outputs
        return whole


def _json_with(ref: Ref) -> Any:
    """A JSON template (e.g. a policy) whose "{}" is the reference: as data holding the Ref."""

    def swap(node: Any) -> Any:
        if node == "{}":
            return Ref(ref.key)
        if isinstance(node, str) and "{}" in node:  # an ARN naming it, e.g. the account
            return Ref(ref.key, fmt=node)
        if isinstance(node, dict):
            return {k: swap(v) for k, v in node.items()}
        if isinstance(node, list):
            return [swap(v) for v in node]
        return node

    return swap(json.loads(ref.fmt))


def untagged(params: Mapping[str, Any], *, camel: bool = False, leave: str = "") -> dict[str, Any]:
    """A call's parameters as a resource's properties: all but its tags (and `leave`); ECS's
    camelCase ones as CloudFormation's PascalCase."""
    kept = {k: v for k, v in params.items() if k not in ("Tags", "tags", leave)}
    return pascal(kept) if camel else kept


def cfn_tags(tags: Any) -> Any:
    """Every service's tag spelling ({key, value}, a map) as CloudFormation's Key/Value list."""
    if isinstance(tags, dict):
        return [{"Key": k, "Value": v} for k, v in tags.items()]
    return [
        {"Key": t.get("Key", t.get("key")), "Value": t.get("Value", t.get("value"))} for t in tags
    ]
