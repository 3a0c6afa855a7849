"""The sandbox's build reads a Dockerfile as Docker does and refuses, by line and with what to
do, what it cannot follow on this machine (no pip runs in these tests: they stop before)."""

from __future__ import annotations

from pathlib import Path

import pytest

from runbook import rds_ca
from runbook.image.dockerfile import expand, read
from runbook.sandbox.image import Images, is_todo_api
from runbook.sandbox.image_build import Refusal, in_image


def build(tmp_path: Path, dockerfile: str) -> None:
    context = tmp_path / "app"
    context.mkdir(parents=True, exist_ok=True)
    (context / "app.py").write_text("app = None\n")
    (context / "Dockerfile").write_text(dockerfile)
    images = Images(tmp_path / "store" / "images")
    images.folder.mkdir(parents=True, exist_ok=True)
    images.build(context, "amd64", None, lambda _line: None)


def test_instructions_keep_their_lines_and_both_forms(tmp_path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text(
        "# syntax=docker/dockerfile:1\nFROM python:3.11-slim AS base\n\n"
        "RUN pip install \\\n    flask \\\n    gunicorn\n"
        'CMD ["gunicorn", "app:app"]\nENTRYPOINT gunicorn app:app\n'
        "COPY --from=base --chmod=755 /a /b\n"
    )
    steps = read(path)
    assert [(s.line, s.keyword) for s in steps] == [
        (2, "FROM"),
        (4, "RUN"),
        (7, "CMD"),
        (8, "ENTRYPOINT"),
        (9, "COPY"),
    ]
    assert steps[1].text == "pip install flask gunicorn"
    assert steps[2].command() == ["gunicorn", "app:app"]
    assert steps[3].command() == ["/bin/sh", "-c", "gunicorn app:app"]
    assert steps[4].flags == {"from": "base", "chmod": "755"}
    assert expand("${HOME:-/root}/$X ${X:+yes}", {"X": "1"}) == "/root/1 yes"


@pytest.mark.parametrize(
    ("dockerfile", "says"),
    [
        ("FROM node:20\n", "line 1: FROM node:20: the sandbox builds Python images only"),
        (
            "FROM python:3.11-slim\nRUN apt-get update && apt-get install -y libpq-dev\n",
            "line 2: RUN apt-get update",
        ),
        (
            "FROM python:3.11-slim\nADD https://example.com/x.pem /app/x.pem\n",
            "fetches nothing from the network",
        ),
        ("FROM python:3.11-slim\nCOPY missing.txt /app/\n", '"/missing.txt": not found'),
        ("FROM python:3.11-slim\nCOPY --from=ghcr.io/x/y /a /b\n", "names no earlier stage"),
        ("FROM python:3.11-slim\nFROBNICATE now\n", "unknown instruction: FROBNICATE"),
    ],
)
def test_what_it_cannot_follow_is_named_with_its_line(tmp_path, dockerfile, says) -> None:
    with pytest.raises(Refusal) as refused:
        build(tmp_path, dockerfile)
    assert says in str(refused.value)


def test_rdss_ca_bundle_is_the_one_url_it_takes_and_only_where_the_task_reads_it(
    tmp_path,
) -> None:
    """On AWS docker fetches RDS's bundle; here every task finds the sandbox's CA at that path
    (ecs/runtime.py), so the line builds without the network. Anywhere else it is refused
    with the line to write."""
    base = "FROM python:3.11-slim\nWORKDIR /app\n"
    build(tmp_path, base + rds_ca.ADD_LINE + "\nCOPY app.py .\n")
    build(tmp_path / "relative", base + f"ADD {rds_ca.URL} certs/rds-global-bundle.pem\n")
    with pytest.raises(Refusal) as refused:
        build(tmp_path / "elsewhere", base + f"ADD {rds_ca.URL} /etc/rds.pem\n")
    assert f"goes to {rds_ca.IN_IMAGE}" in str(refused.value)
    assert rds_ca.ADD_LINE in str(refused.value)


def test_paths_inside_the_image_point_into_its_folder(tmp_path) -> None:
    (tmp_path / "app").mkdir()
    assert in_image("pip install -r /app/req.txt", tmp_path) == (
        f"pip install -r {tmp_path}/app/req.txt"
    )
    assert in_image("curl http://host/app/x /usr/bin/true", tmp_path) == (
        "curl http://host/app/x /usr/bin/true"
    )


def test_the_todo_apis_own_dockerfile_keeps_its_own_layout() -> None:
    from runbook.sandbox.image import SOURCE

    assert is_todo_api(SOURCE / "Dockerfile")
