"""The sandbox's PostgreSQL folder: the server's user, its folder, and binaries it can reach,
with no folder above our own data opened to it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from runbook.sandbox import template_cache
from runbook.sandbox.database import Template
from todo_app import process_identity
from todo_app.embedded_pg import shipped_bindir
from todo_app.server_home import OWNER_FILE, PREFIX, ServerHome, reachable, server_user

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="the server's own user exists for root")


def modes_on_the_way(path: Path) -> dict[Path, int]:
    return {folder: folder.stat().st_mode for folder in path.resolve().parents}


@as_root
def test_initdb_as_the_servers_user_opens_no_folder_above_our_data(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(template_cache.CACHE_ENV, "off")  # initdb itself runs
    before = {**modes_on_the_way(shipped_bindir(16)), **modes_on_the_way(Path("/tmp/x"))}
    home = ServerHome()
    folder = home.path
    try:
        template = Template(home, 16)
        template.prepare_in_background()
        template._ready.wait(120)
        assert template._error is None, template._error
        user = server_user()
        assert user is not None
        found = home.path.stat()
        assert (found.st_uid, stat.S_IMODE(found.st_mode)) == (user.pw_uid, 0o700)
        assert (template.pgdata / "PG_VERSION").read_text().strip() == "16"
        after = {folder: folder.stat().st_mode for folder in before}
        assert after == before
    finally:
        home.remove()
    assert not folder.exists()


@as_root
def test_binaries_the_user_cannot_reach_are_linked_into_its_folder(tmp_path: Path) -> None:
    closed = tmp_path / "closed"  # a venv under /root, say
    package = closed / "site-packages" / "pkg"
    (package / "pginstall" / "bin").mkdir(parents=True)
    (package / "pginstall" / "bin" / "initdb").write_text("#!/bin/sh\n")
    (package.with_name("pkg.libs")).mkdir()
    (package.with_name("pkg.libs") / "libpq-x.so").write_text("lib")
    closed.chmod(0o700)
    installed = package / "pginstall" / "bin"
    home = ServerHome()
    try:
        user = home.user
        assert user is not None and not reachable(installed, user)
        found = home.binaries(installed)
        assert found != installed and reachable(found, user)
        assert (found / "initdb").read_text() == "#!/bin/sh\n"
        # where the binaries look for the wheel's libraries: $ORIGIN/../../../pkg.libs
        assert (found / ".." / ".." / ".." / "pkg.libs" / "libpq-x.so").read_text() == "lib"
        assert home.binaries(installed) == found  # once per sandbox
        assert stat.S_IMODE(closed.stat().st_mode) == 0o700
    finally:
        home.remove()


def test_a_folder_left_by_a_killed_sandbox_goes_when_the_next_one_starts(tmp_path: Path) -> None:
    left = tmp_path / f"{PREFIX}left"
    left.mkdir()
    (left / OWNER_FILE).write_text("999999999 1\n")  # no such process
    running = tmp_path / f"{PREFIX}running"
    running.mkdir()
    (running / OWNER_FILE).write_text(f"{os.getpid()} {process_identity.start_ticks(os.getpid())}")
    home = ServerHome(tmp_path)
    try:
        assert home.path.parent == tmp_path
        assert not left.exists() and running.exists()
    finally:
        home.remove()
