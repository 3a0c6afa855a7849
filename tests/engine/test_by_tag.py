"""Nothing of ours goes unseen: status and destroy find what carries the tag, whatever its name."""

from __future__ import annotations

from runbook import destroy as tear_down
from runbook.inventory import find
from runbook.plan import ApiCall
from runbook.settings import DEPLOYMENT_TAG
from runbook.teardown_order import order
from tests.engine.helpers import inventory


def tagged_groups(aws) -> list[str]:
    groups = aws.call(
        "ec2",
        "describe_security_groups",
        Filters=[{"Name": f"tag:{DEPLOYMENT_TAG}", "Values": ["flask-todo"]}],
    )["SecurityGroups"]
    return sorted(g["GroupName"] for g in groups)


def test_a_group_made_under_an_earlier_name_is_shown_and_destroyed(
    make_runbook, aws, settings
) -> None:
    """The issue's story: elb-sg renamed and run, the rename forgotten, a second set made."""
    renamed = make_runbook(
        settings=settings.replace("security_groups", elb_sg="custom-todo-elb-sg")
    )
    renamed.apply(renamed.step("I"))
    runbook = make_runbook()
    runbook.deploy()
    assert tagged_groups(aws) == [
        "custom-todo-elb-sg",
        "flask-todo-db-sg",
        "flask-todo-ecs-sg",
        "flask-todo-elb-sg",
    ]

    status = tear_down.status(runbook)
    assert [(t.kind, t.name) for t in status.leftovers] == [
        ("security group", "custom-todo-elb-sg")
    ]
    assert status.unchecked == []
    plan = tear_down.plan(runbook, status)
    deleted = [a.why for a in plan if a.operation == "delete_security_group"]
    # The app's group allows traffic from both load balancer groups: it goes before either.
    assert deleted.index("delete flask-todo-ecs-sg") < deleted.index(
        "delete the security group custom-todo-elb-sg (ours, no longer in the settings)"
    )
    report = tear_down.run(runbook, plan)
    assert all(r.outcome == "removed" for r in report), report
    assert "delete the security group custom-todo-elb-sg (ours, no longer in the settings)" in [
        r.what for r in report
    ]
    assert tagged_groups(aws) == []
    assert sum(inventory(aws, settings).values()) == 0


def test_every_renamed_resource_is_found_by_its_tag_and_removed(
    make_runbook, aws, settings
) -> None:
    make_runbook().deploy()
    renamed = (
        settings.replace("load_balancer", name="todo-alb", target_group="todo-tg")
        .replace("cluster", name="todo-cluster", log_group="/ecs/todo")
        .replace("database", identifier="todo-db")
        .replace("task_definition", family="todo")
        .replace("service", name="todo-service")
    )
    runbook = make_runbook(settings=renamed)
    runbook.deploy()
    status = tear_down.status(runbook)
    left = {(t.kind, t.name) for t in status.leftovers}
    assert left == {
        ("load balancer", "flask-todo-elb"),
        ("target group", "flask-todo-elb-target-group"),
        ("cluster", "flask-todo-cluster"),
        ("log group", "/ecs/flask-todo"),
        ("database", "flask-todo-db"),
        ("task definition", "flask-todo"),
        ("image repository", "flask-todo"),
        ("service", "flask-todo-service"),
    }
    plan = tear_down.plan(runbook, status)
    ops = [a.operation for a in plan]
    # Whatever its name: services before clusters, load balancers before target groups.
    last_service = max(i for i, op in enumerate(ops) if op == "delete_service")
    assert last_service < min(i for i, op in enumerate(ops) if op == "delete_cluster")
    last_lb = max(i for i, op in enumerate(ops) if op == "delete_load_balancer")
    assert last_lb < min(i for i, op in enumerate(ops) if op == "delete_target_group")
    report = tear_down.run(runbook, plan)
    assert [r for r in report if r.outcome not in ("removed", "already gone")] == []
    assert find(aws, "flask-todo").resources == []
    assert sum(inventory(aws, settings).values()) == 0
    assert sum(inventory(aws, renamed).values()) == 0


def test_what_another_deployment_tagged_is_left_alone(make_runbook, aws, settings) -> None:
    other = settings.replace("deployment", name="shop").replace(
        "security_groups", elb_sg="shop-elb-sg", ecs_sg="shop-ecs-sg", db_sg="shop-db-sg"
    )
    shop = make_runbook(settings=other)
    shop.apply(shop.step("I"))
    runbook = make_runbook()
    runbook.apply(runbook.step("I"))
    status = tear_down.status(runbook)
    assert status.leftovers == []
    tear_down.run(runbook, tear_down.plan(runbook, status))
    assert tagged_groups(aws) == []
    assert len(find(aws, "shop").resources) == 3


def test_a_group_goes_before_the_groups_it_allows_from() -> None:
    def delete(group: str) -> ApiCall:
        return ApiCall("ec2", "delete_security_group", {"GroupId": group}, f"delete {group}", "I")

    sources = {"sg-db": {"sg-app"}, "sg-app": {"sg-lb", "sg-old-lb"}}
    plan = order([delete("sg-old-lb"), delete("sg-lb"), delete("sg-app"), delete("sg-db")], sources)
    assert [a.params["GroupId"] for a in plan] == ["sg-db", "sg-app", "sg-old-lb", "sg-lb"]
