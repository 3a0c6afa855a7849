"""A create whose answer is lost (done in AWS, never heard of) is found, not made twice.

Each test loses the first answer to every changing call of the run: the emulator carries the
call out, the connection closes, the runbook sends it again (or looks first) and must end
with exactly the guide's resources and the outputs a plain answer would have given.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from runbook import day_two, day_two_run
from runbook import destroy as tear_down
from runbook.engine import Runbook
from runbook.errors import RunbookError
from runbook.events import CallMade
from runbook.executor import Executor
from runbook.model_check import operation_name
from runbook.plan import ApiCall, tags
from runbook.settings import Settings
from runbook.state import StateFile
from tests.engine.helpers import COMPLETE, has_tag, inventory
from tests.faults.proxy import LOST, NOT_PLANNED, Changes, FaultProxy, Rule, Schedule


def lose_every_first_answer() -> Schedule:
    """Every changing request loses its first answer; its resend gets through."""
    return Schedule(
        Rule(LOST, operations=Changes(), spare=NOT_PLANNED, times=None, each_request=True)
    )


def changing_calls(events: list) -> set[str]:
    return {
        f"{e.service}.{operation_name(e.service, e.operation)}"
        for e in events
        if isinstance(e, CallMade) and e.mutating
    }


def finished(events: list) -> int:
    """Changing calls carried through to the end (each call once, however often it was sent)."""
    return sum(
        1
        for e in events
        if isinstance(e, CallMade) and e.mutating and e.outcome in ("ok", "already done")
    )


def lost(proxy: FaultProxy) -> set[str]:
    return {f"{service}.{op}" for service, op, kind in proxy.schedule.log if kind == LOST}


def discovered(truth, settings: Settings, tmp_path: Path) -> dict:
    """What a fresh run, straight on the emulator, discovers: the values a plain deploy gets."""
    fresh = Runbook(settings, truth, StateFile(tmp_path / "fresh.json"), sandbox=True)
    for step in fresh.steps:
        fresh.discover(step)
    return fresh.known


def test_a_deploy_survives_a_lost_answer_on_every_changing_call(
    make_runbook, proxy, truth, settings, events, tmp_path
) -> None:
    proxy.schedule = lose_every_first_answer()
    runbook = make_runbook()
    runbook.deploy()

    assert inventory(truth, settings) == COMPLETE
    # Each of the 25 changing calls lost its first answer.
    assert finished(events) == proxy.schedule.injected[LOST] == 25
    assert changing_calls(events) <= lost(proxy)
    # The outputs are those a plain answer gives, in memory and in the state file.
    real = discovered(truth, settings, tmp_path)
    for step in runbook.steps:
        for key in step.output_keys(settings):
            if key in real:
                assert runbook.known[key] == real[key], key
    assert (
        runbook.state.get("I").outputs["flask-todo-db-sg.GroupId"]
        == (real["flask-todo-db-sg.GroupId"])
    )
    roles = truth.client("iam").list_roles()["Roles"]
    names = [r["RoleName"] for r in roles]
    assert names.count(settings.task_definition.execution_role) == 1
    assert names.count(settings.task_definition.task_role) == 1
    (secret_arn,) = {
        e.params["containerDefinitions"][0]["secrets"][0]["valueFrom"]
        for e in events
        if isinstance(e, CallMade) and e.operation == "register_task_definition"
    }
    db = truth.client("rds").describe_db_instances()["DBInstances"][0]
    assert secret_arn == db["MasterUserSecret"]["SecretArn"] + ":password::"


def test_a_password_of_ones_own_is_stored_once(
    make_runbook, proxy, truth, settings, events
) -> None:
    from dataclasses import replace

    proxy.schedule = lose_every_first_answer()
    make_runbook(settings=replace(settings, master_password="Sup3r-secret-pw!")).deploy()
    secrets = truth.client("secretsmanager").list_secrets()["SecretList"]
    assert [s["Name"] for s in secrets] == ["flask-todo/db-master-password"]
    assert "secretsmanager.CreateSecret" in lost(proxy)
    # The idempotency token is a digest of the masked call, so it never reveals the password.
    (sent,) = [
        e.params for e in events if isinstance(e, CallMade) and e.operation == "create_secret"
    ][-1:]
    assert len(sent["ClientRequestToken"]) == 64
    assert "Sup3r-secret-pw!" not in str(sent)


def test_adopting_hand_made_resources_survives_lost_answers(
    make_runbook, proxy, truth, settings
) -> None:
    from tests.engine.test_adopt_and_destroy import make_by_hand

    made = make_by_hand(truth)
    proxy.schedule = lose_every_first_answer()
    make_runbook().deploy()
    assert inventory(truth, settings) == COMPLETE
    assert {"ec2.CreateTags", "elbv2.AddTags", "ecs.TagResource"} <= lost(proxy)
    group = truth.client("ec2").describe_security_groups(GroupIds=[made["elb_sg"]])
    assert has_tag(group["SecurityGroups"][0]["Tags"], "flask-todo")


def test_https_scaling_and_destroy_survive_lost_answers(
    make_runbook, proxy, truth, settings, events
) -> None:
    truth.client("route53").create_hosted_zone(Name="example.com", CallerReference="lost")
    full = settings.replace("domain", name="todo.example.com").replace("auto_scaling", max_tasks=3)
    proxy.schedule = lose_every_first_answer()
    runbook = make_runbook(settings=full)
    runbook.deploy()
    assert inventory(truth, full) == COMPLETE | {"listener": 2, "ingress rule": 4}
    certificates = truth.client("acm").list_certificates()["CertificateSummaryList"]
    assert len(certificates) == 1
    assert {
        "acm.RequestCertificate",
        "route53.ChangeResourceRecordSets",
        "application-autoscaling.RegisterScalableTarget",
        "application-autoscaling.PutScalingPolicy",
    } <= lost(proxy)

    events.clear()
    lost_in_deploy = proxy.schedule.injected[LOST]
    plan = tear_down.plan(runbook)
    tear_down.run(runbook, plan)
    assert finished(events) == proxy.schedule.injected[LOST] - lost_in_deploy
    assert changing_calls(events) <= lost(proxy)
    assert sum(inventory(truth, full).values()) == 0
    assert truth.client("acm").list_certificates()["CertificateSummaryList"] == []
    assert tear_down.plan(make_runbook(settings=full)) == []


def test_what_exists_and_is_not_ours_is_left_alone(aws, truth, events) -> None:
    """A log group of the same name that someone else made: stop, and say so."""
    truth.client("logs").create_log_group(logGroupName="flask-todo-logs")
    create = ApiCall(
        "logs",
        "create_log_group",
        {"logGroupName": "flask-todo-logs", "tags": {"fargate-runbook:deployment": "flask-todo"}},
        "create the log group",
        "III",
    )
    with pytest.raises(RunbookError) as caught:
        Executor(aws, {}, events.append, sleep=lambda _s: None).call(create)
    problem = caught.value.problem
    assert problem.code == "ExistsNotOurs"
    assert "log group flask-todo-logs" in problem.message
    assert "fargate-runbook:deployment=flask-todo" in problem.message
    assert truth.client("logs").list_tags_log_group(logGroupName="flask-todo-logs")["tags"] == {}


def test_a_lost_registration_is_looked_for_before_registering_again(
    aws, proxy, truth, events
) -> None:
    register = ApiCall(
        "ecs",
        "register_task_definition",
        {
            "family": "lost-answer",
            "containerDefinitions": [{"name": "app", "image": "nginx", "memory": 128}],
            "tags": [{"key": t["Key"], "value": t["Value"]} for t in tags("flask-todo")],
        },
        "register",
        "V",
        captures={"td": "taskDefinition.taskDefinitionArn"},
    )
    proxy.schedule = Schedule(Rule(LOST, "ecs", {"RegisterTaskDefinition"}))
    known: dict = {}
    Executor(aws, known, events.append, sleep=lambda _s: None).call(register)
    revisions = truth.client("ecs").list_task_definitions(familyPrefix="lost-answer")
    assert revisions["taskDefinitionArns"] == [known["td"]]
    assert known["td"].endswith("lost-answer:1")
    assert proxy.requests["ecs.RegisterTaskDefinition"] == 1  # looked, found, not sent again
    assert [e.outcome for e in events] == ["ConnectionClosedError, sending again", "already done"]


def test_day_two_changes_survive_lost_answers(make_runbook, proxy, truth, settings, events) -> None:
    """A redeploy and a new count whose answers are lost are sent again and end stable."""
    runbook = make_runbook()
    runbook.deploy()
    proxy.schedule = lose_every_first_answer()
    events.clear()
    day_two_run.run(runbook, day_two.plan(runbook.aws, runbook.settings, "redeploy"))
    day_two_run.run(runbook, day_two.plan(runbook.aws, runbook.settings, "scale", 2))
    assert "ecs.UpdateService" in lost(proxy)
    assert finished(events) == 2 == proxy.schedule.injected[LOST]
    (svc,) = truth.client("ecs").describe_services(
        cluster=settings.cluster.name, services=[settings.service.name]
    )["services"]
    assert svc["desiredCount"] == 2 and svc["taskDefinition"].endswith("flask-todo:1")
    assert runbook.state.settings["service"]["desired_count"] == 2
