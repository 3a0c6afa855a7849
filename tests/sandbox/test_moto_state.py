"""moto's internals the sandbox writes into: fail loudly here if moto changes shape."""

from __future__ import annotations

import inspect

from moto.ecs.models import Container, Service, Task
from moto.elbv2.models import FakeHealthStatus, FakeLoadBalancer, FakeTargetGroup
from moto.rds.models import DBInstance

from runbook.sandbox import moto_state


def test_the_models_have_the_attributes_the_sandbox_writes() -> None:
    service_init = inspect.getsource(Service.__init__)
    for attribute in ("running_count", "pending_count", "deployments", "events", "task_definition"):
        assert f"self.{attribute}" in service_init, attribute
    assert "transitions" in inspect.signature(Task.__mro__[1].__init__).parameters
    assert "self.exitCode" in inspect.getsource(Container.__init__)
    assert "self.network_interfaces" in inspect.getsource(Container.__init__)
    assert list(inspect.signature(FakeTargetGroup.health_for).parameters) == [
        "self",
        "target",
        "ec2_backend",
    ]
    assert list(inspect.signature(FakeHealthStatus.__init__).parameters)[1:] == [
        "instance_id",
        "port",
        "health_port",
        "status",
        "reason",
        "description",
    ]
    assert hasattr(FakeLoadBalancer, "activate")
    assert "self.status" in inspect.getsource(DBInstance.__init__)
    assert "self._master_user_password = value" in inspect.getsource(DBInstance)


def test_hooks_are_installed_once_and_leave_unwatched_accounts_alone(aws, account) -> None:
    moto_state.install()
    moto_state.install()
    from moto.rds.models import RDSBackend

    assert hasattr(RDSBackend.create_db_instance, "__wrapped__")
    assert not hasattr(RDSBackend.create_db_instance.__wrapped__, "__wrapped__")
    aws.call(
        "rds",
        "create_db_instance",
        DBInstanceIdentifier="plain",
        DBInstanceClass="db.t4g.micro",
        Engine="postgres",
        MasterUsername="x",
        ManageMasterUserPassword=True,
    )
    db = aws.call("rds", "describe_db_instances", DBInstanceIdentifier="plain")["DBInstances"][0]
    assert db["DBInstanceStatus"] == "available"  # plain moto: no data plane watches it


def test_a_watched_account_sees_what_a_data_plane_reports(aws, account) -> None:
    moto_state.watch(account, {"database", "load_balancer", "tasks"})
    try:
        aws.call(
            "rds",
            "create_db_instance",
            DBInstanceIdentifier="db1",
            DBInstanceClass="db.t4g.micro",
            Engine="postgres",
            MasterUsername="x",
            MasterUserPassword="a-password-1",
        )
        describe = lambda: aws.call(  # noqa: E731
            "rds", "describe_db_instances", DBInstanceIdentifier="db1"
        )["DBInstances"][0]["DBInstanceStatus"]
        assert describe() == "creating"
        assert moto_state.db_master_password(account, "us-east-1", "db1") == "a-password-1"
        moto_state.set_db_status(account, "us-east-1", "db1", "available")
        assert describe() == "available"

        vpc = aws.call("ec2", "describe_vpcs")["Vpcs"][0]["VpcId"]
        subnets = [
            s["SubnetId"]
            for s in aws.call("ec2", "describe_subnets")["Subnets"]
            if s["VpcId"] == vpc
        ]
        lb = aws.call("elbv2", "create_load_balancer", Name="lb1", Subnets=subnets[:2])
        arn = lb["LoadBalancers"][0]["LoadBalancerArn"]
        state = lambda: aws.call(  # noqa: E731
            "elbv2", "describe_load_balancers", LoadBalancerArns=[arn]
        )["LoadBalancers"][0]["State"]["Code"]
        assert state() == "provisioning"
        assert state() == "provisioning"  # moto would activate it on this describe
        moto_state.set_load_balancer_state(account, "us-east-1", arn, "active")
        assert state() == "active"

        tg = aws.call(
            "elbv2",
            "create_target_group",
            Name="tg1",
            Protocol="HTTP",
            Port=5000,
            VpcId=vpc,
            TargetType="ip",
        )["TargetGroups"][0]["TargetGroupArn"]
        aws.call("elbv2", "register_targets", TargetGroupArn=tg, Targets=[{"Id": "10.0.0.9"}])
        moto_state.set_target_health(
            account,
            "us-east-1",
            tg,
            "10.0.0.9",
            "unhealthy",
            "Target.ResponseCodeMismatch",
            "Health checks failed with these codes: [503]",
        )
        (health,) = aws.call("elbv2", "describe_target_health", TargetGroupArn=tg)[
            "TargetHealthDescriptions"
        ]
        assert health["TargetHealth"] == {
            "State": "unhealthy",
            "Reason": "Target.ResponseCodeMismatch",
            "Description": "Health checks failed with these codes: [503]",
        }
    finally:
        moto_state.unwatch(account)


def test_a_watched_service_starts_with_nothing_running_and_keeps_its_settings(aws, account) -> None:
    moto_state.watch(account, {"tasks"})
    try:
        vpc = aws.call("ec2", "describe_vpcs")["Vpcs"][0]["VpcId"]
        subnet = next(
            s["SubnetId"]
            for s in aws.call("ec2", "describe_subnets")["Subnets"]
            if s["VpcId"] == vpc
        )
        group = aws.call("ec2", "describe_security_groups")["SecurityGroups"][0]["GroupId"]
        aws.call("ecs", "create_cluster", clusterName="c")
        for revision in ("1", "2"):
            aws.call(
                "ecs",
                "register_task_definition",
                family="f",
                networkMode="awsvpc",
                requiresCompatibilities=["FARGATE"],
                cpu="256",
                memory="512",
                containerDefinitions=[{"name": "a", "image": f"x:{revision}", "memory": 64}],
            )
        aws.call(
            "ecs",
            "create_service",
            cluster="c",
            serviceName="s",
            taskDefinition="f:1",
            desiredCount=1,
            launchType="FARGATE",
            networkConfiguration={
                "awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group]}
            },
            healthCheckGracePeriodSeconds=60,
            deploymentConfiguration={
                "deploymentCircuitBreaker": {"enable": True, "rollback": True},
                "maximumPercent": 200,
                "minimumHealthyPercent": 100,
            },
        )
        describe = lambda: aws.call(  # noqa: E731
            "ecs", "describe_services", cluster="c", services=["s"]
        )["services"][0]
        svc = describe()
        assert (svc["runningCount"], svc["pendingCount"]) == (0, 0)
        assert svc["deployments"][0]["rolloutState"] == "IN_PROGRESS"
        assert svc["healthCheckGracePeriodSeconds"] == 60
        assert svc["deploymentConfiguration"]["deploymentCircuitBreaker"]["rollback"] is True

        aws.call("ecs", "update_service", cluster="c", service="s", taskDefinition="f:2")
        svc = describe()
        assert [(d["status"], d["taskDefinition"][-3:]) for d in svc["deployments"]] == [
            ("PRIMARY", "f:2"),
            ("ACTIVE", "f:1"),
        ]
        assert svc["runningCount"] == 0  # moto would say desired; nothing runs yet

        aws.call("ecs", "delete_service", cluster="c", service="s", force=True)
        assert describe()["status"] == "DRAINING"  # until the data plane stops its tasks
    finally:
        moto_state.unwatch(account)
