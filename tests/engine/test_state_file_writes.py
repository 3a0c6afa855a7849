"""A state file that cannot be written: a full disk, a read-only folder (issue 14, point 6).

The runbook runs as a person runs it, in its own process, against the emulator (through
AWS_ENDPOINT_URL), on a real small filesystem: a 64 KiB tmpfs in a private mount namespace,
filled up, or remounted read-only. It must stop before any call that changes something, with
one line naming the file and what to do, exit 2, and the file as it was. Where mount
namespaces are not available (not root), a file-size limit (RLIMIT_FSIZE) stands in for the
full disk and a folder without write permission for the read-only one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from runbook import cli
from runbook.sandbox import CREDENTIALS
from runbook.settings import Settings, to_record

MARK = "--- the state file after the run ---"


def can_mount() -> bool:
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    done = subprocess.run(
        ["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"],
        capture_output=True,
        timeout=30,
    )
    return done.returncode == 0


def recorded_state() -> str:
    """A deployment's state file with section I done: the deploy would go on from it."""
    settings = Settings().replace("database", instance_class="db.t4g.micro")
    return json.dumps(
        {
            "version": 2,
            "deployment_id": "d-0123456789ab",
            "account": "",
            "target": "sandbox",
            "settings": to_record(settings),
            "sections": {"I": {"status": "done", "outputs": {}, "error": "", "updated_at": 1}},
        },
        indent=2,
    )


def environment(emulator, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return env | {
        "AWS_ENDPOINT_URL": emulator.url,
        "AWS_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "RUNBOOK_CONTAINER_ENGINE": "",
    }


def deploy_on(folder: Path, how: str, tmp_path: Path, env: dict[str, str]) -> tuple[int, str, str]:
    """Mount a small filesystem at folder, put the state file there, make it full or
    read-only, run `runbook deploy --yes` on it; its exit status, its output, and the
    state file's content after it (read inside the namespace, where the mount lives)."""
    state = folder / "state.json"
    source = tmp_path / "source.json"
    source.write_text(recorded_state())
    then = {
        # Fill every block: the next write of any size fails with ENOSPC.
        "full": f"head -c 1048576 /dev/zero > {folder}/filler 2>/dev/null || true",
        # A lock file a run before left behind; then the folder is read-only.
        "read-only": f": > {folder}/.state.json.lock && mount -o remount,bind,ro {folder}",
    }[how]
    script = "\n".join(
        [
            "set -e",
            f"mount -t tmpfs -o size=64k,mode=0755 tmpfs {folder}",
            f"cp {source} {state}",
            then,
            "set +e",
            f"{sys.executable} -m runbook.cli deploy --yes --state {state}",
            'echo "rc=$?"',
            f"echo '{MARK}'",
            f"cat {state}",
        ]
    )
    done = subprocess.run(
        ["unshare", "-m", "sh", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out, _, after = done.stdout.partition(MARK + "\n")
    code = int(out.rsplit("rc=", 1)[1].split()[0])
    return code, out + done.stderr, after


@pytest.mark.skipif(not can_mount(), reason="needs root and mount namespaces (unshare -m)")
@pytest.mark.parametrize(
    ("how", "why"), [("full", "No space left on device"), ("read-only", "Read-only file system")]
)
def test_a_state_file_that_cannot_be_written_stops_the_deploy_before_any_change(
    emulator, tmp_path: Path, how: str, why: str
) -> None:
    folder = tmp_path / "small"
    folder.mkdir()
    code, out, after = deploy_on(folder, how, tmp_path, environment(emulator, tmp_path))
    state = folder / "state.json"
    assert code == cli.BAD_INPUT, out
    said = " ".join(out.split())
    assert f"✗ StateFileNotWritten: could not write {state}: {why}; it is as it was." in said
    assert "What to do: Free some space, or make its folder writable" in said
    assert "Traceback" not in out
    assert "create_security_group" not in out and "CreateSecurityGroup" not in out
    assert (
        hashlib.sha256(after.encode()).digest()
        == hashlib.sha256(recorded_state().encode()).digest()
    )


def test_a_write_past_the_file_size_limit_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    """Where no filesystem can be mounted: the kernel refuses the write (EFBIG) all the same."""
    state = tmp_path / "state.json"
    state.write_text(recorded_state())
    before = state.read_bytes()
    probe = (
        "import resource, sys\n"
        "from runbook.state import StateFile, StateWriteError\n"
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({len(before) // 2}, {len(before) // 2}))\n"
        f"state = StateFile(__import__('pathlib').Path({str(state)!r}))\n"
        "try:\n"
        "    state.record('II', 'running')\n"
        "except StateWriteError as exc:\n"
        "    print(exc.problem.message)\n"
        "    sys.exit(2)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stdout.strip() == f"could not write {state}: File too large; it is as it was."
    assert state.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]  # no half-written copy
