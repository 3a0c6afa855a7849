"""Check planned calls offline against botocore's service models, as ecsctrl does."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ParamValidationError
from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape
from botocore.validate import ParamValidator

from runbook.operation_names import operation_name, session
from runbook.plan import Action, Ref, Secret

__all__ = ["check", "operation_name"]


def _operation(service: str, method: str) -> OperationModel:
    model = session().get_service_model(service)
    return model.operation_model(operation_name(service, method))


def _placeholder(value: Any, shape: Shape | None) -> Any:
    """Stand-ins of the right type for values only apply will know."""
    if isinstance(value, Ref | Secret):
        kind = shape.type_name if shape else "string"
        if kind == "list":
            return ["placeholder"]
        if kind in ("integer", "long"):
            return 1
        if kind == "boolean":
            return True
        # As long as the shape demands: an ARN field may require 20 characters or more.
        return "x" * max(int(shape.metadata.get("min", 1)) if shape else 1, 11)
    if isinstance(value, dict):
        if isinstance(shape, StructureShape):
            return {k: _placeholder(v, shape.members.get(k)) for k, v in value.items()}
        inner = shape.value if isinstance(shape, MapShape) else None
        return {k: _placeholder(v, inner) for k, v in value.items()}
    if isinstance(value, list | tuple):
        inner = shape.member if isinstance(shape, ListShape) else None
        return [_placeholder(v, inner) for v in value]
    return value


def check(action: Action) -> str | None:
    """None when the call fits the operation's input shape, else botocore's report."""
    try:
        operation = _operation(action.service, action.operation)
    except ValueError as exc:
        return str(exc)
    shape = operation.input_shape
    params = _placeholder(dict(action.params), shape)
    report = ParamValidator().validate(params, shape) if shape else None
    if report is not None and report.has_errors():
        return str(ParamValidationError(report=report.generate_report()))
    return None
