"""RDS DB instances: section IV's PostgreSQL database."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from runbook.aws import Aws
from runbook.plan import Action, ApiCall, Wait
from runbook.recovery.answers import Answer, Found
from runbook.resources import db_snapshot
from runbook.resources.kind import Create, Kind, Tagged, TagSearch, adopts, missing_on
from runbook.resources.template import Template, cfn_tags, logical_id
from runbook.rules.combinations import ENGINE_VERSION, INSTANCE_CLASS, PASSWORD_SOURCE, tag_count
from runbook.rules.common import tag_fields
from runbook.rules.core import UNKNOWN
from runbook.rules.kinds import between, by_hand, from_schema, never, pattern
from runbook.rules.names import reserved_database, reserved_user
from runbook.rules.spec import FOUND, OWN_TEXT, RDS_API, Combination, Field, Operation
from runbook.rules.spec import Found as Breaks
from runbook.rules.spec import settings_fix as fix

NAME = "database"
NOT_FOUND = ("DBInstanceNotFound", "DBInstanceNotFoundFault")
# "When a DB instance is in a failure state and has a status of failed, incompatible-restore,
# or incompatible-network, you can only delete it when you skip creation of the final
# snapshot" (RDS API Reference, DeleteDBInstance).
NO_SNAPSHOT_STATES = frozenset({"failed", "incompatible-restore", "incompatible-network"})
DELETE_API = "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DeleteDBInstance.html"


def delete(
    identifier: str, snapshot: str, section: str, db: Mapping[str, Any], state: str = ""
) -> list[Action]:
    """Delete one instance, keeping a final snapshot (destroy's --skip-final-snapshot drops it),
    after turning deletion protection off if it is on; then wait until it is gone."""
    actions: list[Action] = []
    if db.get("DeletionProtection"):
        actions.append(
            ApiCall(
                "rds",
                "modify_db_instance",
                {
                    "DBInstanceIdentifier": identifier,
                    "DeletionProtection": False,
                    "ApplyImmediately": True,
                },
                f"turn off {identifier}'s deletion protection, so that it can be deleted",
                section,
                retry_on=("InvalidDBInstanceState",),
            )
        )
    if state in NO_SNAPSHOT_STATES:
        snapshot = ""
    if state != "deleting":
        keep: dict[str, Any] = (
            {"SkipFinalSnapshot": False, "FinalDBSnapshotIdentifier": snapshot}
            if snapshot
            else {"SkipFinalSnapshot": True}
        )
        actions.append(
            ApiCall(
                "rds",
                "delete_db_instance",
                # The final snapshot keeps the data; automated backups would only cost.
                {"DBInstanceIdentifier": identifier, **keep, "DeleteAutomatedBackups": True},
                f"delete {identifier}, keeping its data as the final snapshot {snapshot}"
                if snapshot
                else f"delete {identifier} with no snapshot: RDS takes none of a {state} database",
                section,
                retry_on=("InvalidDBInstanceState",),
                done_on=NOT_FOUND,
            )
        )
    actions.append(
        Wait(
            "rds",
            "describe_db_instances",
            {"DBInstanceIdentifier": identifier},
            f"database {identifier} to be deleted"
            + (f" (its final snapshot {snapshot} is taken first)" if snapshot else ""),
            until=lambda _: False,
            section=section,
            interval=15,
            timeout=2400,
            done_on=NOT_FOUND,
        )
    )
    return actions


def find(aws: Aws, p: Mapping[str, Any]) -> Found | None:
    ident = p["DBInstanceIdentifier"]
    got = missing_on(
        NOT_FOUND, lambda: aws.call("rds", "describe_db_instances", DBInstanceIdentifier=ident)
    )
    if not got or not got["DBInstances"]:
        return None
    db = got["DBInstances"][0]
    return Found(f"database {ident}", {"DBInstance": db}, db.get("TagList"))


def tagged(aws: Aws, _deployment: str, arns: list[str]) -> Iterator[Tagged]:
    if not arns:
        return
    # "db-instance-id: Accepts DB instance identifiers and DB instance ARNs" (RDS API reference)
    dbs = aws.call(
        "rds",
        "describe_db_instances",
        Filters=[{"Name": "db-instance-id", "Values": sorted(set(arns))}],
    )["DBInstances"]
    for db in dbs:
        yield Tagged(
            NAME,
            db["DBInstanceIdentifier"],
            db["DBInstanceArn"],
            db["DBInstanceStatus"],
            detail={
                "instance_class": db.get("DBInstanceClass", ""),
                # Destroy turns it off first (after its confirmation), or RDS refuses.
                "DeletionProtection": db.get("DeletionProtection", False),
            },
        )


def leftover(t: Tagged, section: str) -> list[Action]:
    snapshot = db_snapshot.name(t.name, datetime.now(UTC).date())
    return [
        replace(a, why=f"{a.why} (ours, no longer in the settings)")
        if isinstance(a, ApiCall)
        else a
        for a in delete(t.name, snapshot, section, t.detail, t.state)
    ]


def as_cfn(t: Template, call: ApiCall) -> None:
    p = dict(call.params)
    logical = logical_id(p["DBInstanceIdentifier"])
    properties = {
        k: t.value(v)
        for k, v in p.items()
        if k not in ("Tags", "MasterUserPassword", "VpcSecurityGroupIds")
    }
    # CloudFormation takes these as strings.
    properties["AllocatedStorage"] = str(properties["AllocatedStorage"])
    properties["Port"] = str(properties["Port"])
    properties["VPCSecurityGroups"] = t.value(p["VpcSecurityGroupIds"])
    ident = p["DBInstanceIdentifier"]
    secret_key = f"{ident}.MasterUserSecret.SecretArn"
    if "MasterUserPassword" in p:
        # Read from the secret at deploy time (a dynamic reference): no password in the text.
        variable = t.sources[secret_key].variable()
        properties["MasterUserPassword"] = {
            "Fn::Sub": "{{resolve:secretsmanager:" + variable + ":SecretString:password}}"
        }
    else:
        t.notes.append(
            "The database password is generated by RDS and kept in Secrets Manager "
            "(ManageMasterUserPassword): nobody sees it, and the template holds none."
        )
    properties["Tags"] = cfn_tags(p["Tags"])
    t.add(logical, "AWS::RDS::DBInstance", properties, name=ident)
    # As `runbook destroy`: deleting the stack, or a change that replaces the instance, keeps
    # the data as a snapshot first (DeletionProtection, a setting, is already a property).
    t.resources[logical]["DeletionPolicy"] = "Snapshot"
    t.resources[logical]["UpdateReplacePolicy"] = "Snapshot"
    t.notes.append(
        "Deleting the stack keeps the database as a snapshot (DeletionPolicy: Snapshot), as "
        "`runbook destroy` keeps a final snapshot."
    )
    t.provides(f"{ident}.DBInstanceArn", logical, "DBInstanceArn")
    t.provides(f"{ident}.Endpoint.Address", logical, "Endpoint.Address")
    t.provides(f"{ident}.Endpoint.Port", logical, "Endpoint.Port")
    if "MasterUserPassword" not in p:
        t.provides(secret_key, logical, "MasterUserSecret.SecretArn")


# -- AWS's rules -----------------------------------------------------------------------------

SNAPSHOT_ID = (
    pattern(
        r"[A-Za-z](?:-?[A-Za-z0-9]){0,254}",
        "must be 1 to 255 letters, digits or hyphens, start with a letter, and neither end with "
        "a hyphen nor hold two in a row",
        DELETE_API,
    ),
)


def _snapshot_choice(params: dict[str, Any]) -> Breaks:
    skip, name = params.get("SkipFinalSnapshot", False), params.get("FinalDBSnapshotIdentifier")
    if skip is UNKNOWN or name is UNKNOWN:
        return
    if skip is True and name:
        yield "FinalDBSnapshotIdentifier", name, "cannot be given with SkipFinalSnapshot true"
    if skip is not True and not name:
        yield "FinalDBSnapshotIdentifier", name, "is required unless SkipFinalSnapshot is true"


FINAL_SNAPSHOT = Combination(
    by_hand(
        "a final snapshot is named when, and only when, it is not skipped",
        DELETE_API,
        lambda _: True,
    ),
    _snapshot_choice,
    OWN_TEXT,
)


def rules() -> dict[tuple[str, str], Operation]:
    db = "AWS::RDS::DBInstance"
    ident = from_schema(db, "DBInstanceIdentifier")
    identifier = Field("DBInstanceIdentifier", ident, fix("database.identifier"))
    storage = Field(
        "AllocatedStorage",
        (between(20, 65536, RDS_API, " GiB (gp3, PostgreSQL)"),),
        fix("database.allocated_storage"),
    )
    return {
        ("rds", "create_db_instance"): Operation(
            (
                identifier,
                Field(
                    "DBName",
                    (
                        pattern(
                            r"[A-Za-z][A-Za-z0-9_]{0,62}",
                            "PostgreSQL: 1-63 letters, digits or underscores, from a letter",
                            RDS_API,
                        ),
                        never(
                            reserved_database,
                            "a word PostgreSQL reserves or a database it already has",
                            RDS_API,
                        ),
                    ),
                    fix("database.db_name"),
                ),
                Field(
                    "MasterUsername",
                    (
                        *from_schema(db, "MasterUsername"),
                        pattern(
                            r"[A-Za-z][A-Za-z0-9_]{0,15}",
                            "1-16 letters, digits or underscores, from a letter",
                            RDS_API,
                        ),
                        never(
                            reserved_user,
                            "a word PostgreSQL reserves or a role RDS keeps (rdsadmin, rds_*)",
                            RDS_API,
                        ),
                    ),
                    fix("database.master_username"),
                ),
                Field(
                    "MasterUserPassword",
                    (
                        pattern(
                            r"[\x21-\x7e]{8,128}",
                            "PostgreSQL: 8-128 printable ASCII characters, no spaces",
                            RDS_API,
                        ),
                        never(
                            lambda v: any(c in v for c in '/"@'),
                            'must not contain / " or @',
                            RDS_API,
                        ),
                    ),
                    "Choose another RUNBOOK_DB_PASSWORD.",
                ),
                storage,
                Field(
                    "Port",
                    (between(1150, 65535, RDS_API, " (PostgreSQL on RDS)"),),
                    fix("security_groups.db_port"),
                ),
                Field("BackupRetentionPeriod", (between(0, 35, RDS_API, " days"),), OWN_TEXT),
                Field(
                    "StorageType",
                    (
                        pattern(
                            r"gp2|gp3|io1|io2|standard",
                            "must be gp2, gp3, io1, io2 or standard",
                            RDS_API,
                        ),
                    ),
                    OWN_TEXT,
                ),
                *tag_fields(db),
            ),
            (INSTANCE_CLASS, ENGINE_VERSION, PASSWORD_SOURCE, tag_count("Tags")),
        ),
        # In place (a changed class or more storage). The class-per-engine check needs the
        # engine version, which this call does not carry: preflight checks the class first.
        ("rds", "modify_db_instance"): Operation(
            (
                identifier,
                Field(
                    "DBInstanceClass",
                    (
                        pattern(
                            r"db\.[a-z0-9]+\.[a-z0-9]+",
                            "must be an RDS instance class such as db.t4g.micro",
                            "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBInstance.html",
                        ),
                    ),
                    fix("database.instance_class"),
                ),
                storage,
            )
        ),
        ("rds", "add_tags_to_resource"): Operation(tag_fields(db), (tag_count("Tags"),)),
        ("rds", "describe_db_instances"): Operation((identifier,)),
        ("rds", "delete_db_instance"): Operation(
            (
                Field("DBInstanceIdentifier", ident, FOUND),
                Field("FinalDBSnapshotIdentifier", SNAPSHOT_ID, OWN_TEXT),
            ),
            (FINAL_SNAPSHOT,),
        ),
    }


KIND = Kind(
    NAME,
    section="IV",
    not_found=NOT_FOUND,
    gone=(Answer("InvalidDBInstanceState", "already being deleted"),),
    create=Create("rds", "create_db_instance", as_cfn, adopts("DBInstanceAlreadyExists", find)),
    rules=rules,
    # Deletion protection off, then the delete (same rank: the order they came in).
    delete_order={"modify_db_instance": 9},
    deleted_by={("rds", "delete_db_instance"): 9},
    inventory=TagSearch("databases", tagged, arn_type="db", tagging_service="rds"),
    leftover=leftover,
)
