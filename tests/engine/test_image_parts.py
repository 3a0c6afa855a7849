"""The image job's parts, each on its own: which engine, which version, what its output says,
what its failures mean. No emulator; the failure texts are docker's and podman's own."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from runbook.image import ContainerEngine, commands
from runbook.image.container_engine import EngineSettingError, find_engine
from runbook.image.failures import engine_failed
from runbook.image.process import Command
from runbook.image.progress import Push, build_step, fragments, size
from runbook.image.version import clean_commit, content_digest, version_of

DOCKER = ContainerEngine("/usr/bin/docker")
PODMAN = ContainerEngine("/usr/bin/podman")


# -- which engine -----------------------------------------------------------------------------


def test_docker_then_podman_on_path_and_the_setting_wins(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr("runbook.image.container_engine.SEARCHED", ("docker", "podman"))
    on_path = {"podman": "/usr/bin/podman", "docker": "/usr/local/bin/docker"}
    assert find_engine({}, on_path.get) == ContainerEngine("/usr/local/bin/docker")
    assert find_engine({}, {"podman": "/usr/bin/podman"}.get) == PODMAN
    assert find_engine({}, lambda _name: None) is None
    mine = tmp_path / "my-docker"
    mine.write_text("#!/bin/sh\n")
    mine.chmod(0o755)
    chosen = find_engine({"RUNBOOK_CONTAINER_ENGINE": str(mine)})
    assert chosen == ContainerEngine(str(mine)) and chosen.kind == "docker"
    assert PODMAN.kind == "podman"
    with pytest.raises(EngineSettingError, match="not an executable file"):
        find_engine({"RUNBOOK_CONTAINER_ENGINE": str(tmp_path / "nothing")})


# -- the command lines --------------------------------------------------------------------


def test_the_command_lines_are_dockers_and_the_password_is_never_one_of_them() -> None:
    image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/flask-todo:git-0123456789ab"
    registry = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
    assert commands.registry_of(image) == registry
    assert commands.login(DOCKER, registry)[1:] == [
        "login",
        "--username",
        "AWS",
        "--password-stdin",
        registry,
    ]
    assert commands.build(DOCKER, image, Path("/src/todo_app"), "linux/arm64")[1:] == [
        "build",
        "--platform",
        "linux/arm64",
        "-t",
        image,
        "/src/todo_app",
    ]
    assert commands.push(DOCKER, image)[1:] == ["push", image]
    assert commands.platform_for("ARM64") == "linux/arm64"
    assert commands.platform_for("X86_64") == "linux/amd64"
    assert commands.for_a_person(image, Path("/src/todo_app"), "linux/amd64", "eu-west-1") == (
        "aws ecr get-login-password --region eu-west-1 | docker login --username AWS "
        f"--password-stdin {registry} && docker build --platform linux/amd64 -t {image} "
        f"/src/todo_app && docker push {image}"
    )


# -- the version ------------------------------------------------------------------------------


def git(folder: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=folder,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def test_the_version_is_the_commit_when_clean_else_the_contents_digest(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    context = repo / "todo_app"
    context.mkdir(parents=True)
    (context / "Dockerfile").write_text("FROM python:3.11-slim\n")
    (context / "app.py").write_text("print('v1')\n")
    (context / ".dockerignore").write_text("__pycache__/\nREADME.md\n")
    assert version_of(context).startswith("src-")  # not in git yet
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "v1")
    commit = git(repo, "log", "-1", "--format=%h", "--abbrev=12")
    assert version_of(context) == f"git-{commit}"
    (repo / "elsewhere.txt").write_text("not in the context\n")
    assert version_of(context) == f"git-{commit}"  # a change outside the context: same image

    (context / "app.py").write_text("print('v2')\n")  # uncommitted: the content decides
    dirty = version_of(context)
    assert dirty.startswith("src-") and clean_commit(context) is None
    assert dirty == f"src-{content_digest(context)[:12]}"
    (context / "README.md").write_text("ignored by the build\n")
    (context / "__pycache__").mkdir()
    (context / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"\0")
    assert version_of(context) == dirty  # what .dockerignore leaves out changes nothing
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "v2")
    assert version_of(context) == f"git-{git(repo, 'log', '-1', '--format=%h', '--abbrev=12')}"
    assert version_of(context) != f"git-{commit}"


def test_another_dockerfile_is_another_image_of_the_same_source(tmp_path: Path) -> None:
    """[app] dockerfile switched on unchanged source: a new tag, so the build is not skipped."""
    (tmp_path / "app.py").write_text("app = None\n")
    (tmp_path / "Dockerfile").write_text("FROM python:3.12-slim\n")
    (tmp_path / "Dockerfile.slim").write_text("FROM python:3.12-alpine\n")
    own = version_of(tmp_path)
    slim = version_of(tmp_path, tmp_path / "Dockerfile.slim")
    assert slim.startswith(own + "-df") and len(slim) <= 128  # ECR's tag length
    assert version_of(tmp_path, tmp_path / "Dockerfile.slim") == slim  # stable
    assert version_of(tmp_path, tmp_path / "ops" / "Dockerfile") not in (own, slim)


# -- what the engine's output says ---------------------------------------------------------


def test_build_steps_in_buildkits_the_legacy_builders_and_podmans_words() -> None:
    assert build_step("#7 [3/8] COPY requirements.txt /app/requirements.txt") == (
        build_step("Step 3/8 : COPY requirements.txt /app/requirements.txt")
    )
    assert build_step("STEP 3/8: COPY requirements.txt /app/requirements.txt").text == (
        "COPY requirements.txt /app/requirements.txt"
    )
    assert build_step("#7 [builder 2/5] RUN make").number == 2
    assert build_step("#7 DONE 0.1s") is None


def test_a_push_as_docker_draws_it_on_a_terminal_and_as_podman_prints_it() -> None:
    drawn = (
        "The push refers to repository [123.dkr.ecr.us-east-1.amazonaws.com/flask-todo]\r\n"
        "5f70bf18a086: Preparing\r\n0123456789ab: Preparing\r\n"
        "\x1b[1A\x1b[2K\r5f70bf18a086: Pushing [==>          ]  4.335MB/40MB\r\x1b[1B"
        "\x1b[2K\r0123456789ab: Layer already exists\r\n"
        "\x1b[1A\x1b[2K\r5f70bf18a086: Pushed\r\n"
        "git-0123456789ab: digest: sha256:" + "a" * 64 + " size: 1234\r\n"
    )
    push = Push()
    for fragment in fragments(drawn):
        push.read(fragment)
    assert push.layers_done == len(push.layers) == 2
    assert push.bytes_total == 40_000_000 == push.bytes_done
    assert push.digest == "sha256:" + "a" * 64

    podman = Push()
    podman.read("Copying blob sha256:5f70bf18a0860123 [=====>-----] 12.3MiB / 45.6MiB")
    assert (podman.bytes_done, podman.bytes_total) == (size("12.3MiB"), size("45.6MiB"))
    podman.read("Copying blob 0123456789ab skipped: already exists")
    podman.read("Copying blob 5f70bf18a086 done")
    assert podman.layers_done == 2
    assert size("49.15kB") == 49_150 and size("512B") == 512 and size("1MiB") == 1_048_576


# -- what a failure means ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("engine", "step", "output", "code", "advice"),
    [
        # The docker command line on a machine with no daemon (seen on these machines).
        (
            DOCKER,
            "build",
            "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker "
            "daemon running?",
            "ContainerEngineNotRunning",
            "sudo systemctl start docker",
        ),
        (
            PODMAN,
            "push",
            "Cannot connect to Podman. Please verify your connection to the Linux system using "
            "`podman system connection list`, or try `podman machine init` and `podman machine "
            "start` to manage a new Linux VM",
            "ContainerEngineNotRunning",
            "podman machine start",
        ),
        (
            DOCKER,
            "login",
            'Get "https://123456789012.dkr.ecr.us-east-1.amazonaws.com/v2/": dial tcp: lookup '
            "123456789012.dkr.ecr.us-east-1.amazonaws.com on 10.0.0.2:53: no such host",
            "RegistryUnreachable",
            "proxy",
        ),
        (
            DOCKER,
            "login",
            "Error response from daemon: login attempt to https://123456789012.dkr.ecr.us-east-1"
            ".amazonaws.com/v2/ failed with status: 400 Bad Request",
            "RegistryLoginRefused",
            "ecr:GetAuthorizationToken",
        ),
        (
            DOCKER,
            "push",
            "denied: User: arn:aws:iam::123456789012:user/ci is not authorized to perform: "
            "ecr:InitiateLayerUpload on resource: arn:aws:ecr:us-east-1:123456789012:"
            "repository/flask-todo because no identity-based policy allows it",
            "RegistryPushDenied",
            "ecr:PutImage",
        ),
        (DOCKER, "push", "no basic auth credentials", "RegistryLoginMissing", "logs in first"),
        (
            DOCKER,
            "build",
            "ERROR: failed to solve: write /var/lib/docker/tmp/x: no space left on device",
            "NoSpaceLeftOnDevice",
            "docker system prune",
        ),
        (
            DOCKER,
            "build",
            'ERROR: failed to solve: process "/bin/sh -c pip install -r requirements.txt" did '
            "not complete successfully: exit code: 1",
            "ImageBuildFailed",
            "Dockerfile",
        ),
        (DOCKER, "build", "unknown flag: --platform", "ContainerEngineTooOld", "update it"),
        (DOCKER, "push", "something nobody foresaw", "ContainerPushFailed", "engine's message"),
    ],
)
def test_a_failure_is_the_engines_words_and_what_to_do(engine, step, output, code, advice) -> None:
    problem = engine_failed(engine, step, f"{engine.name} {step} x", 1, ["", output])
    assert problem.code == code
    assert problem.message == f"`{engine.name} {step} x` failed (exit 1): {output}"
    assert advice in problem.advice


# -- running a command -------------------------------------------------------------------------


def test_a_command_gets_stdin_and_a_terminal_and_can_be_stopped(tmp_path: Path) -> None:
    script = tmp_path / "engine.py"
    script.write_text(
        "import sys, os\n"
        "secret = sys.stdin.read()\n"
        "print('got', len(secret.strip()), 'characters; terminal:', os.isatty(1))\n"
        "sys.stdout.write('a: Pushing 1MB/2MB\\r\\x1b[2Kb: Pushed\\n')\n"
    )
    seen: list[str] = []
    done = Command([sys.executable, str(script)], terminal=True).run(seen.append, stdin=b"s3cret\n")
    assert done.returncode == 0
    assert seen == ["got 6 characters; terminal: True", "a: Pushing 1MB/2MB", "b: Pushed"]

    slow = Command([sys.executable, "-c", "import time; time.sleep(60)"])
    threading.Timer(0.3, slow.stop).start()
    started = time.monotonic()
    assert slow.run(seen.append).returncode != 0
    assert time.monotonic() - started < 10
