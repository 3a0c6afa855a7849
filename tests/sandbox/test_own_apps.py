"""Apps of other shapes (tests/apps), deployed in the sandbox as a person does it:
`runbook init DIR --yes --sandbox`, then `runbook deploy --yes --sandbox`. Each answers through
the local URL, keeps its rows across a redeploy of changed code, and its secret stays secret."""

from __future__ import annotations

import http.client
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from runbook import sandbox
from runbook.cli import OK, main

APPS = Path(__file__).resolve().parents[1] / "apps"
CONFIG = '[database]\ninstance_class = "db.t4g.micro"\n'
TOKEN = "t0ken-for-the-test-only"


def call(url: str, method: str, path: str, body: Any = None, token: str = "") -> tuple[int, Any]:
    host, _, port = url.removeprefix("http://").partition(":")
    connection = http.client.HTTPConnection(host, int(port or 80), timeout=30)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        connection.request(method, path, json.dumps(body) if body else None, headers)
        answer = connection.getresponse()
        text = answer.read()
        return answer.status, json.loads(text) if text.strip().startswith((b"{", b"[")) else text
    finally:
        connection.close()


# What each app stores and reads back: (write, read, what the read holds after the write).
SHAPES = {
    "notes": (("POST", "/notes", {"body": "kept"}), "/notes", lambda got: got[0]["body"] == "kept"),
    "guestbook": (
        ("POST", "/signatures", {"name": "ada"}),
        "/signatures",
        lambda got: got == ["ada"],
    ),
    "tokens": (("POST", "/counters/visits", None), "/counters/visits", lambda got: got["n"] == 1),
}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_an_app_of_its_own_shape_deploys_serves_and_keeps_its_data(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # the background sandbox's info file lives here
    monkeypatch.setenv("RUNBOOK_SECRET_API_TOKEN", TOKEN)
    folder = tmp_path / name
    shutil.copytree(APPS / name, folder, ignore=shutil.ignore_patterns("__pycache__"))
    config = tmp_path / "runbook.toml"
    config.write_text(CONFIG)
    (write_method, write_path, body), read_path, holds = SHAPES[name]
    try:
        assert main(["init", str(folder), "--yes", "--sandbox"]) == OK
        capsys.readouterr()
        assert main(["deploy", "--yes", "--sandbox", "--config", str(config)]) == OK
        out = capsys.readouterr().out
        assert "HTTP 200" in out, out
        assert main(["status", "--json", "--sandbox"]) == OK
        url = json.loads(capsys.readouterr().out)["local_url"]
        status, _ = call(url, write_method, write_path, body, token=TOKEN)
        assert status in (200, 201)
        if name == "tokens":
            assert call(url, "POST", write_path)[0] == 401  # the secret guards writes

        # Changed code: a new image, a new revision, new tasks; the rows stay in the database.
        entry = next(folder.rglob("*.py"))
        entry.write_text(entry.read_text() + "\n# a change\n")
        monkeypatch.delenv("RUNBOOK_SECRET_API_TOKEN")  # kept in Secrets Manager already
        assert main(["deploy", "--yes", "--sandbox"]) == OK
        out = capsys.readouterr().out
        assert "flask-todo:2" in out and "HTTP 200" in out, out
        status, got = call(url, "GET", read_path)
        assert status == 200 and holds(got), got

        state = (tmp_path / "runbook-state.sandbox.json").read_text()
        assert TOKEN not in state and TOKEN not in out
        assert main(["destroy", "--yes", "--sandbox"]) == OK
        assert "Deleted everything" in capsys.readouterr().out
    finally:
        main(["sandbox", "stop"])
    assert sandbox.running(tmp_path / sandbox.INFO_FILE) is None
