"""The sandbox's build of a Python image: a Dockerfile followed on this machine, without Docker.

Each stage's files are a folder (the image's `/`); its Python is a virtual environment of its
own, made from this machine's Python and kept by the digest of what went into it (the pip
commands, and the files present when each ran), so an unchanged requirements.txt reuses it
as Docker's layer cache would (in this machine's cache: environments()). What it follows
(docs.docker.com/reference/dockerfile/):

- FROM python[:tag] (and FROM an earlier stage), ARG (also before FROM), ENV, WORKDIR, USER,
  EXPOSE, CMD and ENTRYPOINT in both forms, SHELL; LABEL, HEALTHCHECK, VOLUME, STOPSIGNAL and
  ONBUILD are kept out of the way (ECS uses its own health check);
- COPY and ADD of the context's files (.dockerignore honoured, wildcards, --chmod; ADD
  unpacks a local tar archive), COPY --from an earlier stage;
- RUN with pip (into the image's environment) and shell commands, whose absolute paths inside
  the image point into its folder; useradd and friends change nothing (every task runs as
  the person running the sandbox; USER is recorded).

An instruction it cannot follow is refused with its line and what to do instead (Refusal);
on AWS the real `docker build` follows everything.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from runbook import rds_ca
from runbook.image import dockerfile as reading
from runbook.image.dockerfile import DockerfileError, Instruction
from runbook.image.version import sent_files

# python:3.x images' own PATH and locale (their Dockerfiles set these).
PYTHON_IMAGE_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
}
PIP = re.compile(r"(?:^|[\s;&|(/])(?:pip3?(?:\.\d+)?|-m\s+pip)\s+(?:install|uninstall)\b")
# Package managers of the base image's system: the sandbox runs on this machine's libraries.
SYSTEM_PACKAGES = re.compile(r"(?:^|[\s;&|(/])(apt-get|apt|apk|yum|dnf|microdnf)\s")
# Commands that manage users and owners: no effect in the sandbox (see the module's note).
NO_EFFECT = ("useradd", "adduser", "groupadd", "addgroup", "usermod", "chown")
VENV_CACHE_ENV = "RUNBOOK_VENV_CACHE"
BIND_MODULE = "runbook_sandbox_bind"
ADDRESS_ENV = "RUNBOOK_SANDBOX_TASK_ADDRESS"
# Written into every image's environment: a task binds its own address, not every address.
BIND_SOURCE = f'''"""Written by fargate-runbook's sandbox build: a task binds its own address.

Tasks in the sandbox share this machine's network; one binding 0.0.0.0 would hold the port
on every address, where the next task (a redeploy's) must bind it too. Inside a container on
Fargate, 0.0.0.0 is the task's own interface: this makes it so here. Only in tasks.
"""
import os
import socket

_ADDRESS = os.environ.get("{ADDRESS_ENV}")
if _ADDRESS:
    _bind = socket.socket.bind

    def _own_address(self, address):
        if self.family == socket.AF_INET and isinstance(address, tuple) and address[0] in (
            "", "0.0.0.0"
        ):
            address = (_ADDRESS, *address[1:])
        return _bind(self, address)

    socket.socket.bind = _own_address
'''


class Refusal(Exception):
    """An instruction the sandbox cannot follow: its line, why, and what to do."""

    def __init__(self, instruction: Instruction | None, why: str, advice: str) -> None:
        where = f"line {instruction.line}: {instruction}" if instruction else "the Dockerfile"
        super().__init__(f"{where}: {why}. {advice}")


@dataclass
class Stage:
    name: str
    root: Path
    python: str  # the interpreter its environment is made from
    env: dict[str, str] = field(default_factory=lambda: dict(PYTHON_IMAGE_ENV))
    args: dict[str, str] = field(default_factory=dict)
    workdir: str = "/"
    user: str = ""
    shell: list[str] = field(default_factory=lambda: ["/bin/sh", "-c"])
    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)
    exposed: list[int] = field(default_factory=list)
    # The pip commands so far: (command, WORKDIR, digest of the files present when it ran).
    installs: list[tuple[str, str, str]] = field(default_factory=list)
    install_lines: list[int] = field(default_factory=list)
    venv: Path | None = None


@dataclass(frozen=True)
class Result:
    root: Path
    env: dict[str, str]
    workdir: str
    entrypoint: list[str]
    cmd: list[str]
    venv: Path
    user: str
    exposed: list[int]


Say = Callable[[str], None]


class Builder:
    """One build: the context, its Dockerfile, where images and environments are kept."""

    def __init__(self, context: Path, dockerfile: Path, store: Path, architecture: str) -> None:
        self.context, self.dockerfile, self.store = context, dockerfile, store
        self.architecture = architecture
        self.sent = {p.relative_to(context).as_posix() for p in sent_files(context)}
        self.stages: list[Stage] = []
        self.global_args: dict[str, str] = {}

    def run(self, staging: Path, say: Say) -> Result:
        try:
            steps = reading.read(self.dockerfile)
        except DockerfileError as exc:
            raise Refusal(
                None, str(exc), "Fix the Dockerfile (docker would refuse it too)."
            ) from exc
        counted = [s for s in steps if s.keyword in ("FROM", "RUN", "COPY", "ADD", "WORKDIR")]
        number = 0
        for instruction in steps:
            if instruction.keyword in ("FROM", "RUN", "COPY", "ADD", "WORKDIR"):
                number += 1
                say(f"#{number + 1} [{number}/{len(counted)}] {instruction}")
            started = time.monotonic()
            try:
                self._follow(instruction, staging, say)
            except (OSError, DockerfileError) as exc:
                raise Refusal(instruction, str(exc), "Fix it in the Dockerfile.") from exc
            if instruction.keyword in ("FROM", "RUN", "COPY", "ADD", "WORKDIR"):
                say(f"#{number + 1} DONE {time.monotonic() - started:.1f}s")
        if not self.stages:
            raise Refusal(None, "it has no FROM", "Start it with FROM python:3.11-slim.")
        last = self.stages[-1]
        venv = self._environment(last, say)
        return Result(
            last.root, last.env, last.workdir, last.entrypoint, last.cmd, venv, last.user,
            last.exposed,
        )  # fmt: skip

    # -- the instructions ------------------------------------------------------------------------

    def _follow(self, i: Instruction, staging: Path, say: Say) -> None:
        if i.keyword == "FROM":
            self._from(i, staging, say)
            return
        if i.keyword == "ARG" and not self.stages:
            name, _, default = i.text.partition("=")
            self.global_args[name.strip()] = reading.expand(default.strip(), self.global_args)
            return
        if not self.stages:
            raise Refusal(i, "an instruction before FROM", "Put FROM python:... first.")
        stage = self.stages[-1]
        values = {**stage.args, **stage.env}
        text = reading.expand(i.text, values) if i.keyword in reading.EXPANDED else i.text
        if i.keyword == "ARG":
            name, equals, default = text.partition("=")
            name = name.strip()
            # ARG NAME after FROM takes the global value (docker's rule), else its default.
            stage.args[name] = default.strip() if equals else self.global_args.get(name, "")
        elif i.keyword == "ENV":
            stage.env.update(reading.pairs(text, i.line))
        elif i.keyword == "WORKDIR":
            stage.workdir = os.path.normpath(os.path.join(stage.workdir, text))
            self._inside(stage, stage.workdir).mkdir(parents=True, exist_ok=True)
        elif i.keyword == "USER":
            stage.user = text
        elif i.keyword == "EXPOSE":
            for word in text.split():
                port = word.split("/")[0]
                if port.isdigit():
                    stage.exposed.append(int(port))
        elif i.keyword == "SHELL":
            form = i.exec_form
            if not form:
                raise Refusal(i, "SHELL takes a JSON array", 'Write SHELL ["/bin/sh", "-c"].')
            stage.shell = form
        elif i.keyword in ("CMD", "ENTRYPOINT"):
            argv = i.exec_form if i.exec_form is not None else [*stage.shell, i.text]
            if i.keyword == "CMD":
                stage.cmd = argv
            else:
                stage.entrypoint, stage.cmd = argv, []  # docker: ENTRYPOINT resets CMD
        elif i.keyword in ("COPY", "ADD"):
            self._copy(i, stage, values)
        elif i.keyword == "RUN":
            self._run(i, stage, say)
        # LABEL, HEALTHCHECK, VOLUME, STOPSIGNAL, ONBUILD, MAINTAINER: nothing to lay out.

    def _from(self, i: Instruction, staging: Path, say: Say) -> None:
        words = reading.expand(i.text, self.global_args).split()
        image = words[0] if words else ""
        name = words[2] if len(words) == 3 and words[1].lower() == "as" else str(len(self.stages))
        root = staging / f"stage-{len(self.stages)}"
        earlier = self._stage(image)
        if earlier is not None:
            shutil.copytree(earlier.root, root, symlinks=True)
            stage = Stage(
                name, root, earlier.python, dict(earlier.env), {}, earlier.workdir,
                earlier.user, list(earlier.shell), list(earlier.entrypoint), list(earlier.cmd),
                list(earlier.exposed), list(earlier.installs), list(earlier.install_lines),
                earlier.venv,
            )  # fmt: skip
        else:
            python = python_of(image)
            if python is None:
                raise Refusal(
                    i,
                    f"the sandbox builds Python images only (FROM python:3.x...), not {image}",
                    "Build FROM python:3.11-slim (or another python: tag); on AWS, docker "
                    "builds any base image",
                )
            interpreter, note = python
            if note:
                say(f"#0 note: {note}")
            root.mkdir(parents=True)
            stage = Stage(name, root, interpreter)
        self.stages.append(stage)

    def _stage(self, name: str) -> Stage | None:
        for stage in self.stages:
            if stage.name == name:
                return stage
        return None

    def _copy(self, i: Instruction, stage: Stage, values: dict[str, str]) -> None:
        sources, destination = reading.sources_and_destination(i)
        sources = [reading.expand(s, values) for s in sources]
        destination = reading.expand(destination, values)
        origin = i.flags.get("from")
        if origin is not None:
            earlier = self._stage(origin)
            if earlier is None:
                raise Refusal(
                    i,
                    f"--from={origin} names no earlier stage (the sandbox cannot pull images)",
                    "Copy from a stage of this Dockerfile (FROM ... AS name)",
                )
            if destination.rstrip("/") in ("/usr/local", "/usr/local/lib", "/usr"):
                raise Refusal(
                    i,
                    "packages copied into /usr/local are not in the sandbox's environment "
                    "for the image (it keeps them in a virtual environment)",
                    "Install them in the final stage (RUN pip install ...), or copy wheels "
                    "from the builder and pip install them",
                )
        target = self._inside(stage, os.path.join(stage.workdir, destination))
        many = len(sources) > 1 or destination.endswith("/") or any("*" in s for s in sources)
        copied = 0
        for source in sources:
            if i.keyword == "ADD" and source == rds_ca.URL and _is_rds_bundle(stage, destination):
                # RDS's CAs: every task finds the sandbox's CA there instead (ecs/runtime.py).
                copied += 1
                continue
            if i.keyword == "ADD" and source == rds_ca.URL:
                raise Refusal(
                    i,
                    f"RDS's CA bundle goes to {rds_ca.IN_IMAGE} (the task's DB_SSLROOTCERT)",
                    f"Add it there: {rds_ca.ADD_LINE}",
                )
            if i.keyword == "ADD" and re.match(r"[a-z]+://", source):
                raise Refusal(
                    i,
                    "ADD of a URL: the sandbox fetches nothing from the network",
                    "Download the file into the app's folder and COPY it; on AWS, docker "
                    "fetches it",
                )
            for path, relative in self._matches(source, stage if origin is None else earlier, i):
                into = target / path.name if many or target.is_dir() else target
                if i.keyword == "ADD" and path.is_file() and tarfile.is_tarfile(path):
                    target.mkdir(parents=True, exist_ok=True)
                    with tarfile.open(path) as archive:
                        archive.extractall(target, filter="data")
                elif path.is_dir():
                    self._copy_tree(path, target, relative if origin is None else None)
                else:
                    into.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, into)
                copied += 1
                if "chmod" in i.flags:
                    _chmod(into if not path.is_dir() else target, int(i.flags["chmod"], 8))
        if not copied:
            shown = sources[0].lstrip("./") or "."
            raise Refusal(
                i,
                f'failed to calculate checksum of ref: "/{shown}": not found',
                "Check the path: it is relative to the app's folder (and .dockerignore may "
                "leave it out)",
            )

    def _matches(
        self, source: str, stage: Stage | None, i: Instruction
    ) -> Iterator[tuple[Path, str]]:
        """The files or folders a COPY source names, from the context or an earlier stage."""
        if stage is not None and "from" in i.flags:
            base = stage.root
            pattern = source.lstrip("/") or "."
            if not source.startswith("/"):
                pattern = os.path.join(stage.workdir.lstrip("/"), pattern)
        else:
            base, pattern = self.context, os.path.normpath(source).lstrip("/")
            if pattern.startswith(".."):
                raise Refusal(
                    i, f"{source} is outside the build context", "Copy files from the app's folder"
                )
        if pattern in (".", ""):
            yield base, ""
            return
        for path in sorted(base.glob(pattern)) if "*" in pattern else [base / pattern]:
            relative = path.relative_to(base).as_posix()
            from_stage = stage is not None and "from" in i.flags
            if path.exists() and (from_stage or self._sent(relative)):
                yield path, relative

    def _sent(self, relative: str) -> bool:
        """Is it (or something under it) in what the build sends (.dockerignore)?"""
        return relative in self.sent or any(s.startswith(relative + "/") for s in self.sent)

    def _copy_tree(self, source: Path, target: Path, relative: str | None) -> None:
        """A folder's content into the target; from the context (relative: the folder's path
        in it), only the files the build sends."""
        target.mkdir(parents=True, exist_ok=True)
        for path in sorted(source.rglob("*")):
            inner = path.relative_to(source).as_posix()
            if path.is_dir() and not path.is_symlink():
                continue
            if relative is not None and (f"{relative}/{inner}" if relative else inner) not in (
                self.sent
            ):
                continue
            into = target / inner
            into.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, into, follow_symlinks=False)

    def _run(self, i: Instruction, stage: Stage, say: Say) -> None:
        text = i.text if i.exec_form is None else " ".join(i.exec_form)
        found = SYSTEM_PACKAGES.search(text)
        if found:
            raise Refusal(
                i,
                f"{found.group(1)} installs system packages, which the sandbox cannot: it runs "
                "on this machine's own libraries",
                "Leave it out when the app's Python packages bring what they need (wheels such "
                "as psycopg2-binary do); on AWS, docker runs it",
            )
        if PIP.search(text):
            # The RUN makes a new environment (with every install so far), or finds it made:
            # it runs once per environment, the rest of its command with it.
            stage.installs.append((text, stage.workdir, tree_digest(stage.root)))
            stage.install_lines.append(i.line)
            stage.venv = None
            self._environment(stage, say)
            return
        venv = self._environment(stage, say)
        cwd = str(self._inside(stage, stage.workdir))
        self._shell(i, stage, venv, i.command() if i.exec_form else [*stage.shell, i.text], cwd)

    def _shell(self, i: Instruction, stage: Stage, venv: Path, argv: list[str], cwd: str) -> None:
        argv = [in_image(word, stage.root) for word in argv]
        done = subprocess.run(
            argv,
            cwd=cwd,
            env=self._run_env(stage, venv),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
        )
        for line in (done.stdout + done.stderr).splitlines()[-40:]:
            print(f"#  {line}", file=sys.stderr, flush=True)
        if done.returncode != 0:
            raise Refusal(
                i,
                f"did not complete successfully: exit code: {done.returncode}",
                "Its output is above; fix the command (it runs here on this machine, with the "
                "image's files and Python environment)",
            )

    def _run_env(self, stage: Stage, venv: Path) -> dict[str, str]:
        env = {k: in_image(v, stage.root) for k, v in {**stage.args, **stage.env}.items()}
        host_path = os.environ.get("PATH", "/usr/bin:/bin")
        env["PATH"] = f"{venv / 'bin'}:{self._no_effect_bin()}:{host_path}"
        # Not the image's folder: tools write their dotfiles there.
        env["HOME"] = str(self._home())
        env["VIRTUAL_ENV"] = str(venv)
        for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_CONFIG_FILE"):
            if name in os.environ and name not in env:
                env[name] = os.environ[name]  # this machine's package index, as a mirror
        return env

    def _home(self) -> Path:
        home = self.store / "build-home"
        home.mkdir(parents=True, exist_ok=True)
        return home

    def _no_effect_bin(self) -> Path:
        folder = self.store / "no-effect-bin"
        folder.mkdir(parents=True, exist_ok=True)
        for name in NO_EFFECT:
            shim = folder / name
            if not shim.exists():
                shim.write_text(
                    f"#!/bin/sh\necho '{name}: no effect in the sandbox (tasks run as you)'\n"
                )
                shim.chmod(0o755)
        return folder

    def _inside(self, stage: Stage, path: str) -> Path:
        return stage.root / os.path.normpath(path).lstrip("/")

    # -- the stage's Python environment ------------------------------------------------------------

    def _environment(self, stage: Stage, say: Say) -> Path:
        """The stage's virtual environment: found by its digest, or made from its installs."""
        if stage.venv is not None:
            return stage.venv
        key = hashlib.sha256(
            json.dumps([_version(stage.python), self.architecture, stage.installs]).encode()
        ).hexdigest()[:32]
        venv = environments() / key
        with _locked(venv.with_name(key + ".lock")):
            if (venv / ".complete").exists():
                say(f"#  CACHED Python environment {key[:12]}")
            else:
                shutil.rmtree(venv, ignore_errors=True)
                self._make_environment(stage, venv, say)
        stage.venv = venv
        return venv

    def _make_environment(self, stage: Stage, venv: Path, say: Say) -> None:
        venv.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([stage.python, "-m", "venv", str(venv)], check=True, capture_output=True)
        site = next((venv / "lib").glob("python*/site-packages"))
        (site / f"{BIND_MODULE}.py").write_text(BIND_SOURCE)
        (site / f"{BIND_MODULE}.pth").write_text(f"import {BIND_MODULE}\n")
        try:
            for (command, workdir, _), line in zip(
                stage.installs, stage.install_lines, strict=True
            ):
                say(f"#  pip (line {line}): {command[:100]}")
                done = subprocess.run(
                    [*stage.shell, in_image(command, stage.root)],
                    cwd=self._inside(stage, workdir),
                    env=self._run_env(stage, venv),
                    stdin=subprocess.DEVNULL,
                    capture_output=True,
                    text=True,
                )
                if done.returncode != 0:
                    for line in (done.stdout + done.stderr).splitlines()[-40:]:
                        print(f"#  {line}", file=sys.stderr, flush=True)
                    raise Refusal(
                        None,
                        f"line {line}: RUN {command} did not complete successfully: exit "
                        f"code: {done.returncode}",
                        "Its output is above; check the requirements (pip runs here, with "
                        "this machine's package index)",
                    )
        except BaseException:
            shutil.rmtree(venv, ignore_errors=True)
            raise
        (venv / ".complete").write_text("")


def environments() -> Path:
    """Where images' Python environments are kept: a cache of this machine's, like pip's own
    (by content, so any sandbox reuses one; `runbook sandbox stop` leaves it)."""
    given = os.environ.get(VENV_CACHE_ENV)
    if given:
        return Path(given)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "fargate-runbook" / "venvs"


def python_of(image: str) -> tuple[str, str] | None:
    """The interpreter for FROM python[:tag], and a note when this machine lacks that version."""
    name, _, tag = image.removeprefix("docker.io/").removeprefix("library/").partition(":")
    if name != "python":
        return None
    wanted = re.match(r"(\d+)\.(\d+)", tag)
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    base = getattr(sys, "_base_executable", sys.executable)
    if not wanted or f"{wanted[1]}.{wanted[2]}" == here:
        return base, ""
    version = f"{wanted[1]}.{wanted[2]}"
    found = shutil.which(f"python{version}")
    if found:
        return found, ""
    return base, f"no Python {version} on this machine: the sandbox uses Python {here}"


def _version(python: str) -> str:
    return subprocess.run(
        [python, "-c", "import sys; print(sys.version)"], capture_output=True, text=True
    ).stdout.strip()


def in_image(value: str, root: Path) -> str:
    """Absolute paths under a top folder the image has (/app, /srv, ...) point into its folder."""
    tops = [p.name for p in root.iterdir() if p.is_dir()] if root.exists() else []
    if not tops:
        return value
    pattern = r"(?<![\w./$-])/(" + "|".join(map(re.escape, tops)) + r")(?=/|$|[\s'\";:&|)])"
    return re.sub(pattern, lambda m: f"{root}/{m.group(1)}", value)


def tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _is_rds_bundle(stage: Stage, destination: str) -> bool:
    """Does this ADD put RDS's CA bundle where the task definition's DB_SSLROOTCERT reads it?"""
    return os.path.normpath(os.path.join(stage.workdir, destination)) == rds_ca.IN_IMAGE


def _chmod(path: Path, mode: int) -> None:
    targets = [path, *path.rglob("*")] if path.is_dir() else [path]
    for target in targets:
        if target.is_file():
            target.chmod(mode)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
