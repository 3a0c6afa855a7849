"""The fresh-machine check: its marker (deselect with -m "not pristine" for a quick local run),
and its one long test sent to a worker first, so the others' tests fill the time it takes."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "pristine: the README's main job in a pristine Debian root (minutes)"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.get_closest_marker("pristine") is None)
