"""The fresh-machine check starts with the session, beside every other test.

It spends minutes waiting on Debian's mirror and PyPI, not on the CPU. Run as a test it
would hold one of the two workers all that time and leave the other to run the rest of the
suite alone; so the session's first process (xdist's controller, or pytest itself without
xdist) starts it in the background before any worker exists, and the test, sorted last,
only reads what it found. The run dies with the session (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

RESULT = "RUNBOOK_PRISTINE_RESULT"  # where the background run writes; workers inherit it
WAIT = 2400.0  # the check's own limits (the root's build, then the run) come first
PR_SET_PDEATHSIG = 1
REPO = Path(__file__).resolve().parents[2]


def wanted(config: pytest.Config) -> bool:
    """Whether this session runs the check: not deselected, and among the paths given."""
    if "not pristine" in (config.option.markexpr or ""):
        return False
    here = REPO / "tests" / "pristine"
    for arg in config.args:
        path = Path(arg.split("::", 1)[0]).resolve()
        if path == here or here in path.parents or path in here.parents:
            return True
    return False


def start(config: pytest.Config) -> None:
    if hasattr(config, "workerinput") or RESULT in os.environ or not wanted(config):
        return  # a worker, a session inside a session, or a run without the check
    result = Path(tempfile.mkdtemp(prefix="runbook-pristine-result-")) / "result.json"
    os.environ[RESULT] = str(result)
    subprocess.Popen(
        [sys.executable, "-m", "tests.pristine.test_fresh_machine", str(result)],
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=_die_with_session,
    )


def _die_with_session() -> None:
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def result() -> dict[str, Any] | None:
    """What the background run found, waited for; None when none was started."""
    path = os.environ.get(RESULT)
    if not path:
        return None
    deadline = time.monotonic() + WAIT
    while not Path(path).exists():
        if time.monotonic() > deadline:
            return {"error": f"the background check wrote nothing in {WAIT:.0f} s"}
        time.sleep(1)
    return json.loads(Path(path).read_text())


def write(path: Path, check: Callable[[], dict[str, Any]]) -> None:
    try:
        found = check()
    except BaseException:  # the test reports it; this process has no one else to tell
        found = {"error": traceback.format_exc()}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(found))
    tmp.replace(path)
