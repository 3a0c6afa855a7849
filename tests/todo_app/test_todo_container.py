"""The Dockerfile and requirements.txt agree with the package and the task definition.

No Docker engine here, so this reads the Dockerfile: the runbook's task definition relies
on its WORKDIR, PYTHONPATH, port, user and entry point, and on COPY finding its sources
in the build context (todo_app/ itself).
"""

from __future__ import annotations

import os
import re
import shlex
from importlib.metadata import version
from pathlib import Path

from packaging.requirements import Requirement

import todo_app

CONTEXT = Path(todo_app.__file__).parent


def instructions() -> list[tuple[str, str]]:
    text = (CONTEXT / "Dockerfile").read_text()
    joined = re.sub(r"\\\n", " ", text)  # continuation lines
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def values(keyword: str) -> list[str]:
    return [rest for key, rest in instructions() if key == keyword]


def test_base_image_workdir_port_and_entry_point_match_the_task_definition() -> None:
    assert values("FROM") == ["python:3.11-slim"]
    assert values("WORKDIR") == ["/app"]
    assert values("EXPOSE") == ["5000"]
    assert values("ENTRYPOINT") == ['["bin/flask-run.sh"]']
    env = " ".join(values("ENV"))
    assert "PYTHONPATH=/app/src" in env


def test_the_app_runs_as_a_non_root_user() -> None:
    users = values("USER")
    assert users and users[-1] not in ("root", "0")
    assert any("useradd" in run and users[-1] in run for run in values("RUN"))


def test_copy_puts_the_package_under_src_and_the_scripts_under_bin() -> None:
    copies = [shlex.split(rest) for rest in values("COPY")]
    destinations = {args[-1].rstrip("/") for args in copies}
    assert {"/app/src/todo_app", "/app/bin"} <= destinations
    for *sources, _ in copies:
        for source in sources:
            assert (CONTEXT / source).exists(), f"COPY {source}: not in the build context"


def test_the_entry_point_is_an_executable_shell_script() -> None:
    script = CONTEXT / "bin" / "flask-run.sh"
    assert os.access(script, os.X_OK)
    assert script.read_text().startswith("#!/bin/sh")
    assert "exec python -m gunicorn" in script.read_text()


def test_a_healthcheck_probes_healthz() -> None:
    (check,) = values("HEALTHCHECK")
    assert "/healthz" in check


def test_requirements_cover_the_runtime_and_not_the_embedded_server() -> None:
    lines = (CONTEXT / "requirements.txt").read_text().splitlines()
    requirements = [Requirement(line) for line in lines if line and not line.startswith("#")]
    names = {requirement.name.lower() for requirement in requirements}
    assert names == {"flask", "psycopg2-binary", "gunicorn", "boto3"}
    for requirement in requirements:
        # What the tests run on satisfies what the image will install.
        assert requirement.specifier.contains(version(requirement.name), prereleases=True)


# Where the RDS User Guide publishes the certificate bundle for all AWS Regions, and where
# the task definition's DB_SSLROOTCERT expects it.
RDS_GLOBAL_BUNDLE_URL = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"
DB_SSLROOTCERT = "/app/certs/rds-global-bundle.pem"


def test_the_rds_ca_bundle_is_in_the_image_where_db_sslrootcert_points() -> None:
    adds = [shlex.split(rest) for rest in values("ADD")]
    (fetch,) = [args for args in adds if RDS_GLOBAL_BUNDLE_URL in args]
    *options, source, destination = fetch
    assert (source, destination) == (RDS_GLOBAL_BUNDLE_URL, DB_SSLROOTCERT)
    # ADD saves a downloaded file with mode 600 (root only): the app's user must read it.
    (chmod,) = [option for option in options if option.startswith("--chmod=")]
    assert int(chmod.removeprefix("--chmod="), 8) & 0o004
    # --chmod on ADD needs BuildKit's Dockerfile frontend; the syntax line asks for it.
    first_line = (CONTEXT / "Dockerfile").read_text().splitlines()[0]
    assert first_line == "# syntax=docker/dockerfile:1"
