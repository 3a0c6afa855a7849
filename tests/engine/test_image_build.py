"""The runbook builds and pushes the app's image itself, tagged with its version, in the
background from section III on; a code change is a new version, a new revision, a rollout.

There is no container engine on these machines: the engine here is the sandbox's stand-in for
docker's command line (runbook.sandbox.container_engine), which records its arguments and
pushes into the emulator's ECR. The command lines it records are the ones docker documents.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
from dataclasses import asdict
from pathlib import Path

import pytest

from runbook.errors import RunbookError
from runbook.events import CallMade, ImageProgress, Rollout, StepFailed, StepFinished, Waiting
from runbook.image import Build, ContainerEngine
from runbook.sandbox.container_engine import recorded
from runbook.sandbox.image import SOURCE


def engine_calls(store: Path, account: str) -> list[dict]:
    """What the stand-in was asked for this test's account (the store is the session's)."""
    return [c for c in recorded(store) if f"{account}.dkr.ecr." in " ".join(c["argv"])]


def app_copy(tmp_path: Path) -> Path:
    """The Todo API's source in a folder of its own, to change as a person would."""
    copy = tmp_path / "todo_app"
    shutil.copytree(SOURCE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def tags_in_ecr(aws) -> set[str]:
    images = aws.call("ecr", "describe_images", repositoryName="flask-todo")["imageDetails"]
    return {tag for image in images for tag in image.get("imageTags", [])}


def test_login_build_and_push_are_dockers_own_command_lines(
    make_runbook, aws, events, account, engine_store, state_path
) -> None:
    runbook = make_runbook()
    runbook.deploy()
    assert re.fullmatch(r"(git|src)-[0-9a-f]{12}", runbook.version)
    registry = f"{account}.dkr.ecr.us-east-1.amazonaws.com"
    image = f"{registry}/flask-todo:{runbook.version}"
    calls = engine_calls(engine_store, account)
    assert [c["argv"] for c in calls] == [
        ["login", "--username", "AWS", "--password-stdin", registry],
        ["build", "--platform", "linux/amd64", "-t", image, str(SOURCE)],
        ["push", image],
    ]
    assert [(c["stdin"], c["exit"]) for c in calls] == [(True, 0), (False, 0), (False, 0)]

    # The version is in ECR, and it is what the task definition names: never `latest`.
    assert tags_in_ecr(aws) == {runbook.version}
    ecs = aws.client("ecs")
    td = ecs.describe_task_definition(taskDefinition="flask-todo")["taskDefinition"]
    assert td["containerDefinitions"][0]["image"] == image
    assert td["runtimePlatform"]["cpuArchitecture"] == "X86_64"

    # The registry password went through stdin only: not in an event, not in the state file.
    token = aws.call("ecr", "get_authorization_token")["authorizationData"][0]
    password = base64.b64decode(token["authorizationToken"]).decode().partition(":")[2]
    assert password not in json.dumps([asdict(e) for e in events], default=str)
    assert password not in state_path.read_text()

    # Progress, from the engine's own output: built step by step, pushed layer by layer.
    progress = [e for e in events if isinstance(e, ImageProgress)]
    assert {e.section for e in progress} == {"III"}  # started as soon as III made the repo
    assert progress[0].phase == "login" and progress[-1].phase == "pushed"
    assert any(re.match(r"step \d+/\d+: COPY", e.message) for e in progress)
    pushing = [e for e in progress if e.phase == "push" and e.bytes_total]
    assert pushing, "byte counts come from docker's terminal output (a pseudo-terminal)"
    assert progress[-1].layers_done == progress[-1].layers_total > 1
    assert "sha256:" in progress[-1].message  # the digest docker printed
    login = [
        e for e in events if isinstance(e, CallMade) and e.operation == "get_authorization_token"
    ]
    assert [(e.section, e.outcome, e.mutating) for e in login] == [("III", "ok", False)]

    events.clear()
    make_runbook().deploy()  # the same source: nothing to build
    assert len(engine_calls(engine_store, account)) == 3
    (present,) = [e for e in events if isinstance(e, ImageProgress)]
    assert present.phase == "present" and image in present.message


def test_arm64_tasks_get_an_arm64_build(make_runbook, aws, settings, account, engine_store) -> None:
    graviton = settings.replace("task_definition", cpu_architecture="ARM64")
    runbook = make_runbook(settings=graviton)
    runbook.deploy()
    (build,) = [c["argv"] for c in engine_calls(engine_store, account) if c["argv"][0] == "build"]
    assert build[1:3] == ["--platform", "linux/arm64"]
    td = aws.client("ecs").describe_task_definition(taskDefinition="flask-todo")["taskDefinition"]
    assert td["runtimePlatform"] == {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"}


def test_a_code_change_is_a_new_version_revision_and_rollout(
    make_runbook, aws, events, tmp_path, container_engine
) -> None:
    app = app_copy(tmp_path)
    first = make_runbook(build=Build(app, container_engine))
    first.deploy()
    assert first.version.startswith("src-")  # not a git checkout: a digest of the content
    (app / "todos.py").write_text((app / "todos.py").read_text() + "\n# a change\n")
    events.clear()
    second = make_runbook(build=Build(app, container_engine))
    second.deploy()
    assert second.version != first.version

    registered = [e for e in events if isinstance(e, CallMade) and e.operation.startswith("reg")]
    assert registered and registered[0].params["containerDefinitions"][0]["image"].endswith(
        f"flask-todo:{second.version}"
    )
    (update,) = [e for e in events if isinstance(e, CallMade) and e.operation == "update_service"]
    assert update.params["taskDefinition"].endswith("task-definition/flask-todo:2")
    svc = aws.client("ecs").describe_services(
        cluster="flask-todo-cluster", services=["flask-todo-service"]
    )["services"][0]
    assert svc["taskDefinition"].endswith(":2")
    # The previous version stays: a rollback (to revision 1) finds its image.
    assert tags_in_ecr(aws) == {first.version, second.version}
    assert [e for e in events if isinstance(e, Rollout) and e.section == "VI"]


def test_without_an_engine_section_vi_waits_showing_the_versioned_commands(
    make_runbook, aws, settings, events, account, engine_store
) -> None:
    """No docker or podman: the person pushes from another terminal; VI shows how, by version."""
    pushes: list[float] = []

    def person_pushes_meanwhile(seconds: float) -> None:
        if not pushes:  # what `docker push` does, seen from ECR
            manifest = {"schemaVersion": 2, "mediaType": MEDIA_TYPE, "layers": []}
            aws.call(
                "ecr",
                "put_image",
                repositoryName=settings.task_definition.family,
                imageManifest=json.dumps(manifest),
                imageTag=runbook.version,
            )
        pushes.append(seconds)

    runbook = make_runbook(build=Build(engine=None), sleep=person_pushes_meanwhile)
    for step in runbook.steps:
        runbook.apply(step)
    uri = f"{account}.dkr.ecr.us-east-1.amazonaws.com/flask-todo"
    (wait, *_) = [e for e in events if isinstance(e, Waiting) and "ECR" in e.what]
    assert f"the image {uri}:{runbook.version} in ECR; push it from another terminal:" in wait.what
    assert (
        f"aws ecr get-login-password --region us-east-1 | docker login --username AWS "
        f"--password-stdin {account}.dkr.ecr.us-east-1.amazonaws.com" in wait.what
    )
    assert f"docker build --platform linux/amd64 -t {uri}:{runbook.version} " in wait.what
    assert wait.what.endswith(f"docker push {uri}:{runbook.version}")
    assert pushes and not [e for e in events if isinstance(e, ImageProgress)]
    assert engine_calls(engine_store, account) == []
    svc = aws.client("ecs").describe_services(
        cluster="flask-todo-cluster", services=["flask-todo-service"]
    )["services"]
    assert len(svc) == 1


MEDIA_TYPE = "application/vnd.docker.distribution.manifest.v2+json"


def test_a_build_that_fails_is_section_vis_failure_with_the_engines_words(
    make_runbook, aws, events, tmp_path, container_engine
) -> None:
    app = app_copy(tmp_path)
    requirements = (app / "requirements.txt").read_text()
    (app / "requirements.txt").unlink()  # the Dockerfile copies it: the build fails there
    runbook = make_runbook(build=Build(app, container_engine))
    with pytest.raises(RunbookError) as caught:
        runbook.deploy()
    problem = caught.value.problem
    assert problem.code == "ImageBuildFailed"
    assert problem.message.startswith("`sandbox-docker build --platform linux/amd64 -t ")
    assert '"/requirements.txt": not found' in problem.message  # BuildKit's own words
    assert "Dockerfile" in problem.advice and "run section VI again" in problem.advice
    # The sections that do not need the image went on meanwhile; VI failed before any call.
    done = [e.section for e in events if isinstance(e, StepFinished) and e.status == "done"]
    assert done == ["I", "II", "III", "IV", "V"]
    (failed,) = [e for e in events if isinstance(e, StepFailed)]
    assert failed.section == "VI" and failed.code == "ImageBuildFailed"
    said = [e for e in events if isinstance(e, ImageProgress) and e.phase == "failed"]
    assert len(said) == 1 and said[0].section == "III"
    assert not [e for e in events if isinstance(e, CallMade) and e.operation == "create_service"]

    (app / "requirements.txt").write_text(requirements)  # fixed: a deploy carries on
    make_runbook(build=Build(app, container_engine)).deploy()
    assert aws.client("ecs").describe_services(
        cluster="flask-todo-cluster", services=["flask-todo-service"]
    )["services"]


def test_a_pushed_version_is_never_overwritten(make_runbook, aws) -> None:
    """Tags are immutable: what a revision names stays what it was, for a rollback too."""
    from botocore.exceptions import ClientError

    runbook = make_runbook()
    runbook.deploy()
    (repo,) = aws.call("ecr", "describe_repositories", repositoryNames=["flask-todo"])[
        "repositories"
    ]
    assert repo["imageTagMutability"] == "IMMUTABLE"
    other = {"schemaVersion": 2, "mediaType": MEDIA_TYPE, "layers": [{"digest": "sha256:0"}]}
    with pytest.raises(ClientError, match="ImageAlreadyExists"):
        aws.client("ecr").put_image(
            repositoryName="flask-todo", imageManifest=json.dumps(other), imageTag=runbook.version
        )


def test_an_older_repository_of_ours_is_made_immutable_in_place(make_runbook, aws, events) -> None:
    aws.call(
        "ecr",
        "create_repository",
        repositoryName="flask-todo",
        tags=[{"Key": "fargate-runbook:deployment", "Value": "flask-todo"}],
    )
    runbook = make_runbook()
    for number in ("I", "II", "III"):
        runbook.apply(runbook.step(number))
    assert [e.operation for e in events if isinstance(e, CallMade) and e.service == "ecr"][:1] == [
        "put_image_tag_mutability"
    ]
    (repo,) = aws.call("ecr", "describe_repositories", repositoryNames=["flask-todo"])[
        "repositories"
    ]
    assert repo["imageTagMutability"] == "IMMUTABLE"


def test_the_engine_is_the_command_lines_to_choose(
    engine_env, container_engine: ContainerEngine
) -> None:
    from runbook.image import find_engine

    assert find_engine() == container_engine
