"""The control plane: moto's server on a free loopback port, the sandbox's data plane beside it.

It answers only its owner (runbook.sandbox.owner_only): calls signed with the sandbox's keys,
to its own address, from no web page. Every call a person's runbook makes (not the data
plane's own) counts as activity, for the background sandbox's idle stop, and tells the data
plane to look again.
"""

from __future__ import annotations

import io
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from runbook.aws import Aws
from runbook.sandbox.account import CREDENTIALS, DEFAULT_ACCOUNT, in_moto_account
from runbook.sandbox.database import Template
from runbook.sandbox.dataplane import DataPlane
from runbook.sandbox.owner_only import OwnerOnly
from runbook.sandbox.signature import open_signed
from runbook.sandbox.timings import Timings
from todo_app.server_home import ServerHome

# Without these moto cannot attach AWS-managed policies, never runs service tasks (when no
# data plane reports real counts), and holds certificates pending for a minute. Nothing
# here runs EC2 instances, so no account needs moto's 1300 public AMIs: making them (each
# with a volume and a snapshot) cost 1.2-2.8 s on an account's first EC2 call.
EMULATOR_ENV = {
    "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
    "MOTO_ECS_SERVICE_RUNNING": "1",
    "MOTO_ACM_VALIDATION_WAIT": "0",
    "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
}
_SCOPE = re.compile(r"Credential=[^/]+/\d+/([^/]+)/([^/]+)/")


class _Watched:
    """WSGI middleware: who called (account, region), and when."""

    def __init__(self, app: Any, on_call: Callable[[str, str, str], None]) -> None:
        self.app, self.on_call = app, on_call

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        mine = bool(environ.get("HTTP_X_RUNBOOK_DATAPLANE"))
        # Without the header moto finds the account by the access key, walking every account
        # and partition it knows and building each one's IAM (all managed policies): after a
        # test suite's few hundred accounts, one such call took a minute. Ours is the default.
        environ.setdefault("HTTP_X_MOTO_ACCOUNT_ID", DEFAULT_ACCOUNT)
        operation = "" if mine else _operation(environ)
        answer = self.app(environ, start_response)
        if not mine:
            account = environ.get("HTTP_X_MOTO_ACCOUNT_ID") or DEFAULT_ACCOUNT
            found = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
            region, service = found.groups() if found else ("us-east-1", "")
            # A call that only reads changes nothing the data plane runs.
            reads = bool(operation) and operation.startswith(READS)
            self.on_call(account, region, "read" if reads else service)
        return answer


READS = ("Describe", "List", "Get")
# Seconds: how soon a stopped emulator's serving thread ends (idle, 20 wake-ups a second).
SHUTDOWN_POLL = 0.05


def _operation(environ: dict[str, Any]) -> str:
    """The call's operation: from X-Amz-Target (JSON APIs) or the form's Action (query APIs)."""
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return target.rsplit(".", 1)[-1]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if not length or "form" not in environ.get("CONTENT_TYPE", ""):
        return ""
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)  # moto reads it again
    found = re.search(rb"(?:^|&)Action=([A-Za-z]+)", body)
    return found.group(1).decode() if found else ""


def share_models(aws: Aws, shared: dict[str, Any]) -> None:
    """`aws`'s botocore session takes the parts in `shared` that only read service models, or
    fills `shared` with its own: both keep what they read, the same for every session."""
    core = aws.session._session  # boto3 keeps botocore's session there
    if shared:
        core.register_component("data_loader", shared["data_loader"])
        core._register_internal_component("exceptions_factory", shared["exceptions_factory"])
    else:
        shared["data_loader"] = core.get_component("data_loader")
        shared["exceptions_factory"] = core._get_internal_component("exceptions_factory")


class Emulator:
    """moto's threaded server on loopback, in this process, with a data plane of `parts`.

    `Emulator()` (the tests' and benches' default) is moto alone; the background sandbox runs
    every part. Either way images arrive as on AWS: pushed (by the sandbox's container engine
    stand-in, runbook.sandbox.container_engine). It takes only calls signed with this
    process's keys (runbook.sandbox.account.CREDENTIALS), which its data plane also uses.
    """

    def __init__(
        self,
        port: int = 0,
        *,
        parts: Iterable[str] = (),
        accounts: str | None = "*",
        timings: Timings | None = None,
        folder: Path | None = None,
        announce: Callable[[str], None] | None = None,
        on_listeners: Callable[[dict[str, str]], None] | None = None,
        templates: Iterable[Template] = (),
        postgres_home: ServerHome | None = None,
    ) -> None:
        os.environ.update(EMULATOR_ENV)
        # moto reads the certificate wait once, when first imported, and the data plane's
        # modules import moto before any emulator is made: set it where moto keeps it.
        import moto.settings

        moto.settings.ACM_VALIDATION_WAIT = int(EMULATOR_ENV["MOTO_ACM_VALIDATION_WAIT"])
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._port = port
        self._parts = tuple(parts)
        self._accounts = accounts
        self._options = {
            "timings": timings,
            "folder": folder,
            "announce": announce,
            "on_listeners": on_listeners,
            "templates": tuple(templates),
            "postgres_home": postgres_home,
        }
        self.credentials = CREDENTIALS
        self._door: OwnerOnly | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.url = ""
        self.data_plane: DataPlane | None = None
        self.last_call = time.monotonic()
        # botocore's parts that only read service models, shared by every Aws this emulator
        # hands out: the loader keeps the models it has read, which each new session would
        # read again (a test's fresh account's clients spent about a second of CPU on it), and
        # the exceptions factory keeps each service's exception classes.
        self._shared: dict[str, Any] = {}

    def start(self) -> Emulator:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        from runbook.sandbox import (
            kms_key_pairs,
            managed_policies,
            moto_caches,
            task_definition_revisions,
        )

        # Deleted task definition revisions keep their numbers, as on AWS.
        task_definition_revisions.install()
        # An account's first call builds its IAM backend: AWS's policies parsed once, not each time.
        managed_policies.install()
        # What moto works out again on every request, though it never changes: once.
        moto_caches.install()
        # A KMS key's RSA key pair (a database's first look makes one) only when it is used.
        kms_key_pairs.install()
        app = _Watched(DomainDispatcherApplication(create_backend_app), self._called)
        self._door = OwnerOnly(app, self.credentials)
        self._server = make_server(
            "127.0.0.1", self._port, self._door, threaded=True, request_handler=MotoRequestHandler
        )
        host, port = self._server.server_address[:2]
        self._door.answer_as(port)
        self.url = f"http://{host}:{port}"
        # serve_forever notices shutdown() only between polls: socketserver's default 0.5 s
        # made every stop wait idle that long (every sandbox stop, every test's emulator).
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": SHUTDOWN_POLL}, daemon=True
        )
        self._thread.start()
        if self._parts:
            self.data_plane = DataPlane(self.url, parts=self._parts, **self._options).start()
            if self._accounts:
                self.data_plane.watch(self._accounts)
        return self

    def aws(
        self,
        account: str,
        region: str = "us-east-1",
        label: str = "sandbox",
        *,
        through: str | None = None,
    ) -> Aws:
        """Clients for one account of this emulator (a fresh one costs nothing), whose load
        balancers are reached through the data plane, if it runs one. `through`: the address
        of something that passes calls on to this emulator (a test's fault proxy)."""
        plane = self.data_plane
        aws = Aws(
            region,
            endpoint_url=through or self.url,
            credentials=self.credentials,
            label=label,
            load_balancer_url=plane.local_url if plane is not None else None,
        )
        share_models(aws, self._shared)
        return in_moto_account(aws, aws.session.events, account)

    def _called(self, account: str, region: str, service: str) -> None:
        self.last_call = time.monotonic()
        if self.data_plane is not None:
            self.data_plane.changed(account, region, service)

    def stop(self) -> None:
        if self.data_plane is not None:
            self.data_plane.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(10)

    def door_counts(self) -> str:
        """How many calls it took, and what it refused (for the sandbox's log)."""
        if self._door is None:
            return "no calls"
        refused = ", ".join(f"{n} {code}" for code, n in self._door.refused.most_common())
        return f"{self._door.taken} calls taken; refused: {refused or 'none'}"

    def answer_as(self, port: int) -> None:
        """Also take calls whose Host is 127.0.0.1 at `port` (a test's proxy in front of it,
        which passes the client's signed Host on)."""
        assert self._door is not None, "start the emulator first"
        self._door.answer_as(port)

    def moto_api(self, path: str, method: str = "POST") -> bytes:
        """A call to moto's own API (/moto-api/...), signed as every call must be."""
        url = f"{self.url}/moto-api/{path}"
        body = b"" if method == "POST" else None
        with open_signed(url, self.credentials, service="moto", method=method, body=body) as answer:
            return bytes(answer.read())

    def reset(self) -> None:
        """Forget every resource: a new pretend account."""
        self.moto_api("reset")
