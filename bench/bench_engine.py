"""Engine benchmarks: `runbook plan` wall time, deploy overhead over bare boto3, API call counts.

Run: python bench/bench_engine.py [--runs N]
Everything runs on this machine in one go; figures are medians, the overhead is a ratio of
medians taken in alternation against the same emulator (each run in a fresh pretend account).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from goals import GOAL_HELP, GOAL_PLAN, figure, parse, run
from warm_up import warm_up

from runbook.aws import Aws
from runbook.engine import Runbook
from runbook.image import Build
from runbook.sandbox import CREDENTIALS, Emulator
from runbook.sandbox.account import in_moto_account
from runbook.sandbox.container_engine import stand_in
from runbook.settings import Settings
from runbook.state import StateFile
from runbook.steps import STEPS

ACCOUNTS = itertools.count(200_000_000_001)


def timed_process(args: list[str], env: dict[str, str], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(args, env=env, capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def allow(action: str, **statement: Any) -> str:
    """An IAM policy document of one statement that allows `action`, as JSON."""
    allowed = {"Effect": "Allow", "Action": action, **statement}
    return json.dumps({"Version": "2012-10-17", "Statement": [allowed]})


def account(url: str) -> Aws:
    aws = Aws("us-east-1", endpoint_url=url, credentials=CREDENTIALS)
    return in_moto_account(aws, aws.session.events, str(next(ACCOUNTS)))


def warm(aws: Aws) -> None:
    """moto's per-account set-up, paid by neither side; its calls are not counted."""
    warm_up(aws)
    aws.calls.clear()


class RecordingAws(Aws):
    """Notes every call the engine makes, so a bare script can replay the same sequence."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.record: list[tuple[str, str, dict[str, Any]]] = []
        self.outcomes: list[str] = []

    def send(self, service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        # Every request the engine sends goes through here (reads, writes, resends).
        self.record.append((service, operation, params))
        try:
            response = super().send(service, operation, params)
        except ClientError as exc:
            self.outcomes.append(exc.response["Error"]["Code"])
            raise
        self.outcomes.append("ok")
        return response


def fresh_seeded(emulator: Emulator) -> None:
    """Same seed, same IDs: the replay's parameters name the same resources."""
    emulator.reset()
    emulator.moto_api("seed?a=42")


def replay(aws: Aws, record: list[tuple[str, str, dict[str, Any]]]) -> list[str]:
    """The bare script: the engine's exact calls, with plain boto3, nothing else."""
    outcomes = []
    for service, operation, params in record:
        try:
            getattr(aws.client(service), operation)(**params)
            outcomes.append("ok")
        except ClientError as exc:  # the engine's "not found" look-ups fail here just the same
            outcomes.append(exc.response["Error"]["Code"])
    return outcomes


def same_work(record: list[tuple[str, str, dict[str, Any]]], outcomes: list[str]) -> list[str]:
    """The outcomes that must match: not the look for the image, which the engine's build
    pushes through its own (unrecorded) client while section VI looks, so the engine may find
    it a poll earlier than the replay, which pushes nothing."""
    return [o for (s, op, _), o in zip(record, outcomes, strict=True) if (s, op) != IMAGE_LOOK]


IMAGE_LOOK = ("ecr", "describe_images")


def engine_deploy(aws: Aws, state: Path) -> Runbook:
    settings = Settings().replace("database", instance_class="db.t4g.micro")
    # It also builds and pushes the app's image (the sandbox's engine stand-in), which the bare
    # script does not: that is part of what the runbook does for a person.
    engine = stand_in(aws.endpoint_url or "", state.parent / "engine")
    runbook = Runbook(
        settings,
        aws,
        StateFile(state),
        sandbox=True,
        sleep=lambda _: None,
        build=Build(engine=engine),
    )
    runbook.deploy()
    return runbook


def bare_deploy(aws: Aws) -> None:
    """What a hand-written boto3 script makes: the same resources, no discovery, no state."""
    c = aws.client
    tag = [{"Key": "fargate-runbook:deployment", "Value": "flask-todo"}]
    ecs_tag = [{"key": "fargate-runbook:deployment", "value": "flask-todo"}]
    vpc = c("ec2").describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]
    subnets = [
        s["SubnetId"]
        for s in c("ec2").describe_subnets(
            Filters=[
                {"Name": "vpc-id", "Values": [vpc["VpcId"]]},
                {"Name": "default-for-az", "Values": ["true"]},
            ]
        )["Subnets"]
    ]
    groups: dict[str, str] = {}
    for name, port, source in (("elb", 80, None), ("ecs", 5000, "elb"), ("db", 5432, "ecs")):
        gid = c("ec2").create_security_group(
            GroupName=f"flask-todo-{name}-sg",
            Description=name,
            VpcId=vpc["VpcId"],
            TagSpecifications=[{"ResourceType": "security-group", "Tags": tag}],
        )["GroupId"]
        groups[name] = gid
        origin: dict[str, Any] = (
            {"UserIdGroupPairs": [{"GroupId": groups[source]}]}
            if source
            else {"IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
        )
        c("ec2").authorize_security_group_ingress(
            GroupId=gid,
            IpPermissions=[{"IpProtocol": "tcp", "FromPort": port, "ToPort": port, **origin}],
        )
    tg = c("elbv2").create_target_group(
        Name="flask-todo-elb-target-group",
        Protocol="HTTP",
        Port=5000,
        VpcId=vpc["VpcId"],
        TargetType="ip",
        HealthCheckPath="/healthz",
        HealthCheckIntervalSeconds=15,
        HealthyThresholdCount=2,
        Tags=tag,
    )["TargetGroups"][0]["TargetGroupArn"]
    c("elbv2").modify_target_group_attributes(
        TargetGroupArn=tg,
        Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "30"}],
    )
    lb = c("elbv2").create_load_balancer(
        Name="flask-todo-elb",
        Subnets=subnets,
        SecurityGroups=[groups["elb"]],
        Scheme="internet-facing",
        Type="application",
        Tags=tag,
    )["LoadBalancers"][0]
    c("elbv2").create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"],
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}],
    )
    c("iam").create_service_linked_role(AWSServiceName="ecs.amazonaws.com")
    c("ecs").create_cluster(
        clusterName="flask-todo-cluster",
        capacityProviders=["FARGATE", "FARGATE_SPOT"],
        tags=ecs_tag,
    )
    c("logs").create_log_group(logGroupName="/ecs/flask-todo")
    c("logs").put_retention_policy(logGroupName="/ecs/flask-todo", retentionInDays=30)
    db = c("rds").create_db_instance(
        DBInstanceIdentifier="flask-todo-db",
        DBInstanceClass="db.t4g.micro",
        Engine="postgres",
        EngineVersion="16.4",
        DBName="flask_todo",
        MasterUsername="flask_todo",
        ManageMasterUserPassword=True,
        AllocatedStorage=20,
        StorageEncrypted=True,
        PubliclyAccessible=False,
        VpcSecurityGroupIds=[groups["db"]],
        Tags=tag,
    )["DBInstance"]
    db = c("rds").describe_db_instances(DBInstanceIdentifier="flask-todo-db")["DBInstances"][0]
    role = c("iam").create_role(
        RoleName="ecsTaskExecutionRole",
        AssumeRolePolicyDocument=allow(
            "sts:AssumeRole", Principal={"Service": "ecs-tasks.amazonaws.com"}
        ),
        Tags=tag,
    )["Role"]
    c("iam").attach_role_policy(
        RoleName="ecsTaskExecutionRole",
        PolicyArn="arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
    )
    secret = db["MasterUserSecret"]["SecretArn"]
    c("iam").put_role_policy(
        RoleName="ecsTaskExecutionRole",
        PolicyName="read-db-secret",
        PolicyDocument=allow("secretsmanager:GetSecretValue", Resource=secret),
    )
    repo = c("ecr").create_repository(repositoryName="flask-todo")["repository"]
    td = c("ecs").register_task_definition(
        family="flask-todo",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        executionRoleArn=role["Arn"],
        containerDefinitions=[
            {
                "name": "todo-api",
                "image": repo["repositoryUri"] + ":latest",
                "memory": 500,
                "memoryReservation": 300,
                "portMappings": [{"containerPort": 5000}],
                "entryPoint": ["bin/flask-run.sh"],
                "environment": [{"name": "DB_HOST", "value": db["Endpoint"]["Address"]}],
                "secrets": [{"name": "DB_PWD", "valueFrom": secret + ":password::"}],
            }
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    c("ecs").create_service(
        cluster="flask-todo-cluster",
        serviceName="flask-todo-service",
        taskDefinition=td,
        desiredCount=1,
        launchType="FARGATE",
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": subnets,
                "securityGroups": [groups["ecs"]],
                "assignPublicIp": "ENABLED",
            }
        },
        loadBalancers=[{"targetGroupArn": tg, "containerName": "todo-api", "containerPort": 5000}],
        healthCheckGracePeriodSeconds=60,
    )
    c("ecs").describe_services(cluster="flask-todo-cluster", services=["flask-todo-service"])
    c("elbv2").describe_load_balancers(LoadBalancerArns=[lb["LoadBalancerArn"]])
    c("elbv2").describe_target_health(TargetGroupArn=tg)  # the summary the engine also shows


# The default plan in a fresh process, checked against botocore's shapes as `runbook plan`
# always did; then the same, also checked against AWS's rules: the difference is their cost.
PLAN = """
from runbook.model_check import check
from runbook.settings import Settings
from runbook.steps import STEPS
s = Settings().replace("database", instance_class="db.t4g.micro")
actions = [a for step in STEPS for a in step.plan(s, None)]
shapes = [check(a) for a in actions]
"""
CHECK = """
from runbook.aws_rules import Census
Census().add(actions, {})
"""


def aws_rules_figures(checked: float, unchecked: float) -> None:
    """How many planned calls are checked against how many rules, and where the rules are from."""
    from runbook.aws_rules import Census

    base = Settings().replace("database", instance_class="db.t4g.micro")
    full = (
        Settings(master_password="s3cret-Pass!")
        .replace("database", instance_class="db.t4g.micro")
        .replace("domain", name="todo.example.com")
        .replace("auto_scaling", max_tasks=4)
    )
    print("\n== AWS's rules on the offline plan (runbook.rules)")
    for label, s in (("default", base), ("every section on", full)):
        census = Census()
        census.add([a for step in STEPS for a in step.plan(s, None)], {})
        sources = ", ".join(f"{n} {k}" for k, n in census.by_source().items())
        print(
            f"  {label:17} {census.calls} calls checked, {census.refused} refused, against "
            f"{len(census.rules)} rules ({sources})"
        )
    print(f"  fresh process, plan + shapes   {unchecked:6.3f} s (median)")
    print(
        f"  ... + AWS's rules              {checked:6.3f} s "
        f"(the rules: +{checked - unchecked:.3f} s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parse(parser, runs=1)
    runs = args.runs

    print("== runbook plan: whole process, offline, no credentials (median of", runs, "runs)")
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env |= {"AWS_CONFIG_FILE": f"{tmp}/none", "AWS_SHARED_CREDENTIALS_FILE": f"{tmp}/none"}
        # With preflight's fix: the guide's db.t2.micro is refused by AWS's rules (exit 2).
        fixed = Path(tmp) / "fixed.toml"
        fixed.write_text('[database]\ninstance_class = "db.t4g.micro"\n')
        config = ["--config", str(fixed)]
        python = timed_process([sys.executable, "-c", "pass"], env, runs)
        boto = timed_process([sys.executable, "-c", "import boto3"], env, runs)
        plan = timed_process(
            [sys.executable, "-m", "runbook.cli", "plan", "--offline", *config], env, runs
        )
        help_time = timed_process([sys.executable, "-m", "runbook.cli", "--help"], env, runs)
        plan_json = timed_process(
            [sys.executable, "-m", "runbook.cli", "plan", "--json", *config], env, runs
        )
        checked = timed_process([sys.executable, "-c", PLAN + CHECK], env, runs)
        unchecked = timed_process([sys.executable, "-c", PLAN], env, runs)
    print(f"  python -c pass        {python:6.3f} s")
    print(f"  python -c 'import boto3' {boto:6.3f} s")
    print("  " + figure(GOAL_PLAN, plan, args.smoke, digits=3))
    print("  " + figure(GOAL_HELP, help_time, args.smoke, digits=3))
    print(f"  runbook plan --json   {plan_json:6.3f} s")
    aws_rules_figures(checked, unchecked)

    emulator = Emulator().start()
    print(f"\n== sandbox deploy: engine vs bare boto3 replaying its exact calls ({runs} pairs)")
    engine_times, replay_times = [], []
    with tempfile.TemporaryDirectory() as tmp:
        # moto's first use draws random numbers the seed does not cover: prime it once. A
        # smoke run's one pair matches without it (each side's warm-up runs after the seed).
        if not args.smoke:
            fresh_seeded(emulator)
            engine_deploy(
                RecordingAws("us-east-1", endpoint_url=emulator.url, credentials=CREDENTIALS),
                Path(tmp) / "prime.json",
            )
        for n in range(runs):
            fresh_seeded(emulator)
            aws = RecordingAws("us-east-1", endpoint_url=emulator.url, credentials=CREDENTIALS)
            warm(aws)
            aws.record.clear()
            aws.outcomes.clear()
            started = time.perf_counter()
            engine_deploy(aws, Path(tmp) / f"replay-{n}.json")
            engine_times.append(time.perf_counter() - started)
            fresh_seeded(emulator)
            bare = Aws("us-east-1", endpoint_url=emulator.url, credentials=CREDENTIALS)
            warm(bare)
            started = time.perf_counter()
            outcomes = replay(bare, aws.record)
            replay_times.append(time.perf_counter() - started)
            if same_work(aws.record, outcomes) != same_work(aws.record, aws.outcomes):
                # then it was not the same work: no figure
                raise SystemExit(f"replay diverged: {outcomes} != {aws.outcomes}")
    engine, bare_time = statistics.median(engine_times), statistics.median(replay_times)
    print(f"  engine deploy (median) {engine:6.3f} s   ({len(aws.record)} API calls)")
    print(f"  bare replay  (median) {bare_time:6.3f} s   (the same {len(aws.record)} calls)")
    print(f"  overhead ratio         {engine / bare_time:6.2f}x   (goal <= 1.3x)")

    print(f"\n== sandbox deploy: engine vs a minimal hand-written script ({runs} pairs)")
    engine_times, bare_times = [], []
    first: Counter[str] = Counter()
    second: Counter[str] = Counter()
    bare_calls = 0
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(runs):
            aws = account(emulator.url)
            warm(aws)
            started = time.perf_counter()
            engine_deploy(aws, Path(tmp) / f"state-{n}.json")
            engine_times.append(time.perf_counter() - started)
            first = Counter(aws.calls)
            aws.calls.clear()
            engine_deploy(aws, Path(tmp) / f"state-{n}.json")
            second = Counter(aws.calls)

            aws = account(emulator.url)
            warm(aws)
            started = time.perf_counter()
            bare_deploy(aws)
            bare_times.append(time.perf_counter() - started)
            bare_calls = sum(aws.calls.values())
    emulator.stop()
    engine, bare = statistics.median(engine_times), statistics.median(bare_times)
    print(f"  engine deploy (median) {engine:6.3f} s   ({sum(first.values())} API calls)")
    print(f"  hand-written  (median) {bare:6.3f} s   ({bare_calls} API calls: no discovery,")
    print("                                    so it can neither resume nor adopt)")
    print(f"  ratio                  {engine / bare:6.2f}x")

    writes = ("Create", "Put", "Register", "Update", "Modify", "Authorize", "Attach", "Add", "Tag")
    changing = sum(v for k, v in first.items() if k.split(".")[1].startswith(writes))
    second_changing = sum(v for k, v in second.items() if k.split(".")[1].startswith(writes))
    print("\n== API calls")
    print(f"  first deploy:  {sum(first.values())} calls, {changing} of them changing")
    print(
        f"  second deploy: {sum(second.values())} calls, {second_changing} changing "
        "(goal: reads only, about one per resource; the deployment has 19 resources)"
    )


if __name__ == "__main__":
    run(main)
