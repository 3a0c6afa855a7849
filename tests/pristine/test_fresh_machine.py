"""The main job on a machine that has never run anything of ours, as root and as a new user:
a pristine Debian root (debootstrap minbase, plus only what the README says a Debian user
installs), a private mount and pid namespace, chroot; a copy of the project's files (what
git tracks or would track, never a venv, a cache, a state file); the README's install
command as written, pip fetching from PyPI; then `runbook deploy --yes --sandbox`, the Todo
API through the local URL it prints, destroy, `sandbox stop`, and nothing left running.

Nothing of this machine reaches the root but how it reaches the network: its resolver
(resolv.conf) and the certificate bundle its pip trusts (this workplace's TLS goes through
a proxy whose CA only that bundle holds; on another machine it is just the usual CAs).
Every mount lives in the namespace and goes with it; so do all processes (the first one's
end ends them all). Figures (build, install, time to the first 200) go to the cache
folder's last-run.json.
"""

from __future__ import annotations

import configparser
import ctypes
import json
import os
import re
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from tests.pristine import early
from tests.pristine.debian_root import CannotBuild, cache_folder, pristine_root

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
RUN_TIMEOUT = 1800
PR_SET_PDEATHSIG = 1  # prctl(2)

pytestmark = pytest.mark.pristine

# Runs as the namespace's first process: mounts, then chroot into the root.
ENTER = r"""
set -eu
lower=$1 work=$2 stage=$3 install=$4
m=$work/merged
# Every write in the root goes to memory (the namespace's own tmpfs, gone with it): no disk
# to wait for, nothing to delete afterwards.
mount -t tmpfs -o size=6g,mode=700 tmpfs "$work"
mkdir -p "$work/upper" "$work/work" "$m"
mount -t overlay overlay -o "lowerdir=$lower,upperdir=$work/upper,workdir=$work/work" "$m"
mount -t proc proc "$m/proc"
# A /dev of its own: the few devices programs expect, none of the machine's disks.
mount -t tmpfs -o mode=755,nosuid tmpfs "$m/dev"
for node in null zero full random urandom tty; do
    touch "$m/dev/$node"
    mount --bind "/dev/$node" "$m/dev/$node"
done
mkdir -m 755 "$m/dev/pts"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$m/dev/pts"
ln -s pts/ptmx "$m/dev/ptmx"
mkdir -m 1777 "$m/dev/shm"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$m/dev/shm"
ln -s /proc/self/fd "$m/dev/fd"
cp -R "$stage/." "$m/"
exec chroot "$m" /usr/bin/env -i \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    /usr/bin/python3 /opt/pristine/inside.py /opt/pristine/project.tar "$install"
"""


def readme_install() -> str:
    """The README's first command, less its last part (`runbook --sandbox`, the app, which
    needs a person): what a new user types to install."""
    text = (REPO / "README.md").read_text()
    block = re.search(r"```sh\n(.*?)```", text, re.DOTALL)
    assert block, "README.md has no ```sh block"
    first = block.group(1).strip().splitlines()[0]
    install, _, last = first.rpartition(" && ")
    assert last == "runbook --sandbox", f"README's first command changed its shape: {first}"
    return install


def project_files() -> list[Path]:
    """What git tracks or would track (not ignored), as in the working tree; never a venv."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=REPO,
            capture_output=True,
            check=True,
            timeout=60,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"the project's files come from git, and git cannot list them here: {exc}")
    files = [Path(name.decode()) for name in listed.split(b"\0") if name]
    venvs = {f.parent for f in files if f.name == "pyvenv.cfg"}
    return [
        f
        for f in files
        if (REPO / f).is_file() and not any(v == f or v in f.parents for v in venvs)
    ]


def pack_project(target: Path) -> int:
    with tarfile.open(target, "w") as tar:
        files = project_files()
        for name in files:
            info = tar.gettarinfo(REPO / name, arcname=str(name))
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            with open(REPO / name, "rb") as file:
                tar.addfile(info, file)
    target.chmod(0o644)
    return len(files)


def trusted_bundle() -> Path | None:
    """The CA bundle this machine's pip is set to trust, if any (PIP_CERT or pip.conf)."""
    named = os.environ.get("PIP_CERT")
    if not named:
        for config in (Path("/etc/pip.conf"), Path("/etc/xdg/pip/pip.conf")):
            parser = configparser.ConfigParser()
            try:
                parser.read(config)
            except configparser.Error:
                continue
            named = parser.get("global", "cert", fallback=None)
            if named:
                break
    return Path(named) if named and Path(named).is_file() else None


def stage(folder: Path) -> int:
    """What is copied into the root before chroot; returns the project's file count."""
    (folder / "etc" / "ssl" / "certs").mkdir(parents=True)
    (folder / "opt" / "pristine").mkdir(parents=True)
    shutil.copy("/etc/resolv.conf", folder / "etc" / "resolv.conf")
    bundle = trusted_bundle()
    if bundle is not None:
        shutil.copy(bundle, folder / "etc" / "ssl" / "certs" / "machine-ca.crt")
        (folder / "etc" / "pip.conf").write_text("[global]\ncert = /etc/ssl/certs/machine-ca.crt\n")
    shutil.copy(HERE / "inside.py", folder / "opt" / "pristine" / "inside.py")
    return pack_project(folder / "opt" / "pristine" / "project.tar")


def _die_with_parent() -> None:
    """unshare ends if this test's process does (a killed worker leaves no namespace)."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def run_inside(root: Path, install: str) -> tuple[dict[str, Any], float]:
    work = Path(tempfile.mkdtemp(prefix="runbook-pristine-"))
    try:
        staged, namespace = work / "stage", work / "ns"
        stage(staged)
        namespace.mkdir()
        started = time.monotonic()
        done = subprocess.run(
            [
                "unshare",
                "--mount",
                "--pid",
                "--fork",
                "--kill-child",  # unshare's end ends the namespace (a timeout, say)
                "--propagation",
                "private",
                "sh",
                "-c",
                ENTER,
                "enter",
                str(root),
                str(namespace),
                str(staged),
                install,
            ],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            preexec_fn=_die_with_parent,
        )
        took = time.monotonic() - started
    finally:
        shutil.rmtree(work, ignore_errors=True)
    lines = done.stdout.strip().splitlines()
    assert done.returncode == 0 and lines, (
        f"the run in the root failed ({done.returncode}): {done.stderr[-2000:]}"
        f"{done.stdout[-2000:]}"
    )
    return json.loads(lines[-1]), took


def check() -> dict[str, Any]:
    """The whole check, run once: {"skip": why} or {"seen": ..., "figures": ...}."""
    install = readme_install()
    cache = cache_folder()
    started = time.monotonic()
    try:
        root, built = pristine_root(cache)
    except CannotBuild as reason:
        return {"skip": f"no pristine Debian root on this machine: {reason}"}
    # No pip cache: every run fetches from PyPI (and this network's proxy marks its answers
    # uncacheable, so pip would keep nothing anyway).
    seen, run_seconds = run_inside(root, install)
    figures = {
        "root_build_seconds": None if built is None else round(built, 1),
        "run_seconds": round(run_seconds, 1),
        "total_seconds": round(time.monotonic() - started, 1),
        **{
            f"{person}_{step}": facts.get(step, {}).get("seconds")
            for person, facts in seen["people"].items()
            for step in ("install", "deploy", "destroy", "stop")
        },
        **{
            f"{person}_first_200_after_deploy_start": facts.get("first_200_seconds")
            for person, facts in seen["people"].items()
        },
    }
    (cache / "last-run.json").write_text(json.dumps({"figures": figures, "seen": seen}, indent=1))
    return {"seen": seen, "figures": figures}


def test_the_readme_main_job_on_a_pristine_debian_as_root_and_as_a_new_user() -> None:
    # Started at the session's start (tests/pristine/early.py), it ran beside the others.
    ran = early.result() or check()
    if "skip" in ran:
        pytest.skip(ran["skip"])
    assert "error" not in ran, ran.get("error")
    seen = ran["seen"]
    for person, facts in seen["people"].items():
        report = json.dumps(facts, indent=1)
        assert "error" not in facts, f"{person}: {report}"
        assert facts["install"]["exit"] == 0, f"{person}: the README's install: {report}"
        assert facts["deploy"]["exit"] == 0, f"{person}: runbook deploy: {report}"
        api = facts.get("api")
        assert api, f"{person}: deploy printed no local URL: {report}"
        assert api["healthz"] == [200, {"status": "ok"}], report
        assert api["list"][0] == 200 and isinstance(api["list"][1], list), report
        status, made = api["post"]
        assert status == 201 and made["title"] == f"written by {person}", report
        assert api["read_back"] == [200, made], report
        assert facts["destroy"]["exit"] == 0, f"{person}: runbook destroy: {report}"
        assert facts["stop"]["exit"] == 0, f"{person}: runbook sandbox stop: {report}"
    # Two sandboxes at once, two users: each its own loopback block.
    urls = [facts["api"]["url"] for facts in seen["people"].values()]
    blocks = {url.split("//")[1].rsplit(".", 1)[0] for url in urls}
    assert len(blocks) == len(urls), urls
    assert seen["running"] == [], "left running after sandbox stop"
    assert not [n for n in seen["left_in_temp"] if n.startswith("runbook-")], seen


if __name__ == "__main__":  # the background run early.py starts: python -m ... RESULT
    import sys

    early.write(Path(sys.argv[1]), check)
