"""The background sandbox the command line shares between commands: start, find, stop.

`python -m runbook.sandbox serve` runs the emulator and the whole data plane; its info file
(.runbook/sandbox.json) says where it answers, its folder, its timings, its container engine
stand-in, the local URL of each load balancer and every process it started. It stops by
itself after IDLE_SECONDS without a call; `runbook sandbox stop` stops it at once. Either
way every process it started ends and its data goes.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from runbook.sandbox.timings import Timings

INFO_FILE = Path(".runbook") / "sandbox.json"
IDLE_SECONDS = 30 * 60


class SandboxError(RuntimeError):
    """The background sandbox cannot be used as asked."""


def _alive(url: str) -> bool:
    try:
        # The dashboard page, not data.json: that one fails once an RDS instance exists.
        urllib.request.urlopen(f"{url}/moto-api/", timeout=2).close()
        return True
    except OSError:
        return False


def read_info(info: Path = INFO_FILE) -> dict[str, Any] | None:
    try:
        return json.loads(info.read_text())
    except (OSError, ValueError):
        return None


def _write_info(info: Path, data: dict[str, Any]) -> None:
    tmp = info.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2))
    tmp.replace(info)


def running(info: Path = INFO_FILE) -> dict[str, Any] | None:
    """The running sandbox's info, or None."""
    known = read_info(info)
    return known if known and _alive(known["url"]) else None


def ensure_running(
    info: Path = INFO_FILE,
    timeout: float = 30.0,
    timings: Timings | None = None,
    idle: float = IDLE_SECONDS,
) -> str:
    """The URL of the background sandbox, starting it if none answers."""
    known = running(info)
    if known:
        if timings is not None and known.get("timings") != str(timings):
            raise SandboxError(
                f"The sandbox is already running with --timings {known.get('timings')}; "
                "stop it first (runbook sandbox stop) to change its timings."
            )
        return str(known["url"])
    info.parent.mkdir(parents=True, exist_ok=True)
    info.unlink(missing_ok=True)
    log = (info.parent / "sandbox.log").open("ab")
    command = [sys.executable, "-m", "runbook.sandbox", "serve", "--info", str(info)]
    command += ["--timings", str(timings or Timings()), "--idle", str(idle)]
    subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        known = read_info(info)
        if known and _alive(known["url"]):
            return str(known["url"])
        time.sleep(0.05)
    raise SandboxError(f"The sandbox did not start within {timeout:.0f} s; see {log.name}.")


def local_url(dns_name: str, info: Path = INFO_FILE) -> str:
    """The running sandbox's local URL for a load balancer's DNS name (LookupError if none)."""
    known = read_info(info) or {}
    found = (known.get("load_balancers") or {}).get(dns_name)
    if not found:
        raise LookupError(f"the sandbox has no listener for {dns_name}")
    return str(found)


def engine_path(info: Path = INFO_FILE) -> str:
    """The running sandbox's container engine stand-in: the `docker` the runbook runs."""
    known = read_info(info) or {}
    if not known.get("engine"):
        raise SandboxError("The sandbox is not running (or too old to build images); restart it.")
    return str(known["engine"])


def gone(pid: int) -> bool:
    """No such process, or only its zombie left."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    # A zombie child of ours counts as gone.
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")
    return False


def stop(info: Path = INFO_FILE, timeout: float = 30.0) -> bool:
    """Stop the background sandbox and everything it started; False if none was running."""
    known = read_info(info)
    info.unlink(missing_ok=True)
    if not known:
        return False
    pid = int(known["pid"])
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while not gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    # Whatever outlived it (it was killed, or hung): end it here.
    for other in [pid, *known.get("pids", [])]:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(int(other), signal.SIGKILL)
    if known.get("folder"):
        shutil.rmtree(known["folder"], ignore_errors=True)
    return True


def serve(info: Path, timings: Timings, idle: float) -> None:
    """Run the emulator with the whole data plane until SIGTERM or `idle` seconds unused."""
    from runbook.sandbox.container_engine import install as install_engine
    from runbook.sandbox.dataplane import PARTS
    from runbook.sandbox.emulator import Emulator

    data: dict[str, Any] = {"pid": os.getpid(), "timings": str(timings), "started": time.time()}
    lock = threading.Lock()

    def say(message: str) -> None:
        now = time.time()
        stamp = time.strftime("%H:%M:%S", time.localtime(now)) + f".{int(now % 1 * 1000):03d}"
        print(f"{stamp} {message}", flush=True)

    def update(**changes: Any) -> None:
        with lock:
            data.update(changes)
            if data.get("url"):
                _write_info(info, data)

    emulator = Emulator(
        parts=PARTS,
        timings=timings,
        announce=say,
        on_listeners=lambda urls: update(load_balancers=urls),
    )
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    emulator.start()
    assert emulator.data_plane is not None
    plane = emulator.data_plane
    # The container engine the command line points the runbook at: it builds into the store
    # the tasks pull from, and pushes into this emulator's ECR.
    engine = install_engine(plane.folder / "bin", emulator.url, plane.folder, timings)
    update(
        url=emulator.url, folder=str(plane.folder), engine=str(engine), load_balancers={}, pids=[]
    )
    threading.Thread(target=plane.warm_up, daemon=True).start()
    say(f"sandbox: emulator at {emulator.url}, data in {plane.folder}, timings {timings}")
    try:
        while not stopping.wait(1.0):
            update(pids=plane.pids())
            if time.monotonic() - emulator.last_call > idle:
                say(f"sandbox: no call for {idle / 60:.0f} minutes; stopping")
                break
    finally:
        say("sandbox: stopping tasks, listeners and databases")
        emulator.stop()
        with contextlib.suppress(OSError):
            if (read_info(info) or {}).get("pid") == os.getpid():
                info.unlink()
        say("sandbox: stopped")
