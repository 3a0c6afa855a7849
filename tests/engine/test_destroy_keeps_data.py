"""Destroy keeps the database (a final snapshot) unless told, and leaves nothing tagged behind:
every task definition revision the deployment registered is deregistered, then deleted."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from runbook import cli
from runbook import destroy as tear_down
from runbook.aws_rules import check
from runbook.engine import Runbook
from runbook.plan import ApiCall
from runbook.resources import task_definition as revisions
from runbook.settings import Settings
from runbook.state import StateFile
from runbook.steps import final_snapshot
from runbook.steps.cluster import ecs_tags
from tests.engine import test_cli_truth as truth

DAY = date(2026, 12, 2)
# cli.main against this test's pretend account (the command-line tests' fixture).
on_emulator = truth.on_emulator
main = truth.main


def today_snapshot(deployment: str = "flask-todo") -> str:
    return final_snapshot.name(deployment, datetime.now(UTC).date())


# -- plans (pure) -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("deployment", "expected"),
    [
        ("flask-todo", "flask-todo-final-2026-12-02"),
        ("shop_api", "shop-api-final-2026-12-02"),  # no underscore in a snapshot id
        ("9lives", "db-9lives-final-2026-12-02"),  # must start with a letter
        ("a--b-", "a-b-final-2026-12-02"),  # never two hyphens in a row, none at the end
    ],
)
def test_the_final_snapshot_is_named_after_the_deployment_and_the_day(
    deployment: str, expected: str
) -> None:
    assert final_snapshot.name(deployment, DAY) == expected
    assert final_snapshot.valid(expected)


def test_a_long_name_stays_within_rdss_255_characters() -> None:
    named = final_snapshot.name("x" * 300, DAY)
    assert len(named) <= 255 and final_snapshot.valid(named)
    assert named.endswith("-final-2026-12-02")


def test_a_second_destroy_the_same_day_gets_a_name_of_its_own() -> None:
    taken = {"flask-todo-final-2026-12-02", "flask-todo-final-2026-12-02-2"}
    named = final_snapshot.free_name("flask-todo", DAY, lambda n: n in taken)
    assert named == "flask-todo-final-2026-12-02-3"


def test_the_teardown_keeps_a_final_snapshot_and_the_rules_accept_it() -> None:
    from runbook.resources.db_instance import delete as delete_instance

    delete, wait = delete_instance("flask-todo-db", "flask-todo-final-2026-12-02", "IV", {})
    assert delete.params == {
        "DBInstanceIdentifier": "flask-todo-db",
        "SkipFinalSnapshot": False,
        "FinalDBSnapshotIdentifier": "flask-todo-final-2026-12-02",
        "DeleteAutomatedBackups": True,
    }
    assert check(delete, {}) == []
    assert "final snapshot flask-todo-final-2026-12-02" in wait.what
    line = final_snapshot.confirmation_line([delete, wait])
    assert (
        line == "the database flask-todo-db: a final snapshot flask-todo-final-2026-12-02 is kept"
    )

    (skipped, _wait) = final_snapshot.skipping([delete, wait])
    assert skipped.params == {
        "DBInstanceIdentifier": "flask-todo-db",
        "SkipFinalSnapshot": True,
        "DeleteAutomatedBackups": True,
    }
    assert check(skipped, {}) == []
    assert final_snapshot.confirmation_line([skipped]) == (
        "the database flask-todo-db: deleted with no snapshot"
    )


def test_a_protected_database_has_its_protection_turned_off_first() -> None:
    from runbook.resources.db_instance import delete as delete_instance

    modify, delete, _ = delete_instance(
        "flask-todo-db", "flask-todo-final-2026-12-02", "IV", {"DeletionProtection": True}
    )
    assert (modify.operation, modify.params) == (
        "modify_db_instance",
        {
            "DBInstanceIdentifier": "flask-todo-db",
            "DeletionProtection": False,
            "ApplyImmediately": True,
        },
    )
    assert delete.operation == "delete_db_instance"
    assert final_snapshot.confirmation_line([modify, delete]).endswith(
        "is kept, its deletion protection turned off first"
    )


def test_a_failed_database_is_deleted_without_the_snapshot_rds_would_refuse() -> None:
    from runbook.resources.db_instance import delete as delete_instance

    delete, _ = delete_instance("flask-todo-db", "flask-todo-final-x", "IV", {}, "failed")
    assert delete.params["SkipFinalSnapshot"] is True
    assert "FinalDBSnapshotIdentifier" not in delete.params
    assert check(delete, {}) == []


def test_the_rules_refuse_a_snapshot_name_rds_would_refuse() -> None:
    call = ApiCall(
        "rds",
        "delete_db_instance",
        {
            "DBInstanceIdentifier": "d",
            "SkipFinalSnapshot": False,
            "FinalDBSnapshotIdentifier": "9-x",
        },
        "",
    )
    assert [r.param for r in check(call, {})] == ["FinalDBSnapshotIdentifier"]
    both = ApiCall(
        "rds",
        "delete_db_instance",
        {"DBInstanceIdentifier": "d", "SkipFinalSnapshot": True, "FinalDBSnapshotIdentifier": "x"},
        "",
    )
    assert [r.rule for r in check(both, {})] == ["cannot be given with SkipFinalSnapshot true"]


def test_deletion_protection_is_a_setting_the_create_call_carries() -> None:
    from runbook.steps.database import DatabaseStep

    s = Settings().replace("database", instance_class="db.t4g.micro")
    create = next(a for a in DatabaseStep().plan(s, None) if a.operation == "create_db_instance")
    assert create.params["DeletionProtection"] is False
    on = s.replace("database", deletion_protection=True)
    create = next(a for a in DatabaseStep().plan(on, None) if a.operation == "create_db_instance")
    assert create.params["DeletionProtection"] is True


def test_revisions_are_deleted_ten_at_a_time_after_being_deregistered() -> None:
    arn = "arn:aws:ecs:us-east-1:123456789012:task-definition/flask-todo:{}"
    active = [arn.format(n) for n in range(9, 13)]
    inactive = [arn.format(n) for n in range(1, 9)]
    plan = revisions.delete(active, inactive, "V")
    ops = [a.operation for a in plan]
    assert ops == ["deregister_task_definition"] * 4 + ["delete_task_definitions"] * 2
    deleted = [arn for a in plan[4:] for arn in a.params["taskDefinitions"]]
    assert [len(a.params["taskDefinitions"]) for a in plan[4:]] == [10, 2]
    assert sorted(deleted) == sorted(active + inactive)
    assert all(check(a, {}) == [] for a in plan)


def test_delete_task_definitions_failures_are_a_failure_not_a_success(
    stub, offline_aws, tmp_path: Path
) -> None:
    """DeleteTaskDefinitions answers 200 and lists what it could not delete: destroy says so."""
    arn = "arn:aws:ecs:us-east-1:123456789012:task-definition/flask-todo:{}"
    ecs = stub("ecs")
    ecs.add_response(
        "delete_task_definitions",
        {
            "taskDefinitions": [],
            "failures": [
                {"arn": arn.format(1), "reason": "The specified task definition does not exist."},
                {"arn": arn.format(2), "reason": "TASK_DEFINITION_IN_USE", "detail": "busy"},
            ],
        },
    )
    runbook = Runbook(Settings(), offline_aws, StateFile(tmp_path / "s.json"))
    (delete,) = [a for a in revisions.delete([], [arn.format(1), arn.format(2)], "V")]
    (report,) = tear_down.run(runbook, [delete])
    assert report.outcome == "failed"
    # Already gone is not a failure; the one ECS kept is named, with ECS's reason.
    assert "flask-todo:2: TASK_DEFINITION_IN_USE busy" in report.reason
    assert "flask-todo:1" not in report.reason


# -- against the emulator -----------------------------------------------------------------------


def all_revisions(aws, family: str) -> list[str]:
    ecs = aws.client("ecs")
    return [
        arn
        for status in ("ACTIVE", "INACTIVE")
        for arn in ecs.list_task_definitions(familyPrefix=family, status=status)[
            "taskDefinitionArns"
        ]
    ]


def test_destroy_keeps_a_snapshot_and_leaves_no_revision(make_runbook, aws, settings) -> None:
    runbook = make_runbook()
    runbook.deploy()
    # A second revision (a changed setting), and one a destroy by an older runbook left
    # deregistered: every one of them is the deployment's, and goes.
    make_runbook(settings=settings.replace("task_definition", cpu="512", memory="1024")).deploy()
    ecs = aws.client("ecs")
    old = ecs.register_task_definition(
        family="flask-todo",
        containerDefinitions=[{"name": "x", "image": "x", "memory": 128}],
        tags=ecs_tags("flask-todo"),
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.deregister_task_definition(taskDefinition=old)
    assert len(all_revisions(aws, "flask-todo")) == 3

    runbook = make_runbook()
    status = tear_down.status(runbook)
    (left,) = [t for t in status.leftovers if t.kind == "task definition"]
    assert left.state == "1 revision deregistered, not deleted"
    plan = tear_down.plan(runbook, status)
    report = tear_down.run(runbook, plan)
    assert all(r.outcome in ("removed", "already gone") for r in report), report

    assert all_revisions(aws, "flask-todo") == []
    with pytest.raises(ecs.exceptions.ClientException):
        ecs.describe_task_definition(taskDefinition=old)
    rds = aws.client("rds")
    assert rds.describe_db_instances()["DBInstances"] == []
    (snapshot,) = rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]
    assert snapshot["DBSnapshotIdentifier"] == today_snapshot()
    assert snapshot["DBInstanceIdentifier"] == "flask-todo-db"
    # Nothing is left that carries the tag, so status lists nothing.
    after = tear_down.status(make_runbook())
    assert after.leftovers == [] and tear_down.plan(make_runbook(), after) == []
    # ECS keeps the family's numbering: the next revision is 4, never a second flask-todo:1
    # (the emulator answers so too: runbook/sandbox/task_definition_revisions.py).
    again = ecs.register_task_definition(
        family="flask-todo", containerDefinitions=[{"name": "x", "image": "x", "memory": 128}]
    )
    assert again["taskDefinition"]["revision"] == 4


def test_a_protected_database_is_unprotected_then_kept_as_a_snapshot(
    make_runbook, aws, settings
) -> None:
    protected = settings.replace("database", deletion_protection=True)
    runbook = make_runbook(settings=protected)
    for number in ("I", "II", "III", "IV"):
        runbook.apply(runbook.step(number))
    rds = aws.client("rds")
    (db,) = rds.describe_db_instances()["DBInstances"]
    assert db["DeletionProtection"] is True
    plan = tear_down.plan(runbook)
    ops = [a.operation for a in plan]
    assert ops.index("modify_db_instance") < ops.index("delete_db_instance")
    tear_down.run(runbook, plan)
    assert rds.describe_db_instances()["DBInstances"] == []
    assert [s["DBSnapshotIdentifier"] for s in rds.describe_db_snapshots()["DBSnapshots"]] == [
        today_snapshot()
    ]


def test_a_deploy_turns_protection_on_in_place_but_never_off(make_runbook, aws, settings) -> None:
    runbook = make_runbook()
    for number in ("I", "II", "III", "IV"):
        runbook.apply(runbook.step(number))
    on = make_runbook(settings=settings.replace("database", deletion_protection=True))
    (modify, _wait) = on.plan(on.step("IV"))
    assert modify.params["DeletionProtection"] is True and "unavailable" not in modify.why
    on.apply(on.step("IV"))
    # The setting off again: the deploy leaves the protection as it is.
    assert make_runbook().plan(make_runbook().step("IV")) == []


def database_made_and_questions_heard(
    make_runbook, tmp_path: Path, monkeypatch
) -> tuple[list[str], Path]:
    """Sections I to IV applied, with a state file; every yes/no question heard (and yes)."""
    asked: list[str] = []
    monkeypatch.setattr(
        "rich.prompt.Confirm.ask", lambda question, **_: asked.append(question) or True
    )
    state = tmp_path / "state.json"
    runbook = make_runbook(state=StateFile(state))
    for number in ("I", "II", "III", "IV"):
        runbook.apply(runbook.step(number))
    return asked, state


def test_the_command_line_says_what_it_keeps_and_how_to_restore(
    on_emulator,
    make_runbook,
    tmp_path: Path,
    capsys,
    monkeypatch,
) -> None:
    asked, state = database_made_and_questions_heard(make_runbook, tmp_path, monkeypatch)
    code, out = main(capsys, "destroy", "--state", str(state))
    assert code == cli.OK, out
    name = today_snapshot()
    assert f"(the database flask-todo-db: a final snapshot {name} is kept)?" in asked[-1]
    said = " ".join(out.split())
    assert (
        "aws rds restore-db-instance-from-db-snapshot --db-instance-identifier flask-todo-db "
        f"--db-snapshot-identifier {name} --db-instance-class db.t4g.micro "
        "--manage-master-user-password"
    ) in said
    assert re.search(r"costs about \$1\.90 a month \(an estimate", said)
    assert f"aws rds delete-db-snapshot --db-snapshot-identifier {name}" in said


def test_skip_final_snapshot_deletes_with_no_snapshot(
    on_emulator,
    make_runbook,
    aws,
    tmp_path: Path,
    capsys,
    monkeypatch,
) -> None:
    asked, state = database_made_and_questions_heard(make_runbook, tmp_path, monkeypatch)
    code, out = main(capsys, "destroy", "--skip-final-snapshot", "--state", str(state))
    assert code == cli.OK, out
    assert "(the database flask-todo-db: deleted with no snapshot)?" in asked[-1]
    assert aws.client("rds").describe_db_snapshots(SnapshotType="manual")["DBSnapshots"] == []
    assert "restore-db-instance-from-db-snapshot" not in out
