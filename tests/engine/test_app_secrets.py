"""A secret [app] names with no value stops a deploy before its first change (exit 2, the
names and how to give them, never a value), and a value given, or kept from an earlier
deploy, lets it through."""

from __future__ import annotations

from pathlib import Path

import pytest

from runbook import preflight
from runbook.aws import Aws
from runbook.settings import Settings
from runbook.steps import app_secrets

TOKENS = Path(__file__).resolve().parents[1] / "apps" / "tokens"


def tokens_settings(settings: Settings) -> Settings:
    return settings.replace("app", folder=str(TOKENS), secrets=["API_TOKEN"])


def test_deploy_stops_before_any_change_with_exit_2(
    aws: Aws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from runbook import cli
    from runbook.cli import target

    monkeypatch.delenv("RUNBOOK_SECRET_API_TOKEN", raising=False)
    monkeypatch.setattr(target, "aws_for", lambda *_a: aws)
    config = tmp_path / "app.toml"
    config.write_text(
        f'[database]\ninstance_class = "db.t4g.micro"\n'
        f'[app]\nfolder = "{TOKENS}"\nsecrets = ["API_TOKEN"]\n'
    )
    state = str(tmp_path / "state.json")
    code = cli.main(["deploy", "--yes", "--new", "--config", str(config), "--state", state])
    out = " ".join(capsys.readouterr().out.split())
    assert code == 2, out
    assert "API_TOKEN (app.secrets) has no value yet" in out
    assert "export RUNBOOK_SECRET_API_TOKEN=..." in out
    made = [call for call, n in aws.calls.items() if n and call.split(".")[1].startswith("Create")]
    assert aws.calls["sts.GetCallerIdentity"] >= 1  # it reached the account, and only looked
    assert made == []


def test_a_value_given_or_kept_passes_preflight(
    aws: Aws, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = tokens_settings(settings)
    monkeypatch.delenv("RUNBOOK_SECRET_API_TOKEN", raising=False)
    findings, _known = preflight.run(aws, s)
    (secrets,) = [f for f in findings if f.topic == "app secrets"]
    assert secrets.level == "error" and secrets.bad_input

    monkeypatch.setenv("RUNBOOK_SECRET_API_TOKEN", "given-now-7f3a")
    findings, _known = preflight.run(aws, s)
    (secrets,) = [f for f in findings if f.topic == "app secrets"]
    assert secrets.level == "ok"
    assert "given-now-7f3a" not in secrets.message

    # Kept from an earlier deploy: the deployment's secret holds it, nothing given now.
    monkeypatch.delenv("RUNBOOK_SECRET_API_TOKEN")
    aws.call(
        "secretsmanager",
        "create_secret",
        Name=app_secrets.secret_name(s),
        SecretString='{"API_TOKEN": "kept-9b2c"}',
    )
    findings, _known = preflight.run(aws, s)
    (secrets,) = [f for f in findings if f.topic == "app secrets"]
    assert secrets.level == "ok"
    assert "kept-9b2c" not in str(findings)
