"""The fresh-machine check: its marker (deselect with -m "not pristine" for a quick local run),
and its one test sent last: the check itself started with the session (tests/conftest.py,
early.py) and ran beside the others."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "pristine: the README's main job in a pristine Debian root (minutes)"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Last: it only reads what the run started with the session (early.py) found.
    items.sort(key=lambda item: item.get_closest_marker("pristine") is not None)
