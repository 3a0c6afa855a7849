"""Shared fixtures: one local AWS emulator per test process, reset before each test."""

from __future__ import annotations

import gc
import itertools
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber

from runbook.aws import Aws
from runbook.engine import Runbook
from runbook.events import Event, Listener, fan_out
from runbook.image import Build, ContainerEngine
from runbook.sandbox import Emulator
from runbook.sandbox.container_engine import stand_in
from runbook.sandbox.emulator import share_models
from runbook.settings import Settings
from runbook.state import StateFile

# Whole runs through the sandbox (a minute or more each on a loaded machine), longest first:
# started first, so that with `-n 2` the short tests fill in around them instead of one
# worker ending the suite alone on a long one.
SLOW_FIRST = (  # by their longest test's duration in one run of the whole suite (-n 3)
    "tests/sandbox/test_own_apps.py",  # three apps, 20-60 s each
    "tests/sandbox/test_end_to_end.py",
    "tests/test_benches.py",  # each bench once, as a process of its own
    "tests/sandbox/test_rotation.py",
    "tests/sandbox/test_releases.py",
    "tests/sandbox/test_database_failures.py",
    "tests/sandbox/test_task_failures.py",
    "tests/sandbox/test_dataplane.py",
    "tests/sandbox/test_one_off.py",
    "tests/sandbox/test_one_run_at_a_time.py",
    "tests/sandbox/test_day_two.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow ones first, longest first, in a stable order (every xdist worker must collect
    the same)."""

    def rank(item: pytest.Item) -> int:
        found = [n for n, path in enumerate(SLOW_FIRST) if item.nodeid.startswith(path)]
        return found[0] if found else len(SLOW_FIRST)

    items.sort(key=rank)


def pytest_configure(config: pytest.Config) -> None:
    # Before xdist starts its workers: the fresh-machine check runs beside all of them.
    from tests.pristine import early

    early.start(config)
    if not hasattr(config, "workerinput"):  # once, in the session's first process
        _bytecode_once()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    """After each test, what outlived it is left out of Python's full garbage collections.

    A test process keeps all the emulator ever made (each test's account: its 1,600 IAM
    policies, its VPC, ...) and every service model botocore read, and each full collection
    walked all of it again: a fifth of the CPU of the engine's tests. What the test left is
    collected first, so nothing dead is frozen; frozen objects are still freed when the last
    reference to them goes, as ever, only no longer searched for cycles.
    """
    try:
        return (yield)
    finally:
        gc.collect()
        gc.freeze()


def _bytecode_once() -> None:
    """Our modules compiled once for the whole session. Where PYTHONDONTWRITEBYTECODE is set
    (these machines set it), Python reads bytecode but never writes it, so each of the
    hundreds of processes the tests start (the command line, the sandbox, the container
    engine stand-in, gunicorn) compiled every module of ours again: about 0.3 s of CPU each.
    pip compiled the installed packages already; an editable install leaves ours as source."""
    import compileall

    root = Path(__file__).resolve().parents[1]
    for package in ("runbook", "screens", "todo_app"):
        compileall.compile_dir(root / package, quiet=1, workers=1)


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    server = Emulator().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def no_engine_from_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test runs a container engine it finds on PATH (these machines have docker's command
    line and no daemon): a test that wants one names it (RUNBOOK_CONTAINER_ENGINE, or Build)."""
    monkeypatch.setattr("runbook.image.container_engine.SEARCHED", ())


@pytest.fixture
def engine_env(monkeypatch: pytest.MonkeyPatch, container_engine: ContainerEngine) -> None:
    """The command line finds the stand-in, as it would find docker."""
    monkeypatch.setenv("RUNBOOK_CONTAINER_ENGINE", container_engine.path)


@pytest.fixture(scope="session")
def engine_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the container engine stand-in keeps what it built, and what it was asked."""
    return tmp_path_factory.mktemp("engine-store")


@pytest.fixture(scope="session")
def container_engine(emulator: Emulator, engine_store: Path) -> ContainerEngine:
    """The sandbox's stand-in for docker's command line, pushing into this emulator's ECR:
    there is no container engine on these machines (see runbook.sandbox.container_engine)."""
    return stand_in(emulator.url, engine_store)


_accounts = itertools.count(100_000_000_001)


@pytest.fixture
def account() -> str:
    return str(next(_accounts))


@pytest.fixture
def aws(emulator: Emulator, account: str) -> Aws:
    """A fresh pretend account for each test.

    A new account (moto's x-moto-account-id header) costs nothing up front, where resetting
    the whole emulator costs about half a second a test. The app's image gets there as on
    AWS: the runbook builds and pushes it (with the container engine stand-in).
    """
    return emulator.aws(account)


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
def make_runbook(
    aws: Aws,
    settings: Settings,
    state_path: Path,
    events: list[Event],
    container_engine: ContainerEngine,
):
    """A Runbook on the emulator that records its events, never sleeps, and builds and pushes
    the app's image with the container engine stand-in."""

    def make(listener: Listener | None = None, **overrides: object) -> Runbook:
        """listener: a front end's, beside the test's own (what the app builds it with)."""
        options: dict[str, object] = {
            "settings": settings,
            "aws": aws,
            "state": StateFile(state_path),
            "emit": events.append,
            "sandbox": True,
            "sleep": lambda _s: None,
            "build": Build(engine=container_engine),
        }
        options.update(overrides)
        if listener is not None:
            options["emit"] = fan_out(options["emit"], listener)  # type: ignore[arg-type]
        return Runbook(**options)  # type: ignore[arg-type]

    return make


# -- exact call sequences: clients whose every answer comes from botocore's Stubber --
@pytest.fixture(scope="session")
def offline_models() -> dict[str, Any]:
    """botocore's parts that read service models, shared by every test's offline clients:
    each new session read each model again (about 0.1 s of CPU for EC2's alone)."""
    return {}


@pytest.fixture
def offline_aws(offline_models: dict[str, Any]) -> Aws:
    """Clients that never reach a network: every answer comes from a Stubber."""
    aws = Aws("us-east-1", credentials={"aws_access_key_id": "x", "aws_secret_access_key": "y"})
    share_models(aws, offline_models)
    return aws


@pytest.fixture
def stub(offline_aws: Aws) -> Iterator:
    """stub("ecs") -> that client's Stubber; at the end every expected call was made, in order."""
    stubbers: dict[str, Stubber] = {}

    def get(service: str) -> Stubber:
        if service not in stubbers:
            stubbers[service] = Stubber(offline_aws.client(service))
            stubbers[service].activate()
        return stubbers[service]

    yield get
    for stubber in stubbers.values():
        stubber.assert_no_pending_responses()
        stubber.deactivate()
