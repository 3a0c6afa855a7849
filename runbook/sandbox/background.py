"""The background sandbox the command line shares between commands: start, find, stop.

`python -m runbook.sandbox serve` runs the emulator and the whole data plane; its info file
(.runbook/sandbox.json) says where it answers, its folder, its timings, its container engine
stand-in, the local URL of each load balancer and every process it started (each with its
start time). Its keys, made at its start, wait beside it in sandbox-credentials.json; the
folder and everything in it are its owner's alone (0700, 0600), whoever that is, root too.
One sandbox per folder: starting takes an OS lock (.runbook/sandbox.lock), so starts at the
same time end with one sandbox. It stops by itself after IDLE_SECONDS without a call;
`runbook sandbox stop` stops it at once, signalling only processes that really are the ones
it recorded. Either way every process it started ends and the folder it made goes.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
import urllib.error
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from runbook.sandbox.sandbox_log import LIMIT, capture, last_lines
from runbook.sandbox.signature import open_signed
from runbook.sandbox.timings import Timings
from todo_app import process_identity

INFO_FILE = Path(".runbook") / "sandbox.json"
IDLE_SECONDS = 30 * 60
CREDENTIALS_NAME = "sandbox-credentials.json"
LOG_NAME = "sandbox.log"
LOCK_NAME = "sandbox.lock"
FOLDER_MARK = ".runbook-sandbox"  # in the data folder it made: the token its info file names
SERVE = ["-m", "runbook.sandbox", "serve"]


class SandboxError(RuntimeError):
    """The background sandbox cannot be used as asked."""


def own_folder(folder: Path) -> None:
    """`folder` exists, is a real folder (not a link), is ours and no one else's (0700)."""
    with contextlib.suppress(FileExistsError):
        folder.mkdir(mode=0o700, parents=True)
    found = os.lstat(folder)
    if not stat.S_ISDIR(found.st_mode):
        raise SandboxError(f"{folder} is not a folder (a link, or a file); remove it.")
    if found.st_uid != os.geteuid():
        raise SandboxError(
            f"{folder} belongs to another user (uid {found.st_uid}); the sandbox keeps its "
            "keys there, so it must be yours alone: remove it, or run from another folder."
        )
    if stat.S_IMODE(found.st_mode) != 0o700:
        folder.chmod(0o700)


def write_private(path: Path, text: str) -> None:
    """Write `path` whole (a reader never sees half of it), readable by its owner only."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    os.fchmod(fd, 0o600)  # whatever the umask
    with os.fdopen(fd, "w") as file:
        file.write(text)
    tmp.replace(path)


def credentials_file(info: Path = INFO_FILE) -> Path:
    return info.with_name(CREDENTIALS_NAME)


def credentials(info: Path = INFO_FILE) -> dict[str, str]:
    """The running sandbox's keys: what every client of it signs with."""
    try:
        found = json.loads(credentials_file(info).read_text())
        return {
            "aws_access_key_id": str(found["aws_access_key_id"]),
            "aws_secret_access_key": str(found["aws_secret_access_key"]),
        }
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SandboxError(
            f"The sandbox's keys ({credentials_file(info)}) cannot be read; stop it "
            "(runbook sandbox stop) and start it again."
        ) from exc


def _alive(url: str, info: Path) -> bool:
    try:
        keys = credentials(info)
    except SandboxError:
        return False
    try:
        # The dashboard page, not data.json: that one fails once an RDS instance exists.
        with open_signed(f"{url}/moto-api/", keys, service="moto", timeout=2):
            return True
    except (OSError, urllib.error.HTTPError):
        return False


def read_info(info: Path = INFO_FILE) -> dict[str, Any] | None:
    try:
        found = json.loads(info.read_text())
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def running(info: Path = INFO_FILE) -> dict[str, Any] | None:
    """The running sandbox's info, or None."""
    known = read_info(info)
    return known if known and _alive(str(known.get("url")), info) else None


@contextlib.contextmanager
def _start_lock(folder: Path) -> Iterator[None]:
    """Held while one command looks for the sandbox and, if none answers, starts it: a second
    command waits here, then finds the first one's sandbox. The OS drops it if we die."""
    fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def ensure_running(
    info: Path = INFO_FILE,
    timeout: float = 30.0,
    timings: Timings | None = None,
    idle: float = IDLE_SECONDS,
) -> str:
    """The URL of the background sandbox, starting it if none answers."""
    own_folder(info.parent)
    with _start_lock(info.parent):
        known = read_info(info)
        if known and is_sandbox(known):
            # Ours and alive: a busy one answers late, and is never replaced behind its back.
            deadline = time.monotonic() + timeout
            while not _alive(str(known.get("url")), info):
                if time.monotonic() > deadline:
                    raise SandboxError(
                        _failed(
                            f"The sandbox (pid {known['pid']}) runs but does not answer; "
                            "`runbook sandbox stop` ends it",
                            info.parent / LOG_NAME,
                        )
                    )
                time.sleep(0.2)
            if timings is not None and known.get("timings") != str(timings):
                raise SandboxError(
                    f"The sandbox is already running with --timings {known.get('timings')}; "
                    "stop it first (runbook sandbox stop) to change its timings."
                )
            return str(known["url"])
        # What a sandbox that died left (processes it recorded, its folder) goes first.
        stop(info, timeout=5.0)
        return _start(info, timeout, timings or Timings(), idle)


def _start(info: Path, timeout: float, timings: Timings, idle: float) -> str:
    log_path = info.parent / LOG_NAME
    command = [sys.executable, *SERVE, "--info", str(info), "--log", str(log_path)]
    command += ["--timings", str(timings), "--idle", str(idle)]
    # What it prints before it takes its log over (an import that fails) goes there too.
    fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    os.fchmod(fd, 0o600)
    try:
        child = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=fd, stderr=fd, start_new_session=True
        )
    finally:
        os.close(fd)
    deadline = time.monotonic() + timeout
    while True:
        code = child.poll()
        if code is not None:
            raise SandboxError(
                _failed(f"The sandbox stopped while starting (exit {code})", log_path)
            )
        known = read_info(info)
        if known and known.get("pid") == child.pid and _alive(str(known.get("url")), info):
            return str(known["url"])
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGTERM)
            raise SandboxError(
                _failed(f"The sandbox did not start within {timeout:.0f} s", log_path)
            )
        time.sleep(0.05)


def _failed(what: str, log: Path) -> str:
    tail = "\n".join(f"  {line}" for line in last_lines(log, 12))
    return f"{what}; the last lines of {log}:\n{tail}" if tail else f"{what}; see {log}."


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
        return Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].startswith("Z")
    return False


def is_sandbox(known: dict[str, Any]) -> bool:
    """The info file's pid is still the sandbox that wrote it: started when it says, and
    running `python -m runbook.sandbox serve` for this very info file."""
    pid = known.get("pid")
    if not process_identity.is_same(pid, known.get("process_start")):
        return False
    return process_identity.command_line(int(str(pid)))[1:4] == SERVE


def stop(info: Path = INFO_FILE, timeout: float = 30.0) -> bool:
    """Stop the background sandbox and everything it started; False if none was running.

    Only what it verifiably started is signalled (each pid with the start time it had when
    recorded); only the folder it made (marked with the token the info file names) is removed.
    An info file naming a live process that is not a sandbox is trusted in nothing.
    """
    known = read_info(info)
    if not known:
        info.unlink(missing_ok=True)
        return False
    pid, started = known.get("pid"), known.get("process_start")
    alive = process_identity.is_same(pid, started)
    ours = alive and is_sandbox(known)
    if alive and not ours:
        info.unlink(missing_ok=True)
        return False
    if ours:
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(str(pid)), signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while not gone(int(str(pid))) and time.monotonic() < deadline:
            time.sleep(0.05)
    # Whatever outlived it (it was killed, or hung): each still the process it recorded,
    # started after it.
    starts = known.get("process_starts")
    starts = starts if isinstance(starts, dict) else {}
    leftovers = [(other, starts.get(str(other))) for other in known.get("pids") or []]
    killed: list[int] = []
    for other, ticks in [*leftovers, (pid, started)]:
        later = isinstance(ticks, int) and isinstance(started, int) and ticks >= started
        if later and process_identity.is_same(other, ticks):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(int(str(other)), signal.SIGKILL)
                killed.append(int(str(other)))
    # SIGKILL is delivered, not awaited: a server still writing its files as rmtree walks
    # them leaves the folder behind, so wait for each to be gone first.
    deadline = time.monotonic() + 5
    while any(not gone(other) for other in killed) and time.monotonic() < deadline:
        time.sleep(0.02)
    removed = _remove_folder(known)
    info.unlink(missing_ok=True)
    credentials_file(info).unlink(missing_ok=True)
    return ours or removed


def _remove_folder(known: dict[str, Any]) -> bool:
    """Remove the data folder only if it is the one the sandbox made (its mark matches)."""
    folder, token = known.get("folder"), known.get("folder_token")
    if not isinstance(folder, str) or not isinstance(token, str) or not token:
        return False
    try:
        mark = (Path(folder) / FOLDER_MARK).read_text()
    except OSError:
        return False
    if not secrets.compare_digest(mark, token):
        return False
    for _ in range(50):  # a file a dying child wrote after the walk passed: walk again
        shutil.rmtree(folder, ignore_errors=True)
        if not Path(folder).exists():
            break
        time.sleep(0.05)
    return True


def serve(info: Path, timings: Timings, idle: float, log: Path | None = None) -> None:
    """Run the emulator with the whole data plane until SIGTERM or `idle` seconds unused."""
    own_folder(info.parent)
    finish_log = capture(log, LIMIT) if log is not None else None
    try:
        _serve(info, timings, idle)
    finally:
        if finish_log is not None:
            finish_log()


def _serve(info: Path, timings: Timings, idle: float) -> None:
    from runbook.sandbox import head_start
    from todo_app.server_home import ServerHome

    # PostgreSQL's initdb first, on the other core, while moto and the data plane import.
    home = ServerHome()
    template = head_start.start_template(home)
    try:
        _serve_from(info, timings, idle, home, template)
    except BaseException:
        # Whatever failed, before or after the data plane took them over: none outlives it.
        head_start.abandon(home, template)
        raise


def _serve_from(info: Path, timings: Timings, idle: float, home: Any, template: Any) -> None:
    from runbook.sandbox.account import CREDENTIALS
    from runbook.sandbox.container_engine import install as install_engine
    from runbook.sandbox.dataplane import PARTS
    from runbook.sandbox.emulator import Emulator

    data: dict[str, Any] = {
        "pid": os.getpid(),
        "process_start": process_identity.start_ticks(os.getpid()),
        "timings": str(timings),
        "started": time.time(),
    }
    lock = threading.Lock()

    def say(message: str) -> None:
        now = time.time()
        stamp = time.strftime("%H:%M:%S", time.localtime(now)) + f".{int(now % 1 * 1000):03d}"
        print(f"{stamp} {message}", flush=True)

    def update(**changes: Any) -> None:
        with lock:
            data.update(changes)
            if data.get("url"):
                write_private(info, json.dumps(data, indent=2))

    emulator = Emulator(
        parts=PARTS,
        timings=timings,
        announce=say,
        on_listeners=lambda urls: update(load_balancers=urls),
        postgres_home=home,
        templates=[template],
    )
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    # Its keys first: the info file names a sandbox its clients can already sign for.
    write_private(credentials_file(info), json.dumps(CREDENTIALS))
    emulator.start()
    assert emulator.data_plane is not None
    plane = emulator.data_plane
    token = secrets.token_hex(16)
    write_private(plane.folder / FOLDER_MARK, token)
    # The container engine the command line points the runbook at: it builds into the store
    # the tasks pull from, and pushes into this emulator's ECR.
    engine = install_engine(plane.folder / "bin", emulator.url, plane.folder, timings)
    update(
        url=emulator.url,
        folder=str(plane.folder),
        folder_token=token,
        engine=str(engine),
        load_balancers={},
        pids=[],
        process_starts={},
    )
    threading.Thread(target=plane.warm_up, daemon=True).start()
    say(f"sandbox: emulator at {emulator.url}, data in {plane.folder}, timings {timings}")
    try:
        while not stopping.wait(1.0):
            pids = plane.pids()
            starts = {str(p): process_identity.start_ticks(p) for p in pids}
            update(pids=pids, process_starts=starts)
            if time.monotonic() - emulator.last_call > idle:
                say(f"sandbox: no call for {idle / 60:.0f} minutes; stopping")
                break
    finally:
        say(f"sandbox: {emulator.door_counts()}")
        say("sandbox: stopping tasks, listeners and databases")
        emulator.stop()
        with contextlib.suppress(OSError):
            if (read_info(info) or {}).get("pid") == os.getpid():
                info.unlink()
                credentials_file(info).unlink(missing_ok=True)
        say("sandbox: stopped")
