"""Clients for one target (profile, region, endpoint): each request sent again after a fault.

The runbook retries, not botocore: the backoff then sleeps through an injected function (tests
never sleep, the app can interrupt it), and a create that may have been carried out is never
sent again blindly (the executor looks first, or reads AWS's "already exists").
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from runbook.errors import RunbookError, problem_from
from runbook.recovery.faults import Backoff, Fault, fault_of

# One attempt per botocore call: the retrying is ours (see the module's docstring).
ONE_ATTEMPT = {"retries": {"mode": "standard", "total_max_attempts": 1}, "connect_timeout": 10}
READS = ("describe_", "list_", "get_")

Resend = Callable[[], dict[str, Any] | None]
OnFault = Callable[[Fault, float, bool], None]


# botocore's loaders by the data path they read: a process that makes several Aws (the app,
# the tests' commands, each a session of its own) reads each service model once, not once a
# session (about 0.6 s of CPU for a deploy's eleven clients). Models are only read.
_loaders: dict[str, Any] = {}
_loaders_lock = threading.Lock()


def _share_loader(core: Any) -> None:
    """The session reads models through this process's loader for its data path."""
    path = str(core.get_config_variable("data_path") or "")
    with _loaders_lock:
        found = _loaders.get(path)
        if found is None:
            _loaders[path] = core.get_component("data_loader")
        else:
            core.register_component("data_loader", found)


# What botocore makes from a service model, made once per process and model, not for every
# client. Each client got a ServiceModel of its own, which resolved its shapes and operations
# again and, at the client's first error answer (most of a deploy's look-ups answer "not
# found"), every shape of the service to find its errors; and a class with a method for each
# operation. A test's fresh Aws spent about 0.1 s of CPU a deploy on it. Both depend only on
# the model, which the loaders above hand every session the same, and botocore never changes
# either. Each client class is still made anew: a session's own "creating-client-class"
# handlers add to its class alone.
_made: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def _kept(kind: str, service_model: Any, make: Callable[[], Any]) -> Any:
    """What `make` makes from `service_model`'s description, made once."""
    description = service_model._service_description
    key = (kind, service_model.service_name, id(description))
    with _loaders_lock:
        found = _made.get(key)
    if found is None or found[0] is not description:
        found = (description, make())  # holds the description: its id is not reused
        with _loaders_lock:
            _made[key] = found
    return found[1]


def _share_service_models() -> None:
    from botocore.client import ClientCreator

    # Private parts of botocore's: a release without them makes every client as before.
    if not all(hasattr(ClientCreator, n) for n in ("_load_service_model", "_create_methods")):
        return
    with _loaders_lock:
        if hasattr(ClientCreator._create_methods, "__wrapped__"):  # once per process
            return
        load = ClientCreator._load_service_model
        create = ClientCreator._create_methods

        def load_service_model(creator: Any, service_name: str, api_version: Any = None) -> Any:
            model = load(creator, service_name, api_version)
            return _kept("model", model, lambda: model)

        def create_methods(creator: Any, service_model: Any) -> dict[str, Any]:
            made = _kept("methods", service_model, lambda: create(creator, service_model))
            return dict(made)  # a dict of its own: handlers add to it

        load_service_model.__wrapped__ = load  # type: ignore[attr-defined]
        create_methods.__wrapped__ = create  # type: ignore[attr-defined]
        ClientCreator._load_service_model = load_service_model  # type: ignore[method-assign]
        ClientCreator._create_methods = create_methods  # type: ignore[method-assign]


class Aws:
    def __init__(
        self,
        region: str,
        *,
        profile: str | None = None,
        endpoint_url: str | None = None,
        credentials: dict[str, str] | None = None,
        label: str = "",
        sleep: Callable[[float], None] = time.sleep,
        backoff: Backoff | None = None,
        load_balancer_url: Callable[[str], str] | None = None,
    ) -> None:
        self.region = region
        self.endpoint_url = endpoint_url
        self.label = label
        self._load_balancer_url = load_balancer_url
        # Imported here, not at the top: boto3 costs a command that sends nothing (an offline
        # plan, --help) more than the rest of its run.
        import boto3

        self.session = boto3.Session(
            profile_name=profile, region_name=region, **(credentials or {})
        )
        _share_loader(self.session._session)  # boto3 keeps botocore's session there
        _share_service_models()
        self.sleep = sleep
        self.backoff = backoff or Backoff()
        # Every request sent ("ecs.CreateService": n), and the ones sent again, by fault kind.
        self.calls: Counter[str] = Counter()
        self.retried: Counter[str] = Counter()
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def client(self, service: str) -> Any:
        with self._lock:
            if service not in self._clients:
                from botocore.config import Config

                kwargs: dict[str, Any] = {"config": Config(**ONE_ATTEMPT)}
                if self.endpoint_url:
                    kwargs["endpoint_url"] = self.endpoint_url
                client = self.session.client(service, **kwargs)
                client.meta.events.register("before-call", self._count)
                self._clients[service] = client
            return self._clients[service]

    def call(self, service: str, operation: str, /, **params: Any) -> dict[str, Any]:
        """A request, sent again after throttling, a server error or a lost connection."""
        return self.request(service, operation, params)

    def send(self, service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        """Exactly one attempt."""
        return getattr(self.client(service), operation)(**params)

    def request(
        self,
        service: str,
        operation: str,
        params: dict[str, Any],
        *,
        before_resend: Resend | None = None,
        on_fault: OnFault | None = None,
    ) -> dict[str, Any]:
        """Send until AWS answers, backing off after each fault; give up when sends run out.

        A read is always safe to send again. Anything else that may have been carried out
        is sent again only when the caller says how (`before_resend`, which may find what the
        first attempt made and return it as the answer); otherwise the fault is raised.
        """
        failed, waited, maybe_applied = 0, 0.0, False
        while True:
            if maybe_applied and before_resend is not None:
                found = before_resend()
                if found is not None:
                    return found
            started = time.monotonic()
            try:
                return self.send(service, operation, params)
            except Exception as exc:
                fault = fault_of(exc)
                if fault is None:
                    raise
                failed += 1
                # A change that may have been done is sent again only with the caller's say.
                again = (
                    operation.startswith(READS)
                    or before_resend is not None
                    or not fault.maybe_applied
                )
                delay = self.backoff.delay(fault, failed) if again else None
                if on_fault is not None:
                    on_fault(fault, time.monotonic() - started, delay is not None)
                if delay is None:
                    problem = problem_from(exc, operation, sends=failed, waited=waited)
                    raise RunbookError(problem) from exc
                maybe_applied = maybe_applied or fault.maybe_applied
                self.retried[fault.kind] += 1
                self.sleep(delay)
                waited += delay

    def _count(self, model: Any, **_: Any) -> None:
        self.calls[f"{model.service_model.service_name}.{model.name}"] += 1

    def url_for(self, url: str) -> str:
        """Where a load balancer's URL answers from this machine: itself on AWS; on an
        emulator, what its data plane says (LookupError if it has none: never probe a
        name that resolves nowhere, or elsewhere)."""
        if self._load_balancer_url is not None:
            host = url.split("://", 1)[-1].split("/", 1)[0]
            return self._load_balancer_url(host)
        if self.endpoint_url:
            raise LookupError(
                "The local emulator makes no real load balancer and runs no containers: the "
                "DNS name does not resolve, no task registers as a target, and the probe "
                "cannot reach anything. `runbook --sandbox` runs a data plane beside the "
                "emulator that does all three."
            )
        return url

    def has_credentials(self) -> bool:
        return self.session.get_credentials() is not None
