"""Two `runbook deploy --yes --sandbox` at once on one deployment: one waits for the other.

Real processes, as two terminals would start them, against one background sandbox: both end
well, one says it waited for the other (naming its command and process id), and the
deployment has exactly one task definition revision (the second run found everything made
and changed nothing), instead of two revisions for the same content and a false rollback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from runbook import sandbox
from runbook.aws import Aws
from runbook.sandbox.background import credentials, read_info

FIXED = '[database]\ninstance_class = "db.t4g.micro"\n'
DEPLOY = ["deploy", "--yes", "--sandbox", "--config", "fixed.toml"]


def runbook(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "runbook.cli", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> tuple[int, str]:
    out, _ = process.communicate(timeout=600)
    return process.returncode, out


def test_two_deploys_at_once_make_one_revision_and_one_waits(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["COLUMNS"] = "200"  # the lines the test reads stay whole
    (tmp_path / "fixed.toml").write_text(FIXED)
    try:
        code, out = finish(runbook("sandbox", "start", cwd=tmp_path, env=env))
        assert code == 0, out
        first, second = (runbook(*DEPLOY, cwd=tmp_path, env=env) for _ in range(2))
        (code1, out1), (code2, out2) = finish(first), finish(second)
        print(f"--- first (process {first.pid}) ---\n{out1}")
        print(f"--- second (process {second.pid}) ---\n{out2}")
        assert (code1, code2) == (0, 0), out1 + out2
        waited = [
            (out, other)
            for out, other in ((out1, second), (out2, first))
            if "Waiting for another run of this deployment to end" in out
        ]
        assert len(waited) == 1, out1 + out2
        out, other = waited[0]
        said = " ".join(out.split())
        assert (
            "Waiting for another run of this deployment to end: `runbook deploy --yes "
            f"--sandbox --config fixed.toml` (process {other.pid}, since "
        ) in said
        assert "The other run ended; this one goes on." in said
        assert "rolled the new revision back" not in said and "HTTP 200" in said

        info = read_info(tmp_path / sandbox.INFO_FILE)
        assert info is not None
        keys = credentials(tmp_path / sandbox.INFO_FILE)  # the sandbox answers only its owner
        aws = Aws("us-east-1", endpoint_url=info["url"], credentials=keys)
        revisions = aws.call("ecs", "list_task_definitions", familyPrefix="flask-todo")
        assert len(revisions["taskDefinitionArns"]) == 1, revisions
    finally:  # ends every process the sandbox started, and removes its data
        finish(runbook("sandbox", "stop", cwd=tmp_path, env=env))
