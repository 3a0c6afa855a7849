"""The plan's own check of call shapes answers as botocore's ParamValidator does.

The plan checks calls against a compact index of botocore's models without importing
botocore (runbook/api_index.py, runbook/api_check.py). Here both judge every planned call of
a deploy with everything on, and each of those calls broken in every way one value can be
broken: a member left out, a value of the wrong type, a name the operation does not know.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator

from runbook.api_index import Index
from runbook.model_check import _placeholder
from runbook.settings import Settings
from runbook.steps import STEPS

WRONG = [5, "text", True, [], {}, 2.5]


def everything_on() -> Settings:
    return (
        Settings(master_password="s3cret-Pass!")
        .replace("domain", name="todo.example.com")
        .replace("auto_scaling", max_tasks=4)
    )


def planned(index: Index) -> list[tuple[Any, dict[str, Any]]]:
    out = []
    for step in STEPS:
        for action in step.plan(everything_on(), None):
            if not hasattr(action, "params"):
                continue
            operation = index.operation(action.service, action.operation)
            out.append(
                (operation, _placeholder(dict(action.params), operation.input, operation.shapes))
            )
    return out


def broken(params: Any) -> Iterator[Any]:
    """Each way of breaking one value of params: left out, wrong type, unknown name."""
    if isinstance(params, dict):
        for key in list(params):
            left_out = dict(params)
            del left_out[key]
            yield left_out
            for wrong in WRONG:
                yield {**params, key: wrong}
            for inner in broken(params[key]):
                yield {**params, key: inner}
        yield {**params, "NoSuchMember": "x"}
    elif isinstance(params, list) and params:
        for inner in broken(params[0]):
            yield [inner, *params[1:]]


@functools.cache
def _model(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


def botocore_says(service: str, name: str, params: Any) -> bool:
    shape = _model(service).operation_model(name).input_shape
    return ParamValidator().validate(params, shape).has_errors()


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Index:
    return Index(tmp_path_factory.mktemp("cache") / "index.json")


def test_both_take_every_planned_call(index: Index) -> None:
    from runbook.api_check import problems

    for operation, params in planned(index):
        assert problems(operation, params) == [], operation.name
        assert not botocore_says(operation.service, operation.name, params), operation.name


def test_both_refuse_the_same_broken_calls(index: Index) -> None:
    from runbook.api_check import problems

    compared = 0
    for operation, params in planned(index):
        for bad in broken(copy.deepcopy(params)):
            ours = bool(problems(operation, bad))
            theirs = botocore_says(operation.service, operation.name, bad)
            assert ours == theirs, (operation.name, json.dumps(bad, default=str)[:300])
            compared += 1
    assert compared > 1000  # every call, every value, every way


def test_the_index_is_kept_and_read_back(index: Index, tmp_path: Path) -> None:
    fresh = Index(tmp_path / "index.json")
    first = fresh.operation("ecs", "register_task_definition")
    assert (tmp_path / "index.json").exists()
    again = Index(tmp_path / "index.json")
    again._add = None  # type: ignore[assignment]  # a second run must not read botocore's models
    assert again.operation("ecs", "register_task_definition") == first
    assert again.operation_name("ecs", "register_task_definition") == "RegisterTaskDefinition"


def test_an_unknown_operation_is_named(tmp_path: Path) -> None:
    from runbook.api_index import UnknownOperation

    with pytest.raises(UnknownOperation, match="ec2 has no operation make_coffee"):
        Index(tmp_path / "i.json").operation("ec2", "make_coffee")


def test_a_damaged_cache_is_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "i.json"
    path.write_text("{not json")
    assert Index(path).operation_name("logs", "create_log_group") == "CreateLogGroup"
    assert json.loads(path.read_text())["services"]["logs"]


@pytest.mark.parametrize("region", ["us-east-1", "cn-north-1", "us-gov-west-1", "eu-south-2"])
def test_partitions_are_botocores(region: str, tmp_path: Path) -> None:
    expected = botocore.session.get_session().get_partition_for_region(region)
    assert Index(tmp_path / "i.json").partition(region) == expected
