"""Clients of every Aws in a process share their service model and methods, made once per
model, and stay clients of their own: their session's handlers, their account, their counts."""

from __future__ import annotations

from runbook.aws import Aws


def test_two_accounts_clients_share_model_and_methods_but_not_classes(emulator, account) -> None:
    first, second = emulator.aws(account), emulator.aws(str(int(account) + 700_000_000))
    ecs_1, ecs_2 = first.client("ecs"), second.client("ecs")
    assert type(ecs_1) is not type(ecs_2)
    assert type(ecs_1).__dict__["create_cluster"] is type(ecs_2).__dict__["create_cluster"]
    assert ecs_1.meta.service_model is ecs_2.meta.service_model
    first.call("ecs", "create_cluster", clusterName="only-in-the-first")
    names = [
        [arn.rsplit("/", 1)[-1] for arn in aws.call("ecs", "list_clusters")["clusterArns"]]
        for aws in (first, second)
    ]
    assert names == [["only-in-the-first"], []]
    assert first.calls["ecs.CreateCluster"] == 1 and not second.calls["ecs.CreateCluster"]


def test_a_sessions_own_class_handlers_still_shape_its_clients(offline_aws: Aws) -> None:
    other = Aws("us-east-1", credentials={"aws_access_key_id": "x", "aws_secret_access_key": "y"})

    def add_greeting(class_attributes, **_) -> None:
        class_attributes["greeting"] = lambda self: "hello"

    other.session.events.register("creating-client-class.ecs", add_greeting)
    assert other.client("ecs").greeting() == "hello"
    assert not hasattr(offline_aws.client("ecs"), "greeting")
    assert "greeting" not in type(Aws("us-east-1").client("ecs")).__dict__
    # Methods every client has are still there, with the model's documentation.
    assert "create_cluster" in type(other.client("ecs")).__dict__
    assert "Creates a new Amazon ECS cluster" in str(other.client("ecs").create_cluster.__doc__)
