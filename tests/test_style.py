"""House rules CI enforces: ruff lint and format, and the import contracts in pyproject.toml
(the engine never imports the UI, its floors, who may import the sandbox, no import circles)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_ruff_lint_is_clean() -> None:
    done = run(sys.executable, "-m", "ruff", "check", ".")
    assert done.returncode == 0, done.stdout


def test_ruff_format_is_clean() -> None:
    done = run(sys.executable, "-m", "ruff", "format", "--check", ".")
    assert done.returncode == 0, done.stdout


CONTRACTS = (
    "The engine knows nothing of the UI",
    "The engine's floors",
    "Only the sandbox and the command line import the sandbox",
    "No import circles",
)


def test_every_import_contract_is_kept() -> None:
    """import-linter is a test dependency: its command sits beside this interpreter."""
    command = Path(sys.executable).with_name("lint-imports")
    done = run(str(command) if command.exists() else "lint-imports", "--no-cache")
    assert done.returncode == 0, done.stdout + done.stderr
    said = " ".join(done.stdout.split())  # its report wraps long lines
    for name in CONTRACTS:
        assert f"{name} KEPT" in said, f"{name!r} was not checked:\n{done.stdout}"
