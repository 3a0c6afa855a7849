"""`python -m runbook.sandbox.container_engine`: the sandbox's stand-in for docker's command line.

There is no container engine here, so this answers the part of docker's command line the
runbook uses, in docker's words, and does to the sandbox what docker would do to AWS:

- `login --username AWS --password-stdin <registry>`: checks the password against the token
  the emulator's ECR gives that account (only its digest is kept, in the store);
- `build --platform <p> -t <ref> <context>`: lays the context out in the sandbox's image store
  as the Dockerfile does (runbook.sandbox.image), printing BuildKit's plain progress, and
  refusing what BuildKit refuses (no Dockerfile, a COPY of a missing file);
- `push <ref>`: puts the manifest into the emulator's ECR with PutImage, its layers reported
  as docker reports them (byte counts when its output is a terminal), layers the repository
  has already "Layer already exists".

With `--timings aws[:factor]` a first build and push take a realistic, scaled time (the
sandbox's timings), so the runbook's overlap with the database wait can be seen and measured.
Every call's arguments are recorded in <store>/engine/calls.jsonl (never its stdin). The shim
`install` writes sets where the emulator answers and where the store is; the sandbox's keys,
which it signs its ECR calls with, wait in the store (owner-only), never in its environment.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shlex
import sys
import time
import urllib.error
from base64 import b64decode
from collections.abc import Iterator, Mapping
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

# Each command is a process of its own (three a deploy), and most of one's CPU went on
# imports: what only a build needs (the image store, the Dockerfile's reader, dataclasses) is
# imported by `build`, and the sandbox's keys only where the shim is written.
if TYPE_CHECKING:
    from runbook.image.container_engine import ContainerEngine
    from runbook.sandbox.image import Images
    from runbook.sandbox.timings import Timings

ENDPOINT_ENV = "RUNBOOK_SANDBOX_ENDPOINT"
STORE_ENV = "RUNBOOK_SANDBOX_STORE"
TIMINGS_ENV = "RUNBOOK_SANDBOX_TIMINGS"
SHIM = "sandbox-docker"
CREDENTIALS_FILE = "credentials.json"  # in the store's own folder, owner-only
LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip"
# python:3.11-slim's layers as a push lists them, with sizes close to the real ones: with the
# app's layers, a first push of about 75 MB.
BASE_LAYERS = (
    ("debian", 28_230_000),
    ("python-deps", 3_510_000),
    ("python", 16_210_000),
    ("pip", 250),
)
REQUIREMENTS_SIZE = 24_600_000
FIRST_PUSH = sum(size for _, size in BASE_LAYERS) + REQUIREMENTS_SIZE + 200_000
REDRAW = 0.1  # seconds between progress lines while a layer uploads


class Refused(Exception):
    """A failure as docker prints it, with its exit status."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def install(
    folder: Path,
    endpoint: str,
    store: Path,
    timings: Timings,
    credentials: Mapping[str, str] | None = None,
) -> Path:
    """Write the executable the runbook is pointed at (RUNBOOK_CONTAINER_ENGINE), and the
    sandbox's keys (this process's unless given) where only it (and their owner) can read
    them: it needs them to push."""
    from runbook.sandbox.account import CREDENTIALS

    folder.mkdir(parents=True, exist_ok=True)
    Store(store).keep_credentials(CREDENTIALS if credentials is None else credentials)
    shim = folder / SHIM
    # Every value quoted for the shell: no character of a path runs.
    shim.write_text(
        "#!/bin/sh\n"
        "# The sandbox's stand-in for docker's command line: runbook/sandbox/container_engine.py\n"
        f"{ENDPOINT_ENV}={shlex.quote(endpoint)} {STORE_ENV}={shlex.quote(str(store))} "
        f"{TIMINGS_ENV}={shlex.quote(str(timings))} "
        f'exec {shlex.quote(sys.executable)} -m runbook.sandbox.container_engine "$@"\n'
    )
    shim.chmod(0o755)
    return shim


def stand_in(endpoint: str, store: Path, timings: Timings | None = None) -> ContainerEngine:
    """The stand-in as the engine a Runbook is given (the tests' and the benches' way)."""
    from runbook.image.container_engine import ContainerEngine
    from runbook.sandbox.timings import Timings

    return ContainerEngine(str(install(store / "bin", endpoint, store, timings or Timings())))


def recorded(store: Path) -> list[dict[str, Any]]:
    """Every call the stand-in answered: its arguments, whether stdin was read, its status."""
    path = store / "engine" / "calls.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# -- the store's small files ---------------------------------------------------------------


class Store:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.own = folder / "engine"
        self.own.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.own.chmod(0o700)  # it keeps the sandbox's keys

    @cached_property
    def images(self) -> Images:
        from runbook.sandbox.image import Images

        return Images(self.folder / "images")

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        with (self.own / ".lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def read(self, name: str) -> dict[str, Any]:
        try:
            return json.loads((self.own / name).read_text())
        except (OSError, ValueError):
            return {}

    def keep_credentials(self, credentials: Mapping[str, str]) -> None:
        fd = os.open(self.own / ".credentials.tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)  # an older file keeps its mode through O_CREAT
        with os.fdopen(fd, "w") as file:
            json.dump(dict(credentials), file)
        os.replace(self.own / ".credentials.tmp", self.own / CREDENTIALS_FILE)

    def credentials(self) -> dict[str, str]:
        return dict(json.loads((self.own / CREDENTIALS_FILE).read_text()))

    def write(self, name: str, data: dict[str, Any]) -> None:
        tmp = self.own / f".{name}.{os.getpid()}"
        tmp.write_text(json.dumps(data, indent=1))
        tmp.replace(self.own / name)

    def record(self, argv: list[str], stdin: bool, status: int) -> None:
        with self.locked(), (self.own / "calls.jsonl").open("a") as log:
            log.write(json.dumps({"argv": argv, "stdin": stdin, "exit": status}) + "\n")


# -- the emulator's ECR, as the registry's side of a push ------------------------------------


def registry_parts(registry: str) -> tuple[str, str]:
    """123456789012.dkr.ecr.us-east-1.amazonaws.com -> (account, region)."""
    parts = registry.split(".")
    if len(parts) != 6 or parts[1:3] != ["dkr", "ecr"] or not parts[0].isdigit():
        raise Refused(
            f'Error response from daemon: Get "https://{registry}/v2/": the sandbox\'s engine '
            "talks only to the sandbox's ECR (<account>.dkr.ecr.<region>.amazonaws.com)"
        )
    return parts[0], parts[3]


def ecr(operation: str, account: str, region: str, body: dict[str, Any]) -> dict[str, Any]:
    """One ECR API call to the emulator, signed with the sandbox's keys. (botocore's client
    would cost this short-lived process half a second to load; its signer alone is enough.)"""
    # Imported here: botocore's signer costs each process that sends nothing (`build`, a
    # third of every deploy's engine commands) about 0.4 s of CPU to import.
    from runbook.sandbox.signature import open_signed

    store = Store(Path(os.environ[STORE_ENV]))
    try:
        with open_signed(
            os.environ[ENDPOINT_ENV].rstrip("/") + "/",
            store.credentials(),
            service="ecr",
            region=region,
            method="POST",
            headers={
                "X-Amz-Target": f"AmazonEC2ContainerRegistry_V20150921.{operation}",
                "Content-Type": "application/x-amz-json-1.1",
                "x-moto-account-id": account,
            },
            body=json.dumps(body).encode(),
            timeout=30,
        ) as answer:
            return dict(json.loads(answer.read() or b"{}"))
    except urllib.error.HTTPError as exc:
        error = json.loads(exc.read() or b"{}")
        kind = str(error.get("__type", "")).rsplit("#", 1)[-1]
        raise EcrError(kind, str(error.get("message") or error.get("Message") or "")) from exc


class EcrError(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind, self.message = kind, message


# -- docker's commands --------------------------------------------------------------------------


def login(store: Store, args: list[str], stdin: str | None) -> None:
    options, positional = parse(
        args,
        {"-u": "username", "--username": "username"},
        {
            "--password-stdin": "password_stdin",
        },
        "login",
    )
    if len(positional) != 1:
        raise Refused('"docker login" requires at most 1 argument.', 125)
    registry = positional[0]
    if "password_stdin" not in options:
        raise Refused("Error: Cannot perform an interactive login from a non TTY device")
    password = (stdin or "").rstrip("\n")
    account, region = registry_parts(registry)
    token = ecr("GetAuthorizationToken", account, region, {})["authorizationData"][0]
    user, _, expected = b64decode(token["authorizationToken"]).decode().partition(":")
    if options.get("username") != user or password != expected:
        raise Refused(
            f"Error response from daemon: login attempt to https://{registry}/v2/ failed with "
            "status: 400 Bad Request"
        )
    with store.locked():
        auths = store.read("auth.json")
        auths[registry] = hashlib.sha256(password.encode()).hexdigest()
        store.write("auth.json", auths)
    print("Login Succeeded", flush=True)


def build(store: Store, args: list[str], timings: Timings) -> None:
    from runbook.image.dockerfile import read as read_dockerfile
    from runbook.sandbox.image import ARCHITECTURES, is_todo_api
    from runbook.sandbox.image_build import Refusal

    options, positional = parse(
        args,
        {
            "--platform": "platform",
            "-t": "tag",
            "--tag": "tag",
            "-f": "file",
            "--file": "file",
            "--progress": "progress",
        },
        {"--pull": "pull", "-q": "quiet", "--quiet": "quiet"},
        "build",
    )
    if len(positional) != 1:
        raise Refused('"docker build" requires exactly 1 argument.', 1)
    context = Path(positional[0])
    platform = options.get("platform", "linux/amd64")
    architecture = platform.removeprefix("linux/")
    say = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731 (BuildKit: stderr)
    say('#0 building with "default" instance using docker driver')
    if architecture not in ARCHITECTURES.values():
        raise Refused(f"ERROR: failed to solve: no match for platform in manifest: {platform}")
    dockerfile = context / options.get("file", "Dockerfile")
    if not dockerfile.is_file():
        raise Refused(
            f"ERROR: failed to solve: failed to read dockerfile: open {dockerfile.name}: no such "
            "file or directory"
        )
    requirements = _requirements_digest(context, architecture)
    with store.locked():
        cached = any(
            i.get("requirements") == requirements for i in store.read("images.json").values()
        )
    seconds = timings.seconds("image_build") * (0.05 if cached else 1.0)
    say("")
    say("#1 [internal] load build definition from Dockerfile")
    say(f"#1 transferring dockerfile: {_human(dockerfile.stat().st_size)} done")
    say("#1 DONE 0.0s")
    if is_todo_api(dockerfile):
        steps = _steps(context, dockerfile)
        _paced(steps, seconds, cached, say)
        digest, config = store.images.build(context, architecture, dockerfile)
    else:
        started = time.monotonic()
        try:
            digest, config = store.images.build(context, architecture, dockerfile, say)
        except Refusal as refusal:
            raise Refused(f"ERROR: failed to solve: {refusal}") from refusal
        # The real work took its own time; --timings aws adds what is left of AWS's shape.
        time.sleep(max(0.0, seconds - (time.monotonic() - started)))
        steps = [(i.keyword, i.text) for i in read_dockerfile(dockerfile)]
    layers = _layers(context, digest, requirements, architecture, store.images.size(digest))
    tag = options.get("tag", "")
    say(f"#{len(steps) + 2} exporting to image")
    say(
        f"#{len(steps) + 2} writing image sha256:{hashlib.sha256(digest.encode()).hexdigest()} done"
    )
    if tag:
        say(f"#{len(steps) + 2} naming to {_named(tag)} done")
    with store.locked():
        images = store.read("images.json")
        images[tag or digest] = {
            "digest": digest,
            "config": config.__dict__,
            "layers": layers,
            "requirements": requirements,
        }
        store.write("images.json", images)


def _paced(steps: list[tuple[str, str]], seconds: float, cached: bool, say: Any) -> None:
    """The Todo API's build steps in BuildKit's words, taking the timings' time."""
    weights = [0.2 if k == "FROM" else 0.7 if "pip install" in rest else 0.02 for k, rest in steps]
    scale = seconds / sum(weights)
    for number, ((keyword, rest), weight) in enumerate(zip(steps, weights, strict=True), 1):
        heavy = keyword == "FROM" or "pip install" in rest
        say(f"#{number + 1} [{number}/{len(steps)}] {keyword} {rest[:80]}")
        if cached and heavy:
            say(f"#{number + 1} CACHED")
            continue
        time.sleep(weight * scale)
        say(f"#{number + 1} DONE {weight * scale:.1f}s")


def push(store: Store, args: list[str], timings: Timings) -> None:
    _, positional = parse(args, {}, {"-q": "quiet", "--quiet": "quiet"}, "push")
    if len(positional) != 1:
        raise Refused('"docker push" requires exactly 1 argument.', 1)
    ref = positional[0]
    registry, _, path = ref.partition("/")
    repository, _, tag = path.partition(":")
    tag = tag or "latest"
    with store.locked():
        local = store.read("images.json").get(ref)
        logged_in = registry in store.read("auth.json")
    if local is None:
        raise Refused(
            f"Error response from daemon: An image does not exist locally with the tag: {ref}"
        )
    account, region = registry_parts(registry)
    print(f"The push refers to repository [{registry}/{repository}]", flush=True)
    if not logged_in:
        raise Refused("no basic auth credentials")
    there = _layers_in(account, region, repository)
    terminal = sys.stdout.isatty()
    layers = list(reversed(local["layers"]))  # docker lists the top layer first
    for layer in layers:
        print(f"{_short(layer['digest'])}: Preparing", flush=True)
    per_byte = timings.seconds("image_push") / FIRST_PUSH
    for layer in layers:
        short = _short(layer["digest"])
        if layer["digest"] in there:
            print(f"{short}: Layer already exists", flush=True)
            continue
        _upload(short, layer["size"], per_byte, terminal)
        print(f"{short}: Pushed", flush=True)
    from runbook.sandbox.image import ImageConfig, Images  # the config kept at build time

    manifest = Images.manifest(local["digest"], ImageConfig(**local["config"]), local["layers"])
    try:
        answer = ecr(
            "PutImage",
            account,
            region,
            {"repositoryName": repository, "imageManifest": manifest, "imageTag": tag},
        )
    except EcrError as exc:
        if exc.kind == "ImageAlreadyExistsException" or "already exists" in exc.message:
            raise Refused(
                f"tag invalid: The image tag '{tag}' already exists in the '{repository}' "
                "repository and cannot be overwritten because the repository is immutable."
            ) from exc
        if exc.kind == "RepositoryNotFoundException":
            raise Refused(
                f"name unknown: The repository with name '{repository}' does not exist in the "
                f"registry with id '{account}'"
            ) from exc
        raise Refused(f"denied: {exc}") from exc
    digest = answer["image"]["imageId"].get("imageDigest") or (
        "sha256:" + hashlib.sha256(manifest.encode()).hexdigest()
    )
    print(f"{tag}: digest: {digest} size: {len(manifest)}", flush=True)


def _upload(short: str, size: int, per_byte: float, terminal: bool) -> None:
    """A layer's upload, in docker's words: progress lines only to a terminal, as docker."""
    seconds, sent, started = size * per_byte, 0, time.monotonic()
    while sent < size:
        time.sleep(min(REDRAW, max(seconds, 0.0)))
        elapsed = time.monotonic() - started
        sent = size if seconds <= 0 or elapsed >= seconds else int(size * elapsed / seconds)
        if terminal:
            done = int(50 * sent / size)
            bar = "=" * done + (">" if done < 50 else "") + " " * (49 - done)
            # Back to the layer's line, clear it, redraw it (as docker's jsonmessage does).
            print(
                f"\x1b[1A\x1b[2K\r{short}: Pushing [{bar}]  {_human(sent)}/{_human(size)}",
                flush=True,
            )


# -- what a build consists of ----------------------------------------------------------------


def _steps(context: Path, dockerfile: Path) -> list[tuple[str, str]]:
    """The Dockerfile's build steps (BuildKit numbers FROM, RUN, COPY, ADD, WORKDIR), each
    COPY's source checked as BuildKit checks it."""
    from runbook.sandbox.image import instructions

    steps = []
    known = {
        "FROM",
        "RUN",
        "COPY",
        "ADD",
        "WORKDIR",
        "ENV",
        "USER",
        "EXPOSE",
        "HEALTHCHECK",
        "ENTRYPOINT",
        "CMD",
        "ARG",
        "LABEL",
        "VOLUME",
        "SHELL",
        "STOPSIGNAL",
        "ONBUILD",
    }
    for number, (keyword, rest) in enumerate(instructions(dockerfile), 1):
        if keyword not in known:
            raise Refused(
                f"ERROR: failed to solve: dockerfile parse error on line {number}: unknown "
                f"instruction: {keyword}"
            )
        if keyword == "COPY":
            sources = [w for w in shlex.split(rest) if not w.startswith("--")][:-1]
            for source in sources:
                if not (context / source).exists():
                    raise Refused(
                        "ERROR: failed to solve: failed to compute cache key: failed to "
                        f'calculate checksum of ref: "/{source.rstrip("/")}": not found'
                    )
        if keyword in ("FROM", "RUN", "COPY", "ADD", "WORKDIR"):
            steps.append((keyword, rest))
    return steps


def _requirements_digest(context: Path, architecture: str) -> str:
    path = context / "requirements.txt"
    content = path.read_bytes() if path.exists() else b""
    return "sha256:" + hashlib.sha256(content + architecture.encode()).hexdigest()


def _fixed(name: str, architecture: str) -> str:
    return (
        "sha256:" + hashlib.sha256(f"python:3.11-slim/{architecture}/{name}".encode()).hexdigest()
    )


def _layers(
    context: Path, digest: str, requirements: str, architecture: str, app_size: int
) -> list[dict[str, Any]]:
    from runbook.sandbox.image import source_digest

    bin_digest = source_digest(context / "bin") if (context / "bin").is_dir() else digest
    sized = [(_fixed(name, architecture), size) for name, size in BASE_LAYERS]
    sized += [
        (requirements, REQUIREMENTS_SIZE),
        (_fixed("rds-global-bundle.pem", architecture), 161_000),
        (digest, app_size),
        (bin_digest, 4_000),
        ("sha256:" + hashlib.sha256(f"chmod {bin_digest}".encode()).hexdigest(), 1_000),
    ]
    return [{"mediaType": LAYER_TYPE, "digest": d, "size": s} for d, s in sized]


def _layers_in(account: str, region: str, repository: str) -> set[str]:
    """The layers the repository has already (a registry answers a HEAD per blob)."""
    try:
        ids = ecr("ListImages", account, region, {"repositoryName": repository})["imageIds"]
        if not ids:
            return set()
        found = ecr(
            "BatchGetImage", account, region, {"repositoryName": repository, "imageIds": ids}
        )["images"]
    except EcrError:
        return set()
    return {
        layer["digest"]
        for image in found
        for layer in json.loads(image["imageManifest"]).get("layers", [])
    }


# -- docker's command line ------------------------------------------------------------------


def parse(
    args: list[str], valued: dict[str, str], flags: dict[str, str], command: str
) -> tuple[dict[str, str], list[str]]:
    """docker's option syntax for the options the runbook uses: --x v, --x=v, -x v."""
    options: dict[str, str] = {}
    positional: list[str] = []
    words = iter(args)
    for word in words:
        name, equals, value = word.partition("=")
        if name in valued:
            options[valued[name]] = value if equals else next(words, "")
        elif word in flags:
            options[flags[word]] = "true"
        elif word.startswith("-") and word != "-":
            raise Refused(f"unknown flag: {name}\nSee 'docker {command} --help'.", 125)
        else:
            positional.append(word)
    return options, positional


def _short(digest: str) -> str:
    return digest.removeprefix("sha256:")[:12]


def _named(tag: str) -> str:
    return (
        tag if "/" in tag.split(":")[0] or "." in tag.split("/")[0] else f"docker.io/library/{tag}"
    )


def _human(count: float) -> str:
    """docker's units.HumanSize: four significant digits, powers of 1000."""
    for unit in ("B", "kB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            return f"{count:.4g}{unit}"
        count /= 1000
    return f"{count:.4g}GB"


def _timings() -> Timings:
    from runbook.sandbox.timings import Timings

    return Timings.parse(os.environ.get(TIMINGS_ENV, "instant"))


def main(argv: list[str]) -> int:
    store = Store(Path(os.environ[STORE_ENV]))
    command, args = (argv[0], argv[1:]) if argv else ("", [])
    stdin = sys.stdin.read() if command == "login" and "--password-stdin" in args else None
    status = 0
    try:
        if command == "login":
            login(store, args, stdin)
        elif command == "build":
            build(store, args, _timings())
        elif command == "push":
            push(store, args, _timings())
        else:
            raise Refused(
                f"docker: '{command}' is not a docker command (the sandbox's stand-in answers "
                "login, build and push).\nSee 'docker --help'",
                1,
            )
    except Refused as refused:
        print(str(refused), file=sys.stderr, flush=True)
        status = refused.status
    except EcrError as exc:
        print(f"Error response from daemon: {exc}", file=sys.stderr, flush=True)
        status = 1
    store.record(argv, stdin is not None, status)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
