"""The sandbox's data plane: makes the local world match what the emulator says should exist.

moto is the control plane (the APIs: what should exist); this is a reconcile loop beside it,
in the same process, that reads the emulator through the same AWS APIs and runs what AWS's
data plane would: a PostgreSQL per RDS instance, processes per ECS service, a listener per
load balancer, logs in CloudWatch. (Images come the way they come on AWS: pushed, here by the
sandbox's container engine stand-in, into the store the tasks pull from.) It reports back what
AWS would report (through moto_state, where moto has no API for it). Deleting something in
the emulator stops its local counterpart. The engine never knows any of this.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

# First, before moto is imported (through moto_state): see there.
import runbook.sandbox.shared_models  # noqa: F401
from runbook.sandbox import moto_state
from runbook.sandbox.account import CREDENTIALS, DEFAULT_ACCOUNT, OWN_CALL_HEADER
from runbook.sandbox.addresses import LoopbackBlock
from runbook.sandbox.certificates import CertificateFiles
from runbook.sandbox.database import Databases, Network, Template
from runbook.sandbox.ecs import Host, Records, Region, Runtime, Services, Targets
from runbook.sandbox.head_start import DEFAULT_MAJOR
from runbook.sandbox.image import Images
from runbook.sandbox.load_balancer import HealthCheck, LoadBalancers, TargetGroup
from runbook.sandbox.task_environment import python_shim, resolve_secret
from runbook.sandbox.timings import Timings
from todo_app.server_home import ServerHome

PARTS = frozenset({"database", "load_balancer", "tasks"})
# Which part a call to an AWS service may concern (the service in its signature's scope).
PART_OF_SERVICE = {
    "rds": "database",
    "secretsmanager": "database",  # RotateSecret on an instance's managed secret
    "elasticloadbalancing": "load_balancer",
    "ecs": "tasks",
}
SWEEP_EVERY = 5.0  # every part looks again this often, whatever woke it or not
MIN_WAIT = 0.02  # never spin, even on a clock that is already due

log = logging.getLogger("runbook.sandbox")

# One session for every client the data plane makes: a session loads each service's model
# and the endpoint rules once, and a client from a fresh session costs about ten times more
# CPU (on the sandbox's critical path, as tasks and databases start). Sessions are not
# thread-safe, the clients they make are: clients are made under a lock.
_session: boto3.Session | None = None
_session_lock = threading.Lock()
# What the warm-up calls, in the order the command line's first calls need it: its account
# (STS, which builds IAM's backend with every AWS-managed policy), then what it looks for
# before a deploy (the tagging API reaches every service's backend), then each section's
# service, then what a task's start needs (its image, secret and log stream).
WARM_UP = (
    ("sts", "get_caller_identity"),
    ("resourcegroupstaggingapi", "get_resources"),
    ("ec2", "describe_vpcs"),
    ("elbv2", "describe_load_balancers"),
    ("ecs", "list_clusters"),
    ("logs", "describe_log_groups"),
    ("ecr", "describe_repositories"),
    ("rds", "describe_db_instances"),
    ("iam", "list_roles"),
    ("secretsmanager", "list_secrets"),
    ("ssm", "describe_parameters"),
)


def _client(service: str, region: str, endpoint_url: str) -> Any:
    global _session
    with _session_lock:
        if _session is None:
            _session = boto3.Session(**CREDENTIALS)
        return _session.client(
            service,
            region_name=region,
            endpoint_url=endpoint_url,
            config=Config(retries={"mode": "standard", "max_attempts": 3}),
        )


class World:
    """One account and region as the data plane sees it: clients, and one reconciler per part."""

    def __init__(self, plane: DataPlane, account: str, region: str) -> None:
        self.plane, self.account, self.region = plane, account, region
        self.folder = plane.folder / f"{account}-{region}"
        self.folder.mkdir(parents=True, exist_ok=True)
        self._clients: dict[str, Any] = {}
        self.groups: dict[str, TargetGroup] = {}
        self._group_lock = threading.Lock()
        self.parts: list[Any] = []
        self._dirty: set[str] = set()
        self._dirty_lock = threading.Lock()
        self._next_sweep = 0.0
        # Each part's next due moment, as it said after it last ran (or sooner, if it says so
        # since): a moment counted from then (look again in a second) falls due, where asking
        # the part again at each pass would count from now and, woken often, never fall due.
        self._dues: dict[str, float] = {}
        self.images = plane.images
        self.databases = Databases(self) if "database" in plane.parts else None
        self.load_balancers = LoadBalancers(self) if "load_balancer" in plane.parts else None
        self.services = self._services() if "tasks" in plane.parts else None
        self.parts = [p for p in (self.databases, self.load_balancers, self.services) if p]

    def _services(self) -> Services:
        """ECS: its scheduler and tasks see the region through Region, its runtime through Host."""
        records = Records(self.account, self.region)
        region = Region(
            ecs=lambda: self.client("ecs"),
            records=records,
            targets=Targets(self, lambda: self.client("elbv2"), records),
            addresses=self.block,
            folder=self.folder / "tasks",
            clock=self.clock,
            timings=self.timings,
            log=self.log,
            wake=lambda: self.wake(Services.name),
        )
        host = Host(
            self.account,
            self.region,
            client=self.client,
            images=self.images,
            ca_bundle=self.ca.bundle,
            resolve_secret=self.resolve_secret,
            database_address=self.database_address,
            endpoint_url=self.endpoint_url,
            credentials=CREDENTIALS,
            python_bin=self.plane.python_bin,
            exited=lambda: self.wake(Services.name),
        )
        return Services(region, Runtime(host))

    # -- what the parts share ----------------------------------------------------------------

    @property
    def timings(self) -> Timings:
        return self.plane.timings

    def clock(self) -> float:
        """The data plane's clock (monotonic seconds; tests move it instead of waiting)."""
        return self.plane.clock()

    @property
    def block(self) -> LoopbackBlock:
        return self.plane.block

    @property
    def ca(self) -> CertificateFiles:
        return self.plane.ca

    @property
    def network(self) -> Network:
        return self.plane.network

    @property
    def stopped(self) -> threading.Event:
        return self.plane.stopped

    @property
    def endpoint_url(self) -> str:
        return self.plane.endpoint_url

    def template(self, major: int) -> Template:
        return self.plane.template(major)

    def log(self, message: str) -> None:
        self.plane.log(f"[{self.account} {self.region}] {message}")

    def wake(self, *parts: str) -> None:
        """Something changed for these parts (none named: for every part): look again."""
        with self._dirty_lock:
            self._dirty |= set(parts) or {p.name for p in self.parts}
        self.plane.wake()

    def listeners_changed(self) -> None:
        self.plane.listeners_changed()

    def client(self, service: str) -> Any:
        if service not in self._clients:
            client = _client(service, self.region, self.endpoint_url)
            account = self.account

            def mark(request: Any, **_: Any) -> None:
                request.headers[OWN_CALL_HEADER] = "1"
                if account != DEFAULT_ACCOUNT:
                    request.headers["x-moto-account-id"] = account

            client.meta.events.register("before-sign", mark)
            self._clients[service] = client
        return self._clients[service]

    def resolve_secret(self, value_from: str) -> str:
        return resolve_secret(value_from, self.client("secretsmanager"), self.client("ssm"))

    def database_address(self, hostname: str) -> str | None:
        return self.databases.address_for(hostname) if self.databases else None

    def master_password(self, identifier: str) -> str | None:
        return moto_state.db_master_password(self.account, self.region, identifier)

    def set_db_status(self, identifier: str, status: str) -> None:
        moto_state.set_db_status(self.account, self.region, identifier, status)

    def db_event(self, identifier: str, message: str, category: str) -> None:
        moto_state.add_db_event(self.account, self.region, identifier, message, category)

    def set_lb_state(self, arn: str, state: str, reason: str = "") -> None:
        moto_state.set_load_balancer_state(self.account, self.region, arn, state, reason)

    def target_group(self, arn: str) -> TargetGroup:
        with self._group_lock:
            group = self.groups.get(arn)
            if group is None:
                found = self.client("elbv2").describe_target_groups(TargetGroupArns=[arn])
                check = HealthCheck.of(found["TargetGroups"][0])

                def report(target: Any, arn: str = arn) -> None:
                    self.log(
                        f"target {target.id}:{target.port} in {arn.rsplit('/', 2)[-2]}: "
                        f"{target.state}" + (f" ({target.reason})" if target.reason else "")
                    )
                    moto_state.set_target_health(
                        self.account,
                        self.region,
                        arn,
                        target.id,
                        target.state,
                        target.reason,
                        target.description,
                    )
                    self.wake("tasks")

                group = TargetGroup(arn, check, self.timings.scale, report)
                group.start()
                self.groups[arn] = group
            return group

    def deregistration_delay(self, arn: str) -> float:
        try:
            attributes = self.client("elbv2").describe_target_group_attributes(TargetGroupArn=arn)
        except Exception:  # the group is gone: nothing to drain from
            return 0.0
        found = {a["Key"]: a["Value"] for a in attributes["Attributes"]}
        return self.timings.scaled(float(found.get("deregistration_delay.timeout_seconds", 300)))

    # -- the loop's work ---------------------------------------------------------------------

    def reconcile(self) -> float:
        """Run the parts that changed, whose clocks are due, or all now and then (a sweep);
        how long until a part's clock is next due."""
        now = self.clock()
        with self._dirty_lock:
            dirty, self._dirty = self._dirty, set()
        sweep = now >= self._next_sweep
        if sweep:
            self._next_sweep = now + SWEEP_EVERY
        ran: set[str] = set()
        for part in self.parts:
            if self.stopped.is_set():  # a stopping sandbox does not wait for a whole pass
                return 0.0
            due = self._dues.get(part.name)
            if sweep or part.name in dirty or (due is not None and due <= now):
                self._guard(type(part).__name__, part.reconcile)
                ran.add(part.name)
        dues: dict[str, float] = {}
        for part in self.parts:
            said = part.next_due()
            kept = None if part.name in ran else self._dues.get(part.name)
            known = [d for d in (said, kept) if d is not None]
            if known:
                dues[part.name] = min(known)
        self._dues = dues
        return max(0.0, min([*dues.values(), self._next_sweep]) - self.clock())

    def _guard(self, what: str, work: Callable[[], None]) -> None:
        try:
            work()
        except Exception as exc:  # one part's trouble must not stop the others
            log.exception("%s: %s", what, exc)
            self.log(f"{what}: {type(exc).__name__}: {exc}")

    def pids(self) -> list[int]:
        found = []
        for part in (self.services, self.databases):
            if part is not None:
                found += part.pids()
        return found

    def close(self) -> None:
        for part in (self.services, self.load_balancers, self.databases):
            if part is not None:
                with contextlib.suppress(Exception):
                    part.close()
        for group in self.groups.values():
            group.stop()


class DataPlane:
    """The reconcile loop, on one thread, for every watched account it has heard of."""

    def __init__(
        self,
        endpoint_url: str,
        *,
        parts: Iterable[str] = PARTS,
        timings: Timings | None = None,
        folder: Path | None = None,
        announce: Callable[[str], None] | None = None,
        on_listeners: Callable[[dict[str, str]], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        templates: Iterable[Template] = (),
        postgres_home: ServerHome | None = None,
    ) -> None:
        self.endpoint_url = endpoint_url
        self.clock = clock
        self.parts = frozenset(parts)
        self.timings = timings or Timings()
        self.folder = folder or Path(tempfile.mkdtemp(prefix="runbook-sandbox-"))
        self.folder.mkdir(parents=True, exist_ok=True)
        self._announce = announce
        self._on_listeners = on_listeners
        self.images = Images(self.folder / "images")
        self.stopped = threading.Event()
        self._wake = threading.Event()
        self._worlds: dict[tuple[str, str], World] = {}
        self._lock = threading.Lock()
        # Templates started before this plane (runbook.sandbox.head_start): already its own.
        self._templates: dict[int, Template] = {t.major: t for t in templates}
        # Every database's data: where PostgreSQL's user reaches it (made on first use).
        self.postgres_home = postgres_home or ServerHome()
        self._thread: threading.Thread | None = None
        runs_things = bool(self.parts)
        self.block = LoopbackBlock() if runs_things else None  # type: ignore[assignment]
        self.ca = CertificateFiles(self.folder / "ca") if runs_things else None  # type: ignore[assignment]
        self.network = Network() if "database" in self.parts else None  # type: ignore[assignment]
        self.python_bin = python_shim(self.folder / "bin", sys.executable)
        moto_state.install()

    def start(self) -> DataPlane:
        if "database" in self.parts:
            self.template(DEFAULT_MAJOR).prepare_in_background()
        self._thread = threading.Thread(target=self._run, name="dataplane", daemon=True)
        self._thread.start()
        return self

    # -- who it works for ----------------------------------------------------------------------

    def watch(self, account: str = "*") -> None:
        """Run the data plane for this account ("*": every account that makes a call)."""
        moto_state.watch(account, set(self.parts))

    def changed(self, account: str, region: str, service: str = "") -> None:
        """A call reached the emulator for this account and region: look again (only at
        the part the service concerns; a call to IAM or EC2 changes nothing here)."""
        if not moto_state.watches(account, "tasks"):
            return
        world = self._world(account, region)
        if not service:  # not a signed AWS call: look at everything
            world.wake()
        elif service in PART_OF_SERVICE:
            world.wake(PART_OF_SERVICE[service])

    def wake(self) -> None:
        self._wake.set()

    def _world(self, account: str, region: str) -> World:
        with self._lock:
            world = self._worlds.get((account, region))
            if world is None:
                world = self._worlds[(account, region)] = World(self, account, region)
            return world

    def warm_up(self, region: str = "us-east-1") -> None:
        """moto builds an account's backends on first use (about a second for EC2's default
        VPC, two for IAM's managed policies): do it now for the default account, while the
        command line is still starting. Through the world the data plane will use, so the
        clients its tasks and databases need are made by then too."""
        watched = moto_state.watches(DEFAULT_ACCOUNT, "tasks")
        world = (
            self._world(DEFAULT_ACCOUNT, region)
            if watched
            else World(self, DEFAULT_ACCOUNT, region)
        )
        for service, call in WARM_UP:
            with contextlib.suppress(Exception):
                getattr(world.client(service), call)()

    def template(self, major: int) -> Template:
        with self._lock:
            if major not in self._templates:
                self._templates[major] = Template(self.postgres_home, major)
            return self._templates[major]

    # -- what it tells ---------------------------------------------------------------------------

    def log(self, message: str) -> None:
        log.info(message)
        if self._announce:
            self._announce(message)

    def local_urls(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for world in self._snapshot():
            if world.load_balancers:
                found.update(world.load_balancers.urls())
        return found

    def local_url(self, dns_name: str) -> str:
        """The local listener for a load balancer's DNS name; LookupError if it has none."""
        found = self.local_urls().get(dns_name)
        if not found:
            raise LookupError(f"the sandbox has no listener for {dns_name} (yet)")
        return found

    def listeners_changed(self) -> None:
        if self._on_listeners:
            self._on_listeners(self.local_urls())

    def pids(self) -> list[int]:
        return [pid for world in self._snapshot() for pid in world.pids()]

    def _snapshot(self) -> list[World]:
        with self._lock:
            return list(self._worlds.values())

    # -- the loop ------------------------------------------------------------------------------

    def _run(self) -> None:
        while not self.stopped.is_set():
            self._wake.clear()
            waits = [world.reconcile() for world in self._snapshot()]
            # Until a clock is due or something changes (a call, an exit, a health check).
            self._wake.wait(max(MIN_WAIT, min([*waits, SWEEP_EVERY])))

    def stop(self, *, remove: bool = True) -> None:
        """Stop every task, listener and database, and (by default) remove their data."""
        self.stopped.set()
        self._wake.set()
        with self._lock:
            templates = list(self._templates.values())
        for template in templates:
            template.cancel()
        if self._thread is not None:
            self._thread.join(30)
        for world in self._snapshot():
            world.close()
        if self.network is not None:
            self.network.close()
        if self.block is not None:
            self.block.close()
        self.postgres_home.remove()  # the servers are stopped: their data goes with them
        if remove:
            time.sleep(0)  # let closing sockets settle before the folder goes
            shutil.rmtree(self.folder, ignore_errors=True)
