"""Shared fixtures: one local AWS emulator per test process, reset before each test."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runbook.aws import Aws
from runbook.engine import Runbook
from runbook.events import Event
from runbook.sandbox import CREDENTIALS, Emulator
from runbook.settings import Settings
from runbook.state import StateFile


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    server = Emulator().start()
    yield server
    server.stop()


_accounts = itertools.count(100_000_000_001)


@pytest.fixture
def account() -> str:
    return str(next(_accounts))


@pytest.fixture
def aws(emulator: Emulator, account: str) -> Aws:
    """A fresh pretend account for each test.

    A new account (moto's x-moto-account-id header) costs nothing up front, where resetting
    the whole emulator costs about half a second a test. The emulator publishes the app's
    image to a deployment's empty ECR repository, as the sandbox does (runbook.sandbox.image).
    """
    client = Aws("us-east-1", endpoint_url=emulator.url, credentials=CREDENTIALS, label="sandbox")

    def to_account(request: Any, **_: Any) -> None:
        request.headers["x-moto-account-id"] = account

    client.session.events.register("before-sign", to_account)
    return client


@pytest.fixture
def settings() -> Settings:
    # The guide's db.t2.micro is refused for PostgreSQL 16; tests use the fix preflight offers.
    return Settings().replace("database", instance_class="db.t4g.micro")


@pytest.fixture
def state_path(tmp_path: Path) -> Path:
    return tmp_path / "runbook-state.json"


@pytest.fixture
def events() -> list[Event]:
    return []


@pytest.fixture
def make_runbook(aws: Aws, settings: Settings, state_path: Path, events: list[Event]):
    """A Runbook on the emulator that records its events and never sleeps."""

    def make(**overrides: object) -> Runbook:
        options: dict[str, object] = {
            "settings": settings,
            "aws": aws,
            "state": StateFile(state_path),
            "emit": events.append,
            "sandbox": True,
            "sleep": lambda _s: None,
        }
        options.update(overrides)
        return Runbook(**options)  # type: ignore[arg-type]

    return make
