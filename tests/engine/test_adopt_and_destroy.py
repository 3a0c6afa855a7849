"""Hand-made resources are adopted, never duplicated; teardown only touches what is ours."""

from __future__ import annotations

from runbook import destroy as tear_down
from runbook.events import CallMade
from runbook.settings import DEPLOYMENT_TAG
from tests.engine.helpers import COMPLETE, has_tag, inventory


def make_by_hand(aws) -> dict[str, str]:
    """What a person following the guide in the console would have made: same names, no tag."""
    ec2, elb = aws.client("ec2"), aws.client("elbv2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:2]
    elb_sg = ec2.create_security_group(
        GroupName="flask-todo-elb-sg", Description="by hand", VpcId=vpc["VpcId"]
    )["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=elb_sg,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 80,
                "ToPort": 80,
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
            }
        ],
    )
    lb = elb.create_load_balancer(Name="flask-todo-elb", Subnets=subnets, SecurityGroups=[elb_sg])[
        "LoadBalancers"
    ][0]
    cluster = aws.client("ecs").create_cluster(clusterName="flask-todo-cluster")["cluster"]
    return {"elb_sg": elb_sg, "lb": lb["LoadBalancerArn"], "cluster": cluster["clusterArn"]}


def test_hand_made_resources_are_adopted_not_duplicated(
    make_runbook, aws, settings, events
) -> None:
    made = make_by_hand(aws)
    make_runbook().deploy()
    assert inventory(aws, settings) == COMPLETE
    adopted = [
        e.operation
        for e in events
        if isinstance(e, CallMade)
        and e.mutating
        and e.operation in ("create_tags", "add_tags", "tag_resource")
    ]
    assert adopted == ["create_tags", "add_tags", "tag_resource"]
    group = aws.client("ec2").describe_security_groups(GroupIds=[made["elb_sg"]])
    assert has_tag(group["SecurityGroups"][0]["Tags"], "flask-todo")
    lb_tags = aws.client("elbv2").describe_tags(ResourceArns=[made["lb"]])["TagDescriptions"]
    assert has_tag(lb_tags[0]["Tags"], "flask-todo")


def test_declining_adoption_changes_nothing(make_runbook, aws, state_path) -> None:
    made = make_by_hand(aws)
    runbook = make_runbook()
    assert runbook.apply(runbook.step("I"), confirm=lambda step, actions: False) is False
    group = aws.client("ec2").describe_security_groups(GroupIds=[made["elb_sg"]])
    assert "Tags" not in group["SecurityGroups"][0] or not has_tag(
        group["SecurityGroups"][0]["Tags"], "flask-todo"
    )
    # Declined is not a run: the section keeps the status it had, and nothing is recorded.
    assert runbook.state.get("I").status == "to do"
    assert not runbook.state.path.exists()


def test_destroy_removes_everything_ours_in_order(make_runbook, aws, settings, events) -> None:
    runbook = make_runbook()
    runbook.deploy()
    plan = tear_down.plan(runbook)
    order = [a.operation for a in plan]
    # The service goes before the cluster, the ALB before its target group and groups,
    # and the database group before the app's group it names.
    assert order.index("delete_service") < order.index("delete_cluster")
    assert order.index("delete_load_balancer") < order.index("delete_target_group")
    assert order.index("delete_db_instance") < order.index("delete_security_group")
    sg_deletes = [a.params["GroupId"] for a in plan if a.operation == "delete_security_group"]
    assert sg_deletes == [
        runbook.known[f"{n}.GroupId"]
        for n in ("flask-todo-db-sg", "flask-todo-ecs-sg", "flask-todo-elb-sg")
    ]
    tear_down.run(runbook, plan)
    assert sum(inventory(aws, settings).values()) == 0
    assert not {"flask-todo-execution-role", "flask-todo-task-role"} & {
        r["RoleName"] for r in aws.client("iam").list_roles()["Roles"]
    }
    # The resources are gone; the settings stay recorded, every section back to "to do".
    assert runbook.state.settings is not None and not runbook.state.sections
    # A second destroy has nothing to do.
    assert tear_down.plan(make_runbook()) == []


def test_destroy_never_touches_what_is_not_ours(make_runbook, aws, settings) -> None:
    ec2 = aws.client("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]
    other = ec2.create_security_group(
        GroupName="someone-elses", Description="not ours", VpcId=vpc["VpcId"]
    )["GroupId"]
    # A hand-made cluster with the deployment's name that the person declined to adopt.
    aws.client("ecs").create_cluster(clusterName="flask-todo-cluster")
    runbook = make_runbook()
    runbook.apply(runbook.step("I"))
    runbook.apply(runbook.step("III"), confirm=lambda step, actions: False)
    plan = tear_down.plan(runbook)
    assert all(a.params.get("cluster") != "flask-todo-cluster" for a in plan)
    tear_down.run(runbook, plan)
    groups = {g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"]}
    assert other in groups
    assert ec2.describe_vpcs(VpcIds=[vpc["VpcId"]])["Vpcs"]
    clusters = aws.client("ecs").describe_clusters(clusters=["flask-todo-cluster"])["clusters"]
    assert clusters[0]["status"] == "ACTIVE"
    tags = {
        t["Key"]
        for g in ec2.describe_security_groups()["SecurityGroups"]
        for t in g.get("Tags", [])
    }
    assert DEPLOYMENT_TAG not in tags
