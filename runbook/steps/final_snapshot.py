"""The database's final snapshot on destroy: its name, what destroy says, how to restore it.

A destroy keeps the data unless the person says otherwise: DeleteDBInstance takes a final
snapshot (SkipFinalSnapshot false, FinalDBSnapshotIdentifier), named after the deployment and
the day. `runbook destroy --skip-final-snapshot` deletes with no snapshot, as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from runbook.plan import Action, ApiCall
from runbook.resources import db_instance

# The snapshot's name is the database snapshot kind's own; read here by destroy and the app.
from runbook.resources.db_snapshot import free_name as free_name
from runbook.resources.db_snapshot import name as name
from runbook.resources.db_snapshot import valid as valid

# Amazon RDS pricing, backup storage beyond the free allowance (which only active instances
# get), us-east-1: USD per GB-month. Other regions differ a little.
PRICE_PER_GB_MONTH = 0.095
PRICE_REGION = "us-east-1"


def deletes(actions: Iterable[Action]) -> list[ApiCall]:
    return [a for a in actions if isinstance(a, ApiCall) and a.operation == "delete_db_instance"]


def skipping(actions: Iterable[Action]) -> list[Action]:
    """The same plan, each database deleted with no snapshot (--skip-final-snapshot)."""
    out: list[Action] = []
    for a in actions:
        if isinstance(a, ApiCall) and a.operation == "delete_db_instance":
            params = {k: v for k, v in a.params.items() if k != "FinalDBSnapshotIdentifier"}
            params |= {"SkipFinalSnapshot": True, "DeleteAutomatedBackups": True}
            why = (
                f"delete {params['DBInstanceIdentifier']} and its data, with no snapshot "
                "(--skip-final-snapshot)"
            )
            a = replace(a, params=params, why=why)
        out.append(a)
    return out


def kept(call: ApiCall) -> str:
    """The snapshot a delete keeps, or '' when it keeps none."""
    if call.params.get("SkipFinalSnapshot", False):
        return ""
    return str(call.params.get("FinalDBSnapshotIdentifier", ""))


def confirmation_line(actions: Iterable[Action]) -> str:
    """What happens to each database, one line for destroy's confirmation ('' if none): e.g.
    "the database flask-todo-db: a final snapshot flask-todo-final-2026-12-02 is kept"."""
    actions = list(actions)
    unprotected = {
        a.params["DBInstanceIdentifier"]
        for a in actions
        if isinstance(a, ApiCall)
        and a.operation == "modify_db_instance"
        and a.params.get("DeletionProtection") is False
    }
    parts = []
    for call in deletes(actions):
        ident, snapshot = call.params["DBInstanceIdentifier"], kept(call)
        part = (
            f"the database {ident}: a final snapshot {snapshot} is kept"
            if snapshot
            else f"the database {ident}: deleted with no snapshot"
        )
        if ident in unprotected:
            part += ", its deletion protection turned off first"
        parts.append(part)
    return "; ".join(parts)


def restore_command(call: ApiCall, db: Mapping[str, Any], region: str) -> str:
    """The AWS CLI command that brings the data back under the same name."""
    options = [
        "aws rds restore-db-instance-from-db-snapshot",
        f"--db-instance-identifier {call.params['DBInstanceIdentifier']}",
        f"--db-snapshot-identifier {kept(call)}",
    ]
    if db.get("DBInstanceClass"):
        options.append(f"--db-instance-class {db['DBInstanceClass']}")
    if db.get("MasterUserSecret"):
        # The secret RDS kept is deleted with the instance: a new one is made for the restore.
        options.append("--manage-master-user-password")
    options += [
        "--vpc-security-group-ids <the db security group's id>",
        "--no-publicly-accessible",
        f"--region {region}",
    ]
    return " ".join(options)


def cost(storage_gb: int) -> str:
    monthly = storage_gb * PRICE_PER_GB_MONTH
    return (
        f"keeping it costs about ${monthly:.2f} a month (an estimate: at most its "
        f"{storage_gb} GB of allocated storage at RDS's backup storage price, "
        f"${PRICE_PER_GB_MONTH} per GB-month in {PRICE_REGION}; other regions differ a little)"
    )


def after_destroy(
    actions: Iterable[Action], region: str, described: Mapping[str, Mapping[str, Any]]
) -> list[str]:
    """For each snapshot kept: how to restore it, and what keeping it costs.
    described: each instance as DescribeDBInstances gave it, by identifier."""
    lines = []
    for call in deletes(actions):
        snapshot = kept(call)
        if not snapshot:
            continue
        ident = call.params["DBInstanceIdentifier"]
        db = described.get(ident, {})
        lines.append(
            f"The database {ident} is kept as the snapshot {snapshot}; "
            f"{cost(int(db.get('AllocatedStorage') or 20))}. Delete it when you no longer need "
            f"it: aws rds delete-db-snapshot --db-snapshot-identifier {snapshot} "
            f"--region {region}"
        )
        lines.append(
            "To restore it, make the db security group again (section I), then, before "
            f"section IV runs: {restore_command(call, db, region)} (the next deploy finds "
            "the restored database by its name and uses it)."
        )
    return lines


def described(status: Any) -> dict[str, Mapping[str, Any]]:
    """Each database a destroy plan deletes, as discovery (or the tag inventory) saw it."""
    found: dict[str, Mapping[str, Any]] = {}
    for step, seen in status.sections:
        db = seen.found.get("db") if step.key == "database" else None
        if db:
            found[db["DBInstanceIdentifier"]] = db
    for t in status.leftovers:
        if t.kind == db_instance.NAME:
            found[t.name] = {"DBInstanceClass": t.detail.get("instance_class", "")}
    return found
