"""What the app's welcome screen is told while it reaches the sandbox behind it: the start,
then what the line waits for during the search for the deployment's tag, then the start again
(or what the search itself said)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest

from runbook.cli import named, target
from runbook.settings import Settings
from runbook.state import StateFile

STARTED = "started in 1.0 s (http://127.0.0.1:9)"


def reached(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, claim_says: str = "") -> list[str]:
    def sandbox_aws(_args: Any, _region: str, tell: Any = None) -> Any:
        tell("starting")
        tell(STARTED)
        return object()

    def claim_with(*_a: Any, tell: Any, **_k: Any) -> str:
        if claim_says:
            tell(claim_says)
        return "123456789012"

    monkeypatch.setattr(target, "_sandbox_aws", sandbox_aws)
    monkeypatch.setattr(named, "claim_with", claim_with)
    args = argparse.Namespace(command=None, dry_run=False, sandbox=True)
    _pending, reach = target.sandbox_later(args, Settings(), StateFile(tmp_path / "s.json"))
    told: list[str] = []
    reach(told.append, lambda _question: True)
    return told


def test_the_search_is_said_then_the_start_stays(monkeypatch, tmp_path) -> None:
    assert reached(monkeypatch, tmp_path) == [
        "starting",
        STARTED,
        f"{STARTED}; looking for what already carries the deployment's tag",
        STARTED,
    ]


def test_what_the_search_says_is_the_last_word(monkeypatch, tmp_path) -> None:
    said = "2 resources carry flask-todo's tag: --take-over: managed from now on."
    assert reached(monkeypatch, tmp_path, said)[-1] == said
