"""Failing-database benchmark: what a database that cannot start costs the background sandbox.

Run (as root): python bench/bench_failing_database.py [--source DIR] [--seconds 60]
It starts `python -m runbook.sandbox serve` from DIR (this checkout by default; a `git
archive` of another commit gives the "before") in a private mount namespace whose
/etc/passwd has no `pgserver` user, so the embedded PostgreSQL's initdb fails for real, as on
a fresh machine (issue 14). It creates one RDS instance and, for the given time, counts the
sandbox log's lines and bytes about it, the loopback addresses its tries took, and the
sandbox process's CPU time (utime + stime from /proc). The host's own users are untouched.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3
from goals import parse, run, skip

from runbook.sandbox.background import SandboxError, credentials

ROOT = Path(__file__).resolve().parents[1]
ADDRESS = re.compile(r"127\.\d+\.\d+\.\d+")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def serve_pid(shell: int) -> int:
    """The sandbox's own process: the shell's child once it has exec'd python."""
    for _ in range(100):
        children = Path(f"/proc/{shell}/task/{shell}/children")
        found = children.read_text().split() if children.exists() else []
        if found:
            return int(found[0])
        if "python" in Path(f"/proc/{shell}/cmdline").read_bytes().decode(errors="replace"):
            return shell  # sh exec'd it in place
        time.sleep(0.05)
    raise RuntimeError("the sandbox process did not appear")


def sandbox_keys(info: Path, known: dict[str, object]) -> dict[str, str]:
    """The keys the sandbox answers to: its own, in a file beside its info file (the sandbox
    refuses any other signature since it answers only its owner); an older source's
    sandbox took any keys, or those in its info file."""
    try:
        return credentials(info)
    except SandboxError:
        return {
            "aws_access_key_id": str(known.get("access_key_id", "sandbox")),
            "aws_secret_access_key": str(known.get("secret_access_key", "sandbox")),
        }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", type=Path, default=ROOT)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument(
        "--skip", type=float, default=0.0, help="seconds after the create before counting"
    )
    args = parse(parser, seconds=2.0)
    if os.geteuid() != 0:
        skip("it must run as root: the private mount namespace needs it")
    if shutil.which("unshare") is None:
        skip("unshare (util-linux) is not installed: the private mount namespace needs it")
    work = Path(tempfile.mkdtemp(prefix="bench-failing-db-"))
    passwd = work / "passwd"
    passwd.write_text(
        "".join(
            line
            for line in Path("/etc/passwd").read_text().splitlines(keepends=True)
            if not line.startswith("pgserver:")
        )
    )
    info, log = work / ".runbook" / "sandbox.json", work / "sandbox.log"
    info.parent.mkdir()
    env = {**os.environ, "PYTHONPATH": str(args.source.resolve())}
    serve = f"{sys.executable} -m runbook.sandbox serve --info {info} --idle 3600"
    with log.open("wb") as out:
        shell = subprocess.Popen(
            [
                "unshare",
                "-m",
                "--propagation",
                "private",
                "sh",
                "-c",
                f"mount --bind {passwd} /etc/passwd && exec {serve}",
            ],
            cwd=work,
            env=env,
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while not info.exists():
            if time.monotonic() > deadline or shell.poll() is not None:
                sys.exit(f"the sandbox did not start; see {log}")
            time.sleep(0.1)
        known = json.loads(info.read_text())
        pid = serve_pid(shell.pid)
        rds = boto3.client(
            "rds", region_name="us-east-1", endpoint_url=known["url"], **sandbox_keys(info, known)
        )
        rds.create_db_instance(
            DBInstanceIdentifier="bench-db",
            DBInstanceClass="db.t4g.micro",
            Engine="postgres",
            EngineVersion="16",
            MasterUsername="postgres",
            ManageMasterUserPassword=True,
            AllocatedStorage=20,
        )
        time.sleep(args.skip)  # e.g. past the sandbox's warm-up and the first fast retries
        start_cpu, start_size = cpu_seconds(pid), log.stat().st_size
        time.sleep(args.seconds)
        cpu = cpu_seconds(pid) - start_cpu
        text = log.read_bytes()[start_size:].decode(errors="replace")
        lines = [line for line in text.splitlines() if "bench-db" in line]
        status = rds.describe_db_instances(DBInstanceIdentifier="bench-db")["DBInstances"][0]
        per_minute = 60 / args.seconds
        print(f"source: {args.source}")
        print(
            f"counted {args.seconds:.0f} s, from {args.skip:.0f} s after the create; "
            f"status then: {status['DBInstanceStatus']}"
        )
        print(f"log lines about the database per minute: {len(lines) * per_minute:.0f}")
        print(f"log bytes per minute: {len(text.encode()) * per_minute:.0f}")
        print(f"loopback addresses taken: {len(set(ADDRESS.findall(text)))}")
        share = 100 * cpu / args.seconds
        print(f"sandbox CPU: {cpu:.1f} s over {args.seconds:.0f} s ({share:.0f}% of a core)")
        for line in lines[:3]:
            print(f"  {line[:200]}")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(shell.pid, signal.SIGTERM)
        try:
            shell.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(shell.pid, signal.SIGKILL)
            shell.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    run(main)
