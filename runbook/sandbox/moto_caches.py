"""Work moto (5.2.5) redoes on every request although its answer never changes, done once.

Each request to the emulator listed moto's own package folder to route it, looked up the
response class's methods with inspect, and, for every error answer (most of a deploy's
look-ups answer "not found"), rebuilt the service's whole error table: moto keeps a cache for
that table but makes a new, empty one each time. Together about a third of the emulator's
CPU per request. What each answers is the same as before: only when it is computed changes.
"""

from __future__ import annotations

import functools
from typing import Any

from moto import backends
from moto.core import errors, responses

from runbook.sandbox.once import once

# serviceId -> the service's error table (moto's ErrorLookup): service models never change.
_error_tables: dict[str, Any] = {}
_list_moto_modules = backends.list_of_moto_modules
_method_names_from_class = responses.method_names_from_class


@functools.cache
def _moto_modules() -> tuple[str, ...]:
    # The folders of moto's installed package: they do not change while the process runs.
    return tuple(_list_moto_modules())


@functools.cache
def _method_names(clazz: type) -> list[str]:
    # A response class's methods: classes are made once; the sandbox's own wrappers
    # (runbook.sandbox.moto_state) replace methods under the same names.
    return _method_names_from_class(clazz)


def _share_error_tables(factory: Any) -> None:
    factory._error_lut_cache = _error_tables


@once
def install() -> None:
    backends.list_of_moto_modules = _moto_modules  # type: ignore[assignment]
    responses.method_names_from_class = _method_names  # type: ignore[assignment]
    errors.ErrorLookupFactory.__init__ = _share_error_tables  # type: ignore[method-assign,assignment]
