"""Sandbox fixtures: an emulator with the whole data plane, in this process, one account a test."""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from runbook.aws import Aws
from runbook.engine import Runbook
from runbook.image import Build, ContainerEngine
from runbook.sandbox import PARTS, Emulator, Timings
from runbook.sandbox.container_engine import stand_in
from runbook.settings import Settings
from runbook.state import StateFile

_accounts = itertools.count(200_000_000_001 + 1_000_000 * (os.getpid() % 1000))


@pytest.fixture
def timings() -> Timings:
    return Timings()


@pytest.fixture
def data_plane_emulator(timings: Timings) -> Iterator[Emulator]:
    """moto with every part of the data plane, watching only the accounts a test names."""
    folder = Path(tempfile.mkdtemp(prefix="runbook-sandbox-test-")) / "data"
    server = Emulator(parts=PARTS, accounts=None, folder=folder, timings=timings).start()
    yield server
    server.stop()
    shutil.rmtree(folder.parent, ignore_errors=True)


def account_aws(emulator: Emulator, account: str) -> Aws:
    assert emulator.data_plane is not None
    return emulator.aws(account)


@pytest.fixture
def full_aws(data_plane_emulator: Emulator) -> Aws:
    """A fresh pretend account that the data plane runs things for."""
    account = str(next(_accounts))
    assert data_plane_emulator.data_plane is not None
    data_plane_emulator.data_plane.watch(account)
    return account_aws(data_plane_emulator, account)


@pytest.fixture
def sandbox_engine(data_plane_emulator: Emulator, timings: Timings) -> ContainerEngine:
    """The sandbox's container engine stand-in, building into the store its tasks run from."""
    plane = data_plane_emulator.data_plane
    assert plane is not None
    return stand_in(data_plane_emulator.url, plane.folder, timings)


@pytest.fixture
def full_runbook(
    full_aws: Aws, tmp_path: Path, settings: Settings, sandbox_engine: ContainerEngine
) -> Callable[..., Runbook]:
    def make(**overrides: Any) -> Runbook:
        options: dict[str, Any] = {
            "settings": settings,
            "aws": full_aws,
            "state": StateFile(tmp_path / "state.json"),
            "sandbox": True,
            "sleep": lambda seconds: time.sleep(min(seconds, 0.1)),
            "build": Build(engine=sandbox_engine),
        }
        options.update(overrides)
        return Runbook(**options)

    return make
