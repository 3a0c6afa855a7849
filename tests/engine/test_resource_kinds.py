"""The resource registry: every kind's module is listed once, and what it declares is whole."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import runbook.resources
from runbook.recovery.answers import Recovery
from runbook.resources import registry
from runbook.resources.kind import Kind, Tagged


def test_every_kind_module_is_in_the_registry_once() -> None:
    declared = []
    for info in pkgutil.iter_modules(runbook.resources.__path__):
        module = importlib.import_module(f"runbook.resources.{info.name}")
        if isinstance(getattr(module, "KIND", None), Kind):
            declared.append(module.KIND)
    assert declared and sorted(k.name for k in declared) == sorted(k.name for k in registry.KINDS)
    assert len(registry.BY_NAME) == len(registry.KINDS)


def test_whatever_the_tag_inventory_finds_can_be_deleted() -> None:
    for kind in registry.KINDS:
        if kind.inventory is not None:
            assert kind.leftover is not None or kind.delete is not None, kind.name
            assert kind.section, kind.name


def test_a_one_call_delete_is_done_when_its_kind_is_not_found() -> None:
    cluster = registry.kind("cluster")
    assert cluster is not None and cluster.delete is not None
    (call,) = cluster.teardown(
        Tagged("cluster", "old", "arn:aws:ecs:us-east-1:1:cluster/old"), "III"
    )
    assert (call.operation, call.params) == ("delete_cluster", {"cluster": call.params["cluster"]})
    assert call.done_on == cluster.not_found == ("ClusterNotFoundException",)
    assert registry.recovery_for("ecs", "delete_cluster").done[0].code == "ClusterNotFoundException"
    assert registry.DELETE_ORDER["delete_cluster"] == cluster.delete.rank


def test_a_call_two_kinds_declare_is_refused() -> None:
    call = ("ecs", "create_cluster")
    with pytest.raises(ValueError, match="declared by both one and two"):
        registry._joined([("one", {call: Recovery()}), ("two", {call: Recovery()})])
