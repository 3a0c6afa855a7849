"""Changes are applied or explained: in place where AWS allows it, never silently ignored."""

from __future__ import annotations

import pytest

from runbook import destroy as tear_down
from runbook.errors import RunbookError
from runbook.events import CallMade, Notice
from runbook.state import StateFile


def changing(events) -> list[str]:
    return [e.operation for e in events if isinstance(e, CallMade) and e.mutating]


def test_a_changed_instance_class_is_applied_in_place(make_runbook, aws, settings, events) -> None:
    make_runbook().deploy()
    bigger = settings.replace("database", instance_class="db.t3.micro")
    runbook = make_runbook(settings=bigger)
    step = runbook.step("IV")
    actions = runbook.plan(step)
    assert [a.operation for a in actions] == ["modify_db_instance", "describe_db_instances"]
    assert actions[0].params["DBInstanceClass"] == "db.t3.micro"
    assert actions[0].params["ApplyImmediately"] is True
    (change,) = runbook.differences(step)
    assert change.in_place and change.explain().startswith(
        "instance class: db.t4g.micro -> db.t3.micro: changed in place"
    )
    events.clear()
    runbook.apply(step)
    assert changing(events) == ["modify_db_instance"]
    (db,) = aws.call("rds", "describe_db_instances")["DBInstances"]
    assert db["DBInstanceClass"] == "db.t3.micro"
    # Done: nothing differs any more, and the next run only reads.
    again = make_runbook(settings=bigger)
    assert again.plan(again.step("IV")) == [] and again.differences(again.step("IV")) == []


LISTED = [
    ("III", "cluster", {"log_retention_days": 14}, "put_retention_policy"),
    ("II", "load_balancer", {"health_check_interval": 30}, "modify_target_group"),
    ("V", "task_definition", {"cpu": "512", "memory": "1024"}, "register_task_definition"),
    ("VI", "service", {"desired_count": 2}, "update_service"),
]


def test_each_listed_change_is_planned_and_shown(make_runbook, settings) -> None:
    make_runbook().deploy()
    for section, key, changes, operation in LISTED:  # plans only read: one deploy for all
        runbook = make_runbook(settings=settings.replace(key, **changes))
        step = runbook.step(section)
        assert operation in [a.operation for a in runbook.plan(step)], section
        differences = runbook.differences(step)
        assert differences and all(f.in_place for f in differences), section


def test_what_cannot_change_in_place_is_said_not_dropped(make_runbook, settings, events) -> None:
    make_runbook().deploy()
    runbook = make_runbook(settings=settings.replace("database", db_name="todos"))
    step = runbook.step("IV")
    assert runbook.plan(step) == []
    (fact,) = runbook.differences(step)
    assert not fact.in_place
    assert "database name: flask_todo -> todos: not changeable in place" in fact.explain()
    events.clear()
    runbook.apply(step)
    warnings = [e.message for e in events if isinstance(e, Notice) and e.level == "warning"]
    assert warnings == [fact.explain()]
    # The task definition would name a database that does not exist: V refuses, calling nothing.
    events.clear()
    with pytest.raises(RunbookError) as caught:
        runbook.apply(runbook.step("V"))
    assert caught.value.problem.code == "NotChangeableInPlace"
    assert "database name: flask_todo -> todos" in caught.value.problem.message
    assert changing(events) == []


def test_status_shows_the_settings_that_matter(make_runbook, settings) -> None:
    make_runbook().deploy()
    runbook = make_runbook()
    facts = {
        f.label: f for step, _ in tear_down.status(runbook).sections for f in runbook.facts(step)
    }
    assert facts["instance class"].current == "db.t4g.micro"
    assert facts["CPU / memory"].current == "256 / 512"
    assert facts["image"].current.endswith(
        f".dkr.ecr.us-east-1.amazonaws.com/flask-todo:{runbook.version}"
    )
    assert facts["CPU architecture"].current == "X86_64"
    assert facts["tasks to run"].current == 1
    assert facts["keep logs (days)"].current == 30
    assert not any(f.differs for f in facts.values())


def test_a_section_refuses_before_its_first_call(make_runbook, events) -> None:
    runbook = make_runbook()
    asked: list[str] = []
    with pytest.raises(RunbookError) as caught:
        runbook.apply(runbook.step("II"), confirm=lambda step, actions: bool(asked.append("?")))
    assert caught.value.problem.code == "NeedsEarlierSection"
    assert "Nothing was called" in caught.value.problem.message
    assert asked == [] and changing(events) == []


def test_a_value_only_the_state_file_remembers_is_checked_first(
    make_runbook, aws, state_path, events
) -> None:
    first = make_runbook()
    first.apply(first.step("I"))
    group = first.known["flask-todo-elb-sg.GroupId"]
    aws.call("ec2", "delete_security_group", GroupId=group)  # gone since, by hand
    events.clear()
    later = make_runbook(state=StateFile(state_path))
    with pytest.raises(RunbookError) as caught:
        later.apply(later.step("II"))
    assert "flask-todo-elb-sg.GroupId" in caught.value.problem.message
    assert caught.value.problem.advice.startswith("Run section I first")
    assert changing(events) == []


def test_the_task_definition_and_service_refuse_without_section_iii(make_runbook, events) -> None:
    """V names the image in III's repository; VI runs on III's cluster."""
    runbook = make_runbook()
    for number in ("I", "II", "IV"):
        runbook.apply(runbook.step(number))
    events.clear()
    with pytest.raises(RunbookError) as caught:
        runbook.apply(runbook.step("V"))
    assert "flask-todo-repository.image, which section III" in caught.value.problem.message
    with pytest.raises(RunbookError) as caught:
        runbook.apply(runbook.step("VI"))
    assert "flask-todo-cluster.clusterArn" in caught.value.problem.message
    assert changing(events) == []
