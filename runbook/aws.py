"""Clients for one target (profile, region, endpoint), with retries and a count of calls."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config

# Standard mode retries throttling and transient errors with backoff on every call.
RETRIES = Config(retries={"mode": "standard", "max_attempts": 8}, connect_timeout=10)


class Aws:
    def __init__(
        self,
        region: str,
        *,
        profile: str | None = None,
        endpoint_url: str | None = None,
        credentials: dict[str, str] | None = None,
        label: str = "",
        load_balancer_url: Callable[[str], str] | None = None,
    ) -> None:
        self.region = region
        self.endpoint_url = endpoint_url
        self.label = label
        self._load_balancer_url = load_balancer_url
        self.session = boto3.Session(
            profile_name=profile, region_name=region, **(credentials or {})
        )
        self.calls: Counter[str] = Counter()
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def client(self, service: str) -> Any:
        with self._lock:
            if service not in self._clients:
                kwargs: dict[str, Any] = {"config": RETRIES}
                if self.endpoint_url:
                    kwargs["endpoint_url"] = self.endpoint_url
                client = self.session.client(service, **kwargs)
                client.meta.events.register("before-call", self._count)
                self._clients[service] = client
            return self._clients[service]

    def call(self, service: str, operation: str, /, **params: Any) -> dict[str, Any]:
        return getattr(self.client(service), operation)(**params)

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
