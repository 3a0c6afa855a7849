"""A pristine Debian root for the fresh-machine check: debootstrap's minbase variant and only
what the README tells a Debian user to install, built once per suite and kept in this
check's cache folder for later runs.

Only Debian's own packages go in: the mirror is the one this machine's apt is set up with
(/etc/apt/sources.list, sources.list.d), the only Debian mirror it is known to reach. When
debootstrap is not installed, Debian's package of it is fetched with `apt-get download` and
run from the cache folder, so a machine without it still builds the root without being
changed itself.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

SUITE = "bookworm"
# What the README's first command needs on Debian: python3 (3.11 in bookworm), and
# python3-venv for `python3 -m venv` (it brings pip's wheel for the venv). Nothing else.
PACKAGES = ("python3", "python3-venv")
DEFAULT_CACHE = "/var/cache/fargate-runbook/pristine"
DONE = ".complete"  # beside the root, written last: without it the build was cut short


class CannotBuild(Exception):
    """This machine cannot build the root (no root user, no debootstrap, no mirror)."""


def cache_folder() -> Path:
    """RUNBOOK_PRISTINE_CACHE, else a folder of this project's in /var/cache (root's, 0700):
    kept across clones of the project, so CI's fresh clone on a machine finds what an
    earlier run there built. Nothing but this check's own builds is in it."""
    return Path(os.environ.get("RUNBOOK_PRISTINE_CACHE") or DEFAULT_CACHE)


def debian_mirror(etc_apt: Path = Path("/etc/apt")) -> str:
    """The Debian mirror this machine's apt uses for the main archive (not security)."""
    texts = []
    for path in [etc_apt / "sources.list", *sorted((etc_apt / "sources.list.d").glob("*"))]:
        if path.suffix in {".list", ".sources"} or path.name == "sources.list":
            with contextlib.suppress(OSError):
                texts.append(path.read_text())
    found = []
    for text in texts:
        # one-line style: "deb [options] URL suite components"; deb822: "URIs: URL ..."
        found += re.findall(r"^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)", text, re.MULTILINE)
        found += [
            uri
            for line in re.findall(r"^\s*URIs:\s*(.+)$", text, re.MULTILINE)
            for uri in line.split()
        ]
    for uri in found:
        if re.search(r"/debian/?$", uri):
            return uri.rstrip("/")
    raise CannotBuild("no Debian mirror in /etc/apt/sources.list(.d) to build the root from")


def debootstrap(tools: Path) -> tuple[list[str], dict[str, str]]:
    """debootstrap's command (and its environment): the installed one, or Debian's package
    of it unpacked under `tools`."""
    installed = shutil.which("debootstrap")
    if installed:
        return [installed], {}
    unpacked = tools / "usr" / "sbin" / "debootstrap"
    if not unpacked.exists():
        if not shutil.which("apt-get") or not shutil.which("dpkg-deb"):
            raise CannotBuild("debootstrap is not installed, and there is no apt-get to fetch it")
        download = tools.with_name(tools.name + ".download")
        shutil.rmtree(download, ignore_errors=True)
        download.mkdir(parents=True)
        fetched = subprocess.run(
            ["apt-get", "download", "debootstrap"],
            cwd=download,
            capture_output=True,
            text=True,
            timeout=300,
        )
        debs = list(download.glob("debootstrap_*.deb"))
        if fetched.returncode or not debs:
            raise CannotBuild(
                "debootstrap is not installed and `apt-get download debootstrap` failed "
                f"({(fetched.stderr or fetched.stdout).strip()[-300:]}); install it: "
                "apt-get install debootstrap"
            )
        subprocess.run(["dpkg-deb", "-x", str(debs[0]), str(tools)], check=True, timeout=120)
        shutil.rmtree(download, ignore_errors=True)
    return [str(unpacked)], {"DEBOOTSTRAP_DIR": str(tools / "usr" / "share" / "debootstrap")}


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One build at a time per cache folder (two checkouts may share one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def pristine_root(cache: Path) -> tuple[Path, float | None]:
    """The root, built now if the cache has none: its folder, and the build's seconds (None
    when it came from the cache)."""
    if os.geteuid() != 0:
        raise CannotBuild("building a Debian root and entering it (chroot) needs root")
    if not shutil.which("unshare") or not shutil.which("chroot"):
        raise CannotBuild("needs unshare and chroot (util-linux, coreutils)")
    cache.mkdir(mode=0o700, parents=True, exist_ok=True)
    root = cache / f"{SUITE}-minbase"
    done = root.with_name(root.name + DONE)
    with _locked(cache / f"{SUITE}.lock"):
        mirror = debian_mirror()
        # What the root was built from: another package list or mirror builds it again.
        made_of = f"{SUITE} {' '.join(PACKAGES)} from {mirror}\n"
        with contextlib.suppress(OSError):
            if done.read_text() == made_of and root.is_dir():
                return root, None
        command, env = debootstrap(cache / "debootstrap-tool")
        partial = cache / f"{SUITE}-minbase.partial"
        done.unlink(missing_ok=True)
        shutil.rmtree(partial, ignore_errors=True)
        shutil.rmtree(root, ignore_errors=True)
        log = cache / f"{SUITE}-debootstrap.log"
        started = time.monotonic()
        with open(log, "w") as out:
            built = subprocess.run(
                [
                    *command,
                    "--variant=minbase",
                    f"--include={','.join(PACKAGES)}",
                    SUITE,
                    str(partial),
                    mirror,
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, **env},
                timeout=1200,
            )
        if built.returncode:
            tail = log.read_text(errors="replace").strip().splitlines()[-5:]
            raise RuntimeError(
                f"debootstrap {SUITE} from {mirror} failed ({built.returncode}): "
                + " / ".join(tail)
            )
        # Nothing of this machine stays in it: debootstrap copies the host's resolv.conf in.
        (partial / "etc" / "resolv.conf").unlink(missing_ok=True)
        for deb in (partial / "var" / "cache" / "apt" / "archives").glob("*.deb"):
            deb.unlink()
        partial.rename(root)
        done.write_text(made_of)
        return root, time.monotonic() - started
