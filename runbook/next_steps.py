"""The commands to run next, spelled for this deployment: the same target and state file.

A sandbox run's next commands need --sandbox, or they would look at a real account; a state
file given with --state must be given again. The settings need no --config: they are recorded.
"""

from __future__ import annotations

from pathlib import Path

DEFAULT_STATE = "runbook-state.json"
SANDBOX_STATE = "runbook-state.sandbox.json"


def default_state(sandbox: bool) -> Path:
    return Path(SANDBOX_STATE if sandbox else DEFAULT_STATE)


def command(name: str, *, sandbox: bool, state: Path | None = None, profile: str = "") -> str:
    """`runbook <name>` with the options that point it at the same deployment."""
    parts = ["runbook", *([name] if name else [])]
    if sandbox:
        parts.append("--sandbox")
    if state is not None and Path(state) != default_state(sandbox):
        parts += ["--state", str(state)]
    if profile:
        parts += ["--profile", profile]
    return " ".join(parts)


def next_steps(
    *, sandbox: bool, state: Path | None = None, profile: str = ""
) -> list[tuple[str, str]]:
    """(command, what it does) after a deploy."""

    def spelled(name: str) -> str:
        return command(name, sandbox=sandbox, state=state, profile=profile)

    return [
        (spelled("status"), "what exists now, section by section"),
        (spelled("destroy"), "delete everything this deployment made (it stops the costs)"),
        (spelled(""), "open the app again: it resumes, and a changed setting is rolled out"),
    ]
