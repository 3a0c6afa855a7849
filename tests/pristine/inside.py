"""Run inside the pristine Debian root (by Debian's own python3, standard library only), as the
namespace's first process: as root and as a user made here, both at once, each in a copy of
the project in their home, the README's install command, then `runbook deploy --yes
--sandbox`, the Todo API through the local URL it prints, `runbook destroy --yes --sandbox`
and `runbook sandbox stop`. Then: which processes still run, what is left in the temp folder.

It asserts nothing itself: it prints one JSON object of what it saw (the test asserts), so a
failure shows every fact at once. Usage: inside.py PROJECT_TAR INSTALL_COMMAND
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

USER = "newcomer"
LOCAL_URL = re.compile(r"On this machine: (http://\S+)")
STEP_TIMEOUT = 600


def as_login(user: str, script: str, timeout: float = STEP_TIMEOUT) -> tuple[int, str, float]:
    """`script` in a login shell of `user` (their own environment, as they would type it)."""
    started = time.monotonic()
    done = subprocess.run(
        ["runuser", "-l", user, "-c", script],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
    )
    return done.returncode, done.stdout, time.monotonic() - started


def call(method: str, url: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")[:300]


def tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def one_person(user: str, install: str, project_tar: str, seen: dict[str, Any]) -> None:
    """The whole main job as `user`, in their home; what happened goes into `seen`."""
    folder = "~/fargate-runbook"
    code, out, _ = as_login(user, f"mkdir {folder} && tar -xf {project_tar} -C {folder}")
    seen["unpacked"] = code == 0 or tail(out)
    # The README's install command as written, then the main job without a person.
    code, out, took = as_login(user, f"cd {folder} && {install}")
    seen["install"] = {"exit": code, "seconds": round(took, 1), "tail": tail(out, 8)}
    if code:
        return
    activate = f"cd {folder} && {{ [ ! -f .venv/bin/activate ] || . .venv/bin/activate; }} && "
    started = time.monotonic()
    code, out, took = as_login(user, activate + "runbook deploy --yes --sandbox")
    seen["deploy"] = {"exit": code, "seconds": round(took, 1), "tail": tail(out)}
    found = LOCAL_URL.search(out)
    if found:
        url = found.group(1)
        health = call("GET", url + "/healthz")
        seen["first_200_seconds"] = round(time.monotonic() - started, 1)
        made = call("POST", url + "/todos", {"title": f"written by {user}"})
        item_url = made[1].get("url") if isinstance(made[1], dict) else None
        seen["api"] = {
            "url": url,
            "healthz": health,
            "list": call("GET", url + "/todos"),
            "post": made,
            "read_back": call("GET", item_url) if item_url else None,
        }
    if code == 0:
        _, log, _ = as_login(user, f"cd {folder} && tail -n 40 .runbook/sandbox.log")
        seen["sandbox_log"] = tail(log, 40)
    code, out, took = as_login(user, activate + "runbook destroy --yes --sandbox")
    seen["destroy"] = {"exit": code, "seconds": round(took, 1), "tail": tail(out, 6)}
    code, out, took = as_login(user, activate + "runbook sandbox stop")
    seen["stop"] = {"exit": code, "seconds": round(took, 1), "tail": tail(out, 6)}


def attempt(user: str, install: str, project_tar: str, seen: dict[str, Any]) -> None:
    try:
        one_person(user, install, project_tar, seen)
    except Exception as exc:  # a step that hung past its time, say: reported with the rest
        seen["error"] = f"{type(exc).__name__}: {exc}"


def running_processes() -> list[str]:
    """Every live process of this namespace but this one (exited ones are reaped first)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if state != "Z":
            found.append(f"{entry.name}: {command.strip()}")
    return found


def main() -> None:
    project_tar, install = sys.argv[1], sys.argv[2]
    subprocess.run(
        ["useradd", "--create-home", "--shell", "/bin/bash", USER],
        check=True,
        capture_output=True,
    )
    people: dict[str, dict[str, Any]] = {"root": {}, USER: {}}
    threads = [
        threading.Thread(target=attempt, args=(user, install, project_tar, seen))
        for user, seen in people.items()
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    time.sleep(1)  # what `sandbox stop` signalled has ended by now, or it never will
    temp = Path(tempfile.gettempdir())
    print(
        json.dumps(
            {
                "people": people,
                "running": running_processes(),
                "left_in_temp": sorted(p.name for p in temp.iterdir()),
            }
        )
    )


if __name__ == "__main__":
    main()
