"""What the emulator's front door costs a call: checking Host, Origin and the SigV4 signature.

Run: python bench/bench_signature.py [--calls N]
Times runbook.sandbox.owner_only.OwnerOnly's check alone (no moto behind it) on calls as the
runbook sends them: a JSON call (ECS RegisterTaskDefinition), a query call (EC2
DescribeSecurityGroups, form-encoded) and a refused one (a wrong secret). Multiply the median
by the calls a deploy makes (the sandbox's log says, at stop: "N calls taken") for what the
check adds to a sandbox deploy.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import time
from typing import Any

from goals import parse, run

from runbook.sandbox.account import CREDENTIALS, new_credentials
from runbook.sandbox.owner_only import OwnerOnly
from runbook.sandbox.signature import sign

HOST = "127.0.0.1:40000"


def environ(headers: dict[str, str], body: bytes) -> dict[str, Any]:
    found: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "RAW_URI": "/",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        found[key if key == "CONTENT_TYPE" else f"HTTP_{key}"] = value
    return found


def calls() -> dict[str, tuple[dict[str, str], bytes]]:
    task = json.dumps({"family": "flask-todo", "containerDefinitions": [{"name": "a"}]}).encode()
    ecs = {
        "Host": HOST,
        "X-Amz-Target": "AmazonEC2ContainerServiceV20141113.RegisterTaskDefinition",
        "Content-Type": "application/x-amz-json-1.1",
    }
    query = b"Action=DescribeSecurityGroups&Version=2016-11-15&GroupName.1=flask-todo-elb-sg"
    ec2 = {"Host": HOST, "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    wrong = {**CREDENTIALS, "aws_secret_access_key": new_credentials()["aws_secret_access_key"]}
    return {
        "JSON call (ECS), taken": (_signed(CREDENTIALS, "ecs", ecs, task), task),
        "query call (EC2), taken": (_signed(CREDENTIALS, "ec2", ec2, query), query),
        "wrong secret, refused": (_signed(wrong, "ecs", ecs, task), task),
    }


def _signed(keys: dict[str, str], service: str, headers: dict[str, str], body: bytes) -> dict:
    return sign("POST", f"http://{HOST}/", keys, service=service, headers=headers, body=body)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=2000)
    count = parse(parser, calls=50).calls
    door = OwnerOnly(lambda environ, start: [b""], CREDENTIALS)
    door.answer_as(40000)
    for name, (headers, body) in calls().items():
        times = []
        for _ in range(count):
            env = environ(headers, body)
            started = time.perf_counter()
            door.refusal(env)
            times.append(time.perf_counter() - started)
        median, p95 = statistics.median(times), sorted(times)[count * 95 // 100]
        print(f"{name}: median {median * 1e6:.0f} µs a call, p95 {p95 * 1e6:.0f} µs")


if __name__ == "__main__":
    run(main)
