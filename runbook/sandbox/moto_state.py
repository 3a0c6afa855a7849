"""Every touch of moto's internals: the state AWS's data plane reports, written where moto keeps it.

moto answers the control plane's APIs but has no API for what a data plane reports back: a
task's status, a service's counts, events and deployments, a target's health, a database's or
a load balancer's status. The sandbox writes those into moto's models here, and only here;
tests/sandbox/test_moto_state.py fails loudly if moto changes shape.

Hooks act only for accounts a data plane watches (`watch`), so an emulator shared with tests
that run no data plane behaves as plain moto.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import string
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from moto.ecs.models import EC2ContainerServiceBackend, ecs_backends
from moto.ecs.responses import EC2ContainerServiceResponse
from moto.elbv2.models import ELBv2Backend, FakeHealthStatus, FakeLoadBalancer, elbv2_backends
from moto.moto_api._internal import mock_random
from moto.rds.models import Event, MasterUserSecret, RDSBackend, rds_backends
from moto.secretsmanager.models import SecretsManagerBackend

from runbook.sandbox.once import once

# account id -> the parts watching it ("database", "load_balancer", "tasks", ...); "*" for all.
_watched: dict[str, set[str]] = {}
_lock = threading.RLock()


def watch(account: str, parts: set[str]) -> None:
    """Let the hooks act for this account ("*": every account) on behalf of these parts."""
    install()
    with _lock:
        _watched[account] = set(parts)


def unwatch(account: str) -> None:
    with _lock:
        _watched.pop(account, None)


def watches(account: str, part: str) -> bool:
    with _lock:
        parts = _watched.get(account, _watched.get("*", set()))
        return part in parts


def now() -> datetime:
    return datetime.now(UTC)


# -- hooks: what must be true the moment a create/update call answers ------------------------


@once
def install() -> None:
    """Wrap the few moto calls whose answer must already show a data plane at work."""
    FakeLoadBalancer.load_balancer_state = property(_load_balancer_state)  # type: ignore[method-assign,assignment]
    _wrap(RDSBackend, "create_db_instance", _after_create_db_instance)
    _generate_master_password()
    _rotate_managed_master_secrets()
    _wrap(ELBv2Backend, "create_load_balancer", _after_create_load_balancer)
    _wrap(EC2ContainerServiceResponse, "create_service", _after_create_service, pass_self=True)
    _wrap(EC2ContainerServiceResponse, "update_service", _after_update_service, pass_self=True)
    _wrap(EC2ContainerServiceResponse, "delete_service", _after_delete_service, pass_self=True)
    _wrap(EC2ContainerServiceBackend, "run_task", _after_run_task)


def _wrap(cls: type, name: str, after: Callable[..., None], *, pass_self: bool = False) -> None:
    original = getattr(cls, name)

    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        before = _before_update_service(self) if name == "update_service" else None
        result = original(self, *args, **kwargs)
        after(self, result, before)
        return result

    wrapper.__wrapped__ = original  # type: ignore[attr-defined]
    setattr(cls, name, wrapper)


def _after_run_task(backend: Any, tasks: Any, _: Any) -> None:
    # moto steps a new task on towards STOPPED as it is described; here the data plane moves
    # it, from PROVISIONING, once it has seen it (within moments of RunTask).
    if watches(backend.account_id, "tasks"):
        for t in tasks:
            t._transitions = []
            t.last_status = "PROVISIONING"


def _after_create_db_instance(backend: Any, db: Any, _: Any) -> None:
    # A new instance is `creating` until its local PostgreSQL answers (RDS: minutes).
    if watches(backend.account_id, "database"):
        db.status = "creating"


# RDS's rules for a master password: printable ASCII but '/', '"', '@' and space.
PASSWORD_ALPHABET = "".join(
    c for c in string.ascii_letters + string.digits + string.punctuation if c not in '/"@'
)


def master_password() -> str:
    """A fresh master password, as RDS generates one for its managed secret."""
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(32))


def _generate_master_password() -> None:
    # moto fills every managed master secret with one fixed password ("P@55w0rd!") and the
    # user "admin": any local user could log in to a sandbox database with it. As RDS does,
    # the secret holds the instance's master user and a password made for it alone.
    original = MasterUserSecret._generate_secret_string

    def generate(self: Any) -> str:
        resource = self.resource
        if not watches(resource.backend.account_id, "database"):
            return original(self)
        return json.dumps({"username": resource.master_username, "password": master_password()})

    generate.__wrapped__ = original  # type: ignore[attr-defined]
    MasterUserSecret._generate_secret_string = generate  # type: ignore[method-assign]


def _rotate_managed_master_secrets() -> None:
    # moto's RotateSecret without a rotation function makes a new AWSCURRENT version with no
    # value at all. RDS rotates the secret it manages itself: a new password for the master
    # user, in a new version (the old one AWSPREVIOUS); the data plane then gives the local
    # PostgreSQL the same password, as RDS changes the instance's. (ModifyDBInstance's
    # RotateMasterUserPassword comes here too, through moto's MasterUserSecret.)
    original = SecretsManagerBackend.rotate_secret

    def rotate(
        self: Any,
        secret_id: str,
        client_request_token: str | None = None,
        rotation_lambda_arn: str | None = None,
        rotation_rules: dict[str, Any] | None = None,
        rotate_immediately: bool = True,
    ) -> Any:
        secret = self.secrets[secret_id] if self._is_valid_identifier(secret_id) else None
        managed = (
            secret is not None
            and not secret.is_deleted()
            and getattr(secret, "owning_service", None) == "rds"
            and watches(self.account_id, "database")
        )
        if not managed:
            return original(
                self,
                secret_id,
                client_request_token,
                rotation_lambda_arn,
                rotation_rules,
                rotate_immediately,
            )
        days = (rotation_rules or {}).get("AutomaticallyAfterDays")
        if days:
            secret.auto_rotate_after_days = days
        secret.rotation_enabled = True
        if rotate_immediately:
            body = json.loads(secret.secret_string)
            body["password"] = master_password()
            version = client_request_token or str(uuid.uuid4())
            self.put_secret_value(secret_id, json.dumps(body), None, version, ["AWSCURRENT"])
            secret.last_rotation_date = int(time.time())
        return secret.to_short_dict()

    rotate.__wrapped__ = original  # type: ignore[attr-defined]
    SecretsManagerBackend.rotate_secret = rotate  # type: ignore[method-assign]


def _after_create_load_balancer(backend: Any, lb: Any, _: Any) -> None:
    # moto activates a load balancer on its first describe; ours is active once it listens.
    if watches(backend.account_id, "load_balancer"):
        lb.state = "provisioning"
        lb.activate = lambda: None


def _service_from_response(response: Any) -> Any:
    params = response._get_params()
    cluster = params.get("cluster", "default").split("/")[-1]
    name = (params.get("serviceName") or params.get("service", "")).split("/")[-1]
    return response.ecs_backend._get_service(cluster, name)


def _keep_what_describe_drops(service: Any, params: dict[str, Any]) -> None:
    # moto drops these from describe_services; the data plane needs them, as AWS shows them.
    if params.get("deploymentConfiguration") is not None:
        service.deployment_configuration = params["deploymentConfiguration"]
    if params.get("healthCheckGracePeriodSeconds") is not None:
        service.health_check_grace_period_seconds = int(params["healthCheckGracePeriodSeconds"])


def _after_create_service(response: Any, _result: Any, _: Any) -> None:
    if not watches(response.current_account, "tasks"):
        return
    service = _service_from_response(response)
    _keep_what_describe_drops(service, response._get_params())
    # No task runs yet: counts are the data plane's to report (moto fakes them by env var).
    service.running_count = service.pending_count = 0
    for deployment in service.deployments:
        deployment.update(
            runningCount=0,
            pendingCount=0,
            failedTasks=0,
            rolloutState="IN_PROGRESS",
            rolloutStateReason="ECS deployment detected.",
        )


def _before_update_service(response: Any) -> dict[str, Any] | None:
    if not watches(response.current_account, "tasks"):
        return None
    try:
        service = _service_from_response(response)
    except Exception:  # moto answers the missing service itself
        return None
    return {
        "task_definition": service.task_definition,
        "running": service.running_count,
        "pending": service.pending_count,
    }


def _after_update_service(response: Any, _result: Any, before: dict[str, Any] | None) -> None:
    if before is None:
        return
    params = response._get_params()
    service = _service_from_response(response)
    _keep_what_describe_drops(service, params)
    # moto sets running = desired on update; the running tasks are what they were.
    service.running_count, service.pending_count = before["running"], before["pending"]
    td = service.task_definition
    if not td.startswith("arn:"):
        td = response.ecs_backend.describe_task_definition(td).arn
        service.task_definition = td
    if td != before["task_definition"] or params.get("forceNewDeployment"):
        # As ECS: a new PRIMARY deployment; the one before keeps running as ACTIVE.
        start_deployment(service, td)
    elif service.deployments:
        service.deployments[0]["desiredCount"] = service.desired_count


def _after_delete_service(response: Any, _result: Any, _: Any) -> None:
    # As ECS: DRAINING while its tasks stop; the data plane makes it INACTIVE after.
    if not watches(response.current_account, "tasks"):
        return
    with contextlib.suppress(Exception):
        _service_from_response(response).status = "DRAINING"


def set_service_status(svc: Any, status: str) -> None:
    svc.status = status


def start_deployment(service: Any, task_definition: str) -> dict[str, Any]:
    """A new PRIMARY deployment of this task definition (create, update or rollback)."""
    for deployment in service.deployments:
        if deployment["status"] == "PRIMARY":
            deployment["status"] = "ACTIVE"
            deployment["updatedAt"] = now()
    template = service.deployments[0] if service.deployments else {}
    deployment = {
        **template,
        "id": f"ecs-svc/{mock_random.randint(10**18, 10**19 - 1)}",
        "status": "PRIMARY",
        "taskDefinition": task_definition,
        "desiredCount": service.desired_count,
        "pendingCount": 0,
        "runningCount": 0,
        "failedTasks": 0,
        "createdAt": now(),
        "updatedAt": now(),
        "rolloutState": "IN_PROGRESS",
        "rolloutStateReason": "ECS deployment detected.",
    }
    service.deployments.insert(0, deployment)
    return deployment


# -- reading and writing models --------------------------------------------------------------


@contextmanager
def locked() -> Iterator[None]:
    with _lock:
        yield


class _Gone:
    """A service (or its cluster) the emulator no longer has: writes to it go nowhere."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.deployments: list[dict[str, Any]] = []
        self.status, self.task_definition = "INACTIVE", ""


def service(account: str, region: str, cluster: str, name: str) -> Any:
    try:
        return ecs_backends[account][region]._get_service(cluster, name)
    except Exception:  # ClusterNotFound, ServiceNotFound
        return _Gone()


def set_service_counts(svc: Any, running: int, pending: int) -> None:
    svc.running_count, svc.pending_count = running, pending


def add_service_event(svc: Any, message: str) -> None:
    """ECS keeps a service's latest events, newest first."""
    svc.events.insert(0, {"id": str(mock_random.uuid4()), "createdAt": now(), "message": message})
    del svc.events[100:]


def task(account: str, region: str, cluster: str, task_arn: str) -> Any:
    return ecs_backends[account][region].tasks[cluster][task_arn]


def adopt_task(t: Any, ip: str, group: str) -> None:
    """A task moto made through run_task, from now on moved through its states by us."""
    t._transitions = []  # moto would step it towards STOPPED on every describe
    t.last_status = "PROVISIONING"
    t.desired_status = "RUNNING"
    t.group = group
    t.created_at = now()
    t.connectivity = "CONNECTED"
    t.health_status = "UNKNOWN"
    for attachment in t.attachments:
        attachment["status"] = "PRECREATED"
        for detail in attachment["details"]:
            if detail["name"] == "privateIPv4Address":
                detail["value"] = ip  # the task's address: its own loopback "ENI"
    for container in t.containers:
        container.last_status = "PENDING"
        container.network_interfaces = [
            {
                "attachmentId": t.attachments[0]["id"] if t.attachments else "",
                "privateIpv4Address": ip,
            }
        ]


def set_task(t: Any, **fields: Any) -> None:
    """Task fields in boto3's names, snake_cased as moto's serializer reads them."""
    for key, value in fields.items():
        setattr(t, key, value)
    if fields.get("last_status") == "RUNNING":
        for attachment in t.attachments:
            attachment["status"] = "ATTACHED"
    if fields.get("last_status") == "STOPPED":
        for attachment in t.attachments:
            attachment["status"] = "DELETED"


def set_container(t: Any, **fields: Any) -> None:
    for container in t.containers:
        for key, value in fields.items():
            # moto's Container keeps exitCode camel-cased; the serializer reads that first.
            setattr(container, "exitCode" if key == "exit_code" else key, value)


def set_db_status(account: str, region: str, identifier: str, status: str) -> None:
    db = rds_backends[account][region].databases.get(identifier)
    if db is not None:
        db.status = status


def add_db_event(account: str, region: str, identifier: str, message: str, category: str) -> None:
    """An RDS event about the instance, where DescribeEvents reads them (RDS's own channel)."""
    backend = rds_backends[account][region]
    db = backend.databases.get(identifier)
    if db is None:
        return
    event = Event.__new__(Event)  # moto builds events only from its own fixed list
    event.source_identifier = db.resource_id
    event.source_type = db.event_source_type
    event.message = message
    event.event_categories = [category]
    event.source_arn = db.arn
    event.date = now()
    with _lock:
        backend.events.append(event)
        del backend.events[:-1000]  # RDS keeps 14 days; a sandbox keeps the newest


def db_master_password(account: str, region: str, identifier: str) -> str | None:
    """A password the person chose (not kept in Secrets Manager): RDS knows it, no API says it."""
    db = rds_backends[account][region].databases.get(identifier)
    return getattr(db, "_master_user_password", None) or None


def set_load_balancer_state(
    account: str, region: str, arn: str, state: str, reason: str = ""
) -> None:
    """The State describe_load_balancers answers: its Code, and (ELB's) Reason when impaired."""
    lb = elbv2_backends[account][region].load_balancers.get(arn)
    if lb is not None:
        lb.state = state
        lb.__dict__["_sandbox_reason"] = reason


def _load_balancer_state(lb: Any) -> dict[str, str]:
    reason = lb.__dict__.get("_sandbox_reason")
    return {"Code": lb.state, **({"Reason": reason} if reason else {})}


def set_target_health(
    account: str,
    region: str,
    tg_arn: str,
    target_id: str,
    state: str | None,
    reason: str = "",
    description: str = "",
) -> None:
    """What describe_target_health says of a target; None forgets it (moto's answer again)."""
    tg = elbv2_backends[account][region].target_groups.get(tg_arn)
    if tg is None:
        return
    health: dict[str, tuple[str, str, str]] = tg.__dict__.setdefault("_sandbox_health", {})
    if "health_for" not in tg.__dict__:
        original = type(tg).health_for

        def health_for(target: dict[str, Any], ec2_backend: Any) -> Any:
            known = health.get(target["Id"])
            if known is None or target["Id"] not in tg.targets:
                return original(tg, target, ec2_backend)
            port = tg.targets[target["Id"]]["Port"]
            return FakeHealthStatus(
                target["Id"],
                port,
                tg.health_check_port,
                known[0],
                known[1] or None,
                known[2] or None,
            )

        tg.health_for = health_for
    if state is None:
        health.pop(target_id, None)
    else:
        health[target_id] = (state, reason, description)
