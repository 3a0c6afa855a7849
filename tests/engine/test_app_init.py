"""`runbook init` on apps of other shapes (tests/apps): what it finds, what it writes and records,
and the plan and export of each app passing AWS's rules and cfn-lint."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from cfnlint.api import ManualArgs, lint

from runbook import rds_ca
from runbook.app_scan import scan
from runbook.aws_rules import Census
from runbook.cli import BAD_INPUT, OK, main
from runbook.cli.commands.init import Answers, Asker, settle
from runbook.export import dump, template
from runbook.settings import Settings, from_record
from runbook.steps import STEPS
from runbook.steps.task_definition import container_definition

APPS = Path(__file__).resolve().parents[1] / "apps"


def copy(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / name
    shutil.copytree(APPS / name, folder, ignore=shutil.ignore_patterns("__pycache__"))
    return folder


def init(tmp_path: Path, folder: Path, *more: str) -> tuple[int, Settings]:
    state = tmp_path / "state.json"
    code = main(["init", str(folder), "--state", str(state), *more])
    recorded = json.loads(state.read_text())["settings"] if state.exists() else None
    return code, from_record(recorded, "state") if recorded else Settings()


def test_an_app_with_its_own_dockerfile_is_read_not_rewritten(tmp_path, capsys) -> None:
    folder = copy(tmp_path, "notes")
    before = (folder / "Dockerfile").read_text()
    code, settings = init(tmp_path, folder, "--yes")
    out = capsys.readouterr().out
    assert code == OK, out
    assert (folder / "Dockerfile").read_text() == before
    assert settings.app.folder == str(folder) and settings.app.dockerfile == "Dockerfile"
    assert settings.security_groups.app_port == 8000  # EXPOSE 8000
    assert settings.load_balancer.health_check_path == "/status"  # not /healthz
    assert "asked" not in out and "took the proposal" not in out  # found it all itself
    assert "does not fetch RDS's CA bundle" not in out  # its Dockerfile has the line


def test_an_own_dockerfile_without_rdss_ca_bundle_is_told_the_line_to_add(tmp_path, capsys) -> None:
    folder = copy(tmp_path, "notes")
    dockerfile = folder / "Dockerfile"
    kept = [line for line in dockerfile.read_text().splitlines() if rds_ca.URL not in line]
    dockerfile.write_text("\n".join(kept) + "\n")
    code, _settings = init(tmp_path, folder, "--yes")
    out = " ".join(capsys.readouterr().out.split())
    assert code == OK
    assert "Dockerfile does not fetch RDS's CA bundle" in out
    assert rds_ca.ADD_LINE in out


def test_an_app_without_a_dockerfile_gets_one(tmp_path, capsys) -> None:
    folder = copy(tmp_path, "guestbook")
    code, settings = init(tmp_path, folder, "--yes")
    out = capsys.readouterr().out
    assert code == OK, out
    written = (folder / "Dockerfile").read_text()
    assert "USER app" in written and "useradd" in written  # not root
    assert "pip install -r requirements.txt gunicorn" in written  # gunicorn added
    assert '"0.0.0.0:8000"' in written and '"app:app"]' in written
    assert rds_ca.ADD_LINE in written  # the database connection checks RDS's certificate
    assert "RDS's CA bundle" not in out
    assert settings.load_balancer.health_check_path == "/health"
    assert "took the proposal: port: 8000" in out  # the one thing it could not find


def test_a_variable_the_app_needs_is_proposed_as_a_secret(tmp_path, capsys) -> None:
    folder = copy(tmp_path, "tokens")
    code, settings = init(tmp_path, folder, "--yes")
    out = capsys.readouterr().out
    assert code == OK
    assert settings.app.secrets == ["API_TOKEN"] and settings.app.environment == {}
    assert settings.security_groups.app_port == 8080  # gunicorn.conf.py's bind
    assert settings.load_balancer.health_check_path == "/"  # /admin/stats needs the token
    assert "RUNBOOK_SECRET_API_TOKEN=..." in out
    assert "GREETING" in out and "has a default" in out


def test_what_the_scan_reads() -> None:
    found = scan(APPS / "notes")
    assert found.wsgi == "notes.wsgi:app"
    assert {r.path for r in found.routes} == {"/status", "/notes"}
    tokens = scan(APPS / "tokens")
    guarded = {r.path for r in tokens.routes if r.guarded}
    assert guarded == {"/admin/stats", "/counters/<name>"}
    assert [(v.name, v.required) for v in tokens.to_set()] == [
        ("API_TOKEN", True),
        ("GREETING", False),
    ]
    # DB_HOST and friends are the deployment's to set: never asked.
    assert all(not v.name.startswith("DB_") for v in scan(APPS / "guestbook").to_set())


def test_no_folder_changes_nothing_and_a_bad_one_is_refused(tmp_path, capsys) -> None:
    state = tmp_path / "state.json"
    assert main(["init", "--state", str(state)]) == OK
    assert "Todo API" in capsys.readouterr().out and not state.exists()
    assert main(["init", str(tmp_path / "nowhere"), "--state", str(state)]) == BAD_INPUT
    assert not state.exists()


def test_the_todo_api_stays_as_it_was_without_an_app() -> None:
    container = container_definition(Settings())
    assert container["entryPoint"] == ["bin/flask-run.sh"]
    assert {"FLASK_APP", "PYTHONPATH"} <= {e["name"] for e in container["environment"]}


def own_app(tmp_path: Path, name: str) -> Settings:
    code, settings = init(tmp_path, copy(tmp_path, name), "--yes")
    assert code == OK
    return settings.replace("database", instance_class="db.t4g.micro")


@pytest.mark.parametrize("name", ["notes", "guestbook", "tokens"])
def test_each_apps_plan_passes_the_rules_and_its_export_cfn_lint(tmp_path, name) -> None:
    settings = own_app(tmp_path, name)
    container = container_definition(settings)
    assert "entryPoint" not in container  # the image's own ENTRYPOINT and CMD
    assert not {"FLASK_APP", "PYTHONPATH"} & {e["name"] for e in container["environment"]}
    census = Census()
    for step in STEPS:
        census.add(step.plan(settings, None), {})
    assert census.calls > 20 and census.refused == 0
    document = template(settings)
    found = lint(dump(document), config=ManualArgs(regions=["us-east-1"]))
    assert [f"{m.rule.id} {m.message}" for m in found if m.rule.id.startswith("E")] == []
    text = json.dumps(document)
    if settings.app.secrets:
        assert "AppSecretApiToken" in document["Parameters"]
        assert document["Parameters"]["AppSecretApiToken"]["NoEcho"] is True
        assert ":API_TOKEN::" in text  # the task definition takes it by its JSON key


class Scripted(Asker):
    """A person answering init's questions, in order; what was asked is kept."""

    def __init__(self, *answers: object) -> None:
        super().__init__(yes=False)
        self.answers, self.questions = list(answers), []

    def text(self, question: str, proposal: str, check: object = None) -> str:
        self.questions.append(question)
        return str(self.answers.pop(0))

    def confirm(self, question: str, proposal: bool) -> bool:
        self.questions.append(question)
        return bool(self.answers.pop(0))


def test_init_asks_only_what_it_could_not_find() -> None:
    person = Scripted("5050")
    settings, wsgi = settle(scan(APPS / "guestbook"), Settings(), person, Answers())
    assert person.questions == ["The port the app listens on"]
    assert settings.security_groups.app_port == 5050 and wsgi == "app:app"

    person = Scripted(False, "plain-value")  # API_TOKEN: not a secret, this value
    settings, _ = settle(scan(APPS / "tokens"), Settings(), person, Answers())
    assert [q.split(" (")[0] for q in person.questions] == [
        "The app reads API_TOKEN",
        "API_TOKEN's value",
    ]
    assert settings.app.environment == {"API_TOKEN": "plain-value"} and settings.app.secrets == []
    assert settle(scan(APPS / "notes"), Settings(), Scripted(), Answers())[0].app.folder


def test_a_pyproject_app_is_installed_from_its_folder(tmp_path) -> None:
    from runbook.app_dockerfile import dockerfile

    written = dockerfile("shop:create_app()", 9000, "pyproject.toml", has_gunicorn=True)
    assert "COPY . .\nRUN pip install . \\" in written
    assert '"0.0.0.0:9000"' in written and '"shop:create_app()"]' in written
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text(
        "from flask import Flask\n\n\ndef create_app():\n    app = Flask(__name__)\n"
        "    @app.route('/ping')\n    def ping():\n        return 'pong'\n    return app\n"
    )
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "shop"\ndependencies = ["flask"]\n')
    found = scan(tmp_path)
    assert found.wsgi == "shop:create_app()" and found.requirements == "pyproject.toml"
    assert not found.has_gunicorn and found.health_path().path == "/ping"
