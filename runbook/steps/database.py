"""Section IV: RDS PostgreSQL, private, encrypted, its master password kept in Secrets Manager."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from runbook.aws import Aws
from runbook.plan import Action, ApiCall, Ref, Secret, Wait, tags
from runbook.resources import db_instance, db_snapshot
from runbook.resources import secret as secret_kind
from runbook.settings import Settings
from runbook.steps.base import Observed, Resource, Step, adopt, missing_on, tag_check
from runbook.steps.security_groups import group_id

FAILED_STATES = {
    "failed",
    "incompatible-parameters",
    "incompatible-restore",
    "storage-full",
    "inaccessible-encryption-credentials",
    "incompatible-network",
}


# RDS keeps events for 14 days; DescribeEvents returns the last hour unless asked for more.
EVENT_MINUTES = 14 * 24 * 60


def failure_events(aws: Aws, identifier: str, limit: int = 3) -> list[str]:
    """Why RDS says the instance failed, newest first: its failure events (DescribeEvents),
    read as on AWS. Explaining must not hide the failure: a refused look says nothing."""
    try:
        events = aws.call(
            "rds",
            "describe_events",
            SourceIdentifier=identifier,
            SourceType="db-instance",
            EventCategories=["failure"],
            Duration=EVENT_MINUTES,
        )["Events"]
    except Exception:
        return []
    failures = [e for e in events if "failure" in e.get("EventCategories", ["failure"])]
    failures.sort(key=lambda e: e.get("Date") or datetime.min.replace(tzinfo=UTC), reverse=True)
    return [f"RDS event{_when(e)}: {e.get('Message', '')}" for e in failures[:limit]]


def _when(event: dict[str, Any]) -> str:
    date = event.get("Date")
    return f" {date.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC" if isinstance(date, datetime) else ""


def keys(s: Settings) -> dict[str, str]:
    ident = s.database.identifier
    return {
        "arn": f"{ident}.DBInstanceArn",
        "host": f"{ident}.Endpoint.Address",
        "port": f"{ident}.Endpoint.Port",
        "secret": f"{ident}.MasterUserSecret.SecretArn",
    }


def own_secret_name(s: Settings) -> str:
    return f"{s.deployment.name}/db-master-password"


def _instance_wait(
    s: Settings, section: str, to: str, until: Callable[[dict[str, Any]], bool | str]
) -> Wait:
    """Poll the instance until `until` says so; it yields the endpoint the task needs."""
    k = keys(s)
    return Wait(
        "rds",
        "describe_db_instances",
        {"DBInstanceIdentifier": s.database.identifier},
        f"database {s.database.identifier} {to}",
        until=until,
        section=section,
        interval=15,
        timeout=2400,
        captures={
            k["host"]: "DBInstances.0.Endpoint.Address",
            k["port"]: "DBInstances.0.Endpoint.Port",
        },
    )


def database_available(s: Settings, section: str) -> Wait:
    """Wait for the instance; it yields the endpoint the task definition needs."""

    def until(r: dict[str, Any]) -> bool | str:
        status = r["DBInstances"][0]["DBInstanceStatus"]
        if status in FAILED_STATES:
            return f"the database is {status}"
        return status == "available"

    return _instance_wait(s, section, "to be available", until)


def _snapshot_exists(aws: Aws, name: str) -> bool:
    return (
        missing_on(
            db_snapshot.NOT_FOUND,
            lambda: aws.call("rds", "describe_db_snapshots", DBSnapshotIdentifier=name),
        )
        is not None
    )


def in_place_changes(db: dict[str, Any], s: Settings) -> dict[str, Any]:
    """What RDS changes on the existing instance: its class, storage (it only grows), and
    deletion protection when the settings turn it on (a deploy never turns it off)."""
    d, changes = s.database, {}
    if db.get("DBInstanceClass") != d.instance_class:
        changes["DBInstanceClass"] = d.instance_class
    if d.allocated_storage > db.get("AllocatedStorage", d.allocated_storage):
        changes["AllocatedStorage"] = d.allocated_storage
    if d.deletion_protection and not db.get("DeletionProtection", False):
        changes["DeletionProtection"] = True
    return changes


def _modify(s: Settings, changes: dict[str, Any], section: str) -> ApiCall:
    shown = ", ".join(f"{k.removeprefix('DBInstance')} {v}" for k, v in changes.items())
    # Deletion protection alone changes no server: no outage.
    outage = set(changes) - {"DeletionProtection"}
    return ApiCall(
        "rds",
        "modify_db_instance",
        # Without ApplyImmediately the change waits for the next maintenance window; with
        # it, "an outage occurs during the change" (RDS API Reference, ModifyDBInstance).
        {"DBInstanceIdentifier": s.database.identifier, **changes, "ApplyImmediately": True},
        f"change {s.database.identifier} in place: {shown}"
        + (" (the database is briefly unavailable while RDS applies it)" if outage else ""),
        section,
        retry_on=("InvalidDBInstanceState",),
    )


def database_modified(s: Settings, section: str) -> Wait:
    """Until the change is made: right after the call RDS may still say "available"."""

    def until(r: dict[str, Any]) -> bool | str:
        db = r["DBInstances"][0]
        if db["DBInstanceStatus"] in FAILED_STATES:
            return f"the database is {db['DBInstanceStatus']}"
        return (
            db["DBInstanceStatus"] == "available"
            and not db.get("PendingModifiedValues")
            and not in_place_changes(db, s)
        )

    return _instance_wait(s, section, "to take the change", until)


class DatabaseStep(Step):
    number = "IV"
    key = "database"
    title = "RDS PostgreSQL"
    explanation = (
        "A PostgreSQL database on RDS, not publicly accessible, storage encrypted, behind the "
        "db security group. The master password is generated by RDS and kept in Secrets "
        "Manager: nobody sees it, and the task receives it as a secret, not a plain variable. "
        "The guide's db.t2.micro cannot run current PostgreSQL versions: preflight proposes "
        "db.t4g.micro. The app creates its own schema when it starts."
    )

    def discover(self, aws: Aws, s: Settings, known: Mapping[str, Any]) -> Observed:
        seen, k = Observed(), keys(s)
        got = missing_on(
            db_instance.NOT_FOUND,
            lambda: aws.call(
                "rds", "describe_db_instances", DBInstanceIdentifier=s.database.identifier
            ),
        )
        db = got["DBInstances"][0] if got else None
        if db:
            seen.found["db"] = db
            seen.found["final_snapshot"] = db_snapshot.free_name(
                s.deployment.name,
                datetime.now(UTC).date(),
                lambda name: _snapshot_exists(aws, name),
            )
            seen.known[k["arn"]] = db["DBInstanceArn"]
            if db.get("Endpoint", {}).get("Address") and db["DBInstanceStatus"] == "available":
                seen.known[k["host"]] = db["Endpoint"]["Address"]
                seen.known[k["port"]] = db["Endpoint"]["Port"]
            if db.get("MasterUserSecret"):
                seen.known[k["secret"]] = db["MasterUserSecret"]["SecretArn"]
        # Our own secret exists only with a password of the person's own (or a hand-made DB).
        if s.master_password is not None or (db and not db.get("MasterUserSecret")):
            secret = missing_on(
                secret_kind.NOT_FOUND,
                lambda: aws.call("secretsmanager", "describe_secret", SecretId=own_secret_name(s)),
            )
            if secret:
                seen.found["secret"] = secret
                seen.known[k["secret"]] = secret["ARN"]
        failed = bool(db) and db["DBInstanceStatus"] in FAILED_STATES
        seen.resources.append(
            Resource.seen(
                db_instance.NAME,
                s.database.identifier,
                db,
                "DBInstanceArn",
                tag_check(s, "TagList"),
                state=lambda found: found["DBInstanceStatus"],
                reason=next(iter(failure_events(aws, s.database.identifier, 1)), "")
                if failed
                else "",
            )
        )
        if "secret" in seen.found:
            secret = seen.found["secret"]
            seen.resources.append(
                Resource.seen(
                    secret_kind.NAME, own_secret_name(s), secret, "ARN", tag_check(s, "Tags")
                )
            )
        return seen

    def plan(self, s: Settings, seen: Observed | None) -> list[Action]:
        d, k, deployment = s.database, keys(s), s.deployment.name
        found = seen.found if seen else {}
        db = found.get("db")
        actions: list[Action] = []
        if db is None:
            password: dict[str, Any] = {"ManageMasterUserPassword": True}
            if s.master_password is not None:
                # A password of the person's own: we keep it in Secrets Manager for the task.
                password = {"MasterUserPassword": Secret(s.master_password)}
                if "secret" not in found:
                    actions.append(
                        ApiCall(
                            "secretsmanager",
                            "create_secret",
                            {
                                "Name": own_secret_name(s),
                                "Description": f"{deployment}: the database master password",
                                "SecretString": Secret(
                                    json.dumps(
                                        {
                                            "username": d.master_username,
                                            "password": s.master_password,
                                        }
                                    )
                                ),
                                "Tags": tags(deployment),
                            },
                            "keep the database password in Secrets Manager for the task",
                            self.number,
                            captures={k["secret"]: "ARN"},
                        )
                    )
            actions.append(
                ApiCall(
                    "rds",
                    "create_db_instance",
                    {
                        "DBInstanceIdentifier": d.identifier,
                        "DBInstanceClass": d.instance_class,
                        "Engine": "postgres",
                        "EngineVersion": d.engine_version,
                        "DBName": d.db_name,
                        "MasterUsername": d.master_username,
                        **password,
                        "AllocatedStorage": d.allocated_storage,
                        "StorageType": "gp3",
                        "StorageEncrypted": True,
                        "PubliclyAccessible": False,
                        "MultiAZ": False,
                        "VpcSecurityGroupIds": [group_id(s.security_groups.db_sg)],
                        "Port": s.security_groups.db_port,
                        "BackupRetentionPeriod": 7,
                        "CopyTagsToSnapshot": True,
                        "DeletionProtection": d.deletion_protection,
                        "Tags": tags(deployment, d.identifier),
                    },
                    f"create {d.identifier}: PostgreSQL {d.engine_version} on {d.instance_class}, "
                    "private, encrypted"
                    + ("" if s.master_password else ", password generated and kept by RDS"),
                    self.number,
                    captures={k["arn"]: "DBInstance.DBInstanceArn"}
                    | (
                        {}
                        if s.master_password
                        else {k["secret"]: "DBInstance.MasterUserSecret.SecretArn"}
                    ),
                )
            )
        else:
            if seen and not seen.resources[0].ours:
                actions.append(
                    adopt(
                        "rds",
                        "add_tags_to_resource",
                        {"ResourceName": Ref(k["arn"]), "Tags": tags(deployment)},
                        "database",
                        d.identifier,
                        self.number,
                    )
                )
            changes = in_place_changes(db, s)
            if changes:
                actions += [_modify(s, changes, self.number), database_modified(s, self.number)]
        waits = any(isinstance(a, Wait) for a in actions)
        if db is None or (db["DBInstanceStatus"] != "available" and not waits):
            actions.append(database_available(s, self.number))
        return actions

    def teardown(self, s: Settings, seen: Observed) -> list[Action]:
        actions: list[Action] = []
        for r in seen.ours():
            if r.kind == db_instance.NAME:
                db = seen.found.get("db") or {}
                snapshot = seen.found.get("final_snapshot") or db_snapshot.name(
                    s.deployment.name, datetime.now(UTC).date()
                )
                actions += db_instance.delete(r.name, snapshot, self.number, db, r.state)
            else:
                actions += secret_kind.KIND.deletes(r.id, f"the secret {r.name}", self.number)
        return actions

    def output_keys(self, s: Settings) -> list[str]:
        return list(keys(s).values())
