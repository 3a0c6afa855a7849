"""Every test here talks to the emulator through the fault-injecting proxy."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from runbook.aws import Aws
from runbook.sandbox import Emulator
from tests.faults.proxy import FaultProxy, Schedule

# Apart from tests/conftest.py's accounts: the same emulator serves both.
_accounts = itertools.count(300_000_000_001)


@pytest.fixture
def account() -> str:
    return str(next(_accounts))


@pytest.fixture(scope="session")
def shared_proxy(emulator: Emulator) -> Iterator[FaultProxy]:
    server = FaultProxy(emulator.url).start()
    # The proxy passes the client's signed Host on: the emulator answers as the proxy too.
    emulator.answer_as(int(server.url.rsplit(":", 1)[1]))
    yield server
    server.stop()


@pytest.fixture
def proxy(shared_proxy: FaultProxy) -> FaultProxy:
    """The proxy with nothing scheduled yet; tests set `proxy.schedule`."""
    shared_proxy.schedule = Schedule()
    shared_proxy.requests.clear()
    return shared_proxy


@pytest.fixture
def aws(emulator: Emulator, proxy: FaultProxy, account: str) -> Aws:
    """The runbook's view: through the proxy (make_runbook uses it)."""
    return emulator.aws(account, through=proxy.url)


@pytest.fixture
def truth(emulator: Emulator, account: str) -> Aws:
    """The same account, straight from the emulator: what really exists."""
    return emulator.aws(account, label="")
