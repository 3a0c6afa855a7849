"""A command imports only what it uses: `runbook --help` reads its arguments and nothing else,
and an offline plan sends nothing, so it never loads boto3, botocore or the app (issue 18).

Each command runs in a process of its own (a test process has everything loaded already),
and the process says which of the heavy packages it loaded. How long they take is measured by
bench/bench_start_up.py, never here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from runbook import cli

HEAVY = ("boto3", "botocore", "s3transfer", "urllib3", "textual", "screens", "moto")

# Runs `runbook ARGS` in this process and prints its exit code and the modules it loaded.
PROBE = """
import json, sys
from runbook.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:  # --help exits through argparse
    code = exc.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def loaded(tmp_path: Path, *args: str) -> tuple[int, set[str]]:
    """The exit code of `runbook ARGS`, and the top-level packages and runbook modules it
    imported, with no credentials and no state file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTEST_"))}
    env |= {
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    modules = set(report["modules"])
    return report["code"], {m.split(".")[0] for m in modules} | {
        m for m in modules if m.startswith("runbook.")
    }


def test_help_imports_no_command_nor_rich(tmp_path: Path) -> None:
    code, modules = loaded(tmp_path, "--help")
    assert code == cli.OK
    unwanted = {*HEAVY, "rich", "runbook.engine", "runbook.settings", "runbook.steps"}
    assert not modules & unwanted, sorted(modules & unwanted)


@pytest.mark.parametrize("command", ["destroy", "scale", "plan"])
def test_a_command_s_help_imports_no_command_either(tmp_path: Path, command: str) -> None:
    code, modules = loaded(tmp_path, command, "--help")
    assert code == cli.OK
    assert not modules & {*HEAVY, "rich", "runbook.engine"}, sorted(modules)


@pytest.mark.parametrize("output", [[], ["--json"]])
def test_an_offline_plan_loads_neither_boto3_nor_botocore(
    tmp_path: Path, output: list[str]
) -> None:
    """The second run: the first may build the compact index of botocore's models (it reads
    botocore's data once per botocore version); every later one reads only the index."""
    loaded(tmp_path, "plan", "--offline", *output)
    code, modules = loaded(tmp_path, "plan", "--offline", *output)
    assert code == cli.BAD_INPUT  # the guide's db.t2.micro: refused by AWS's rules, as ever
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))
    # What only a run that reaches AWS uses: the summary's probe (urllib, ssl), the image's build.
    reaching_aws = {"runbook.summary", "runbook.image.job", "ssl"}
    assert not modules & reaching_aws, sorted(modules & reaching_aws)
