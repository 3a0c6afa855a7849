"""Which settings a command starts from: the ones recorded with the deployment, changed explicitly.

The state file keeps the settings every run used (never the password). Every command starts
from them; `--config` changes the fields it names, and says so; the environment's region never
moves a recorded deployment. A different deployment (another name or region) needs its own
state file: sharing one would lose sight of the first deployment's resources.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from runbook.settings import (
    Change,
    ConfigError,
    Settings,
    differences,
    from_record,
    load,
    read_config,
)
from runbook.state import StateFile


@dataclass
class Start:
    """The settings to start from, and what a person should be told about them."""

    settings: Settings
    # What starting over would give: the guide's defaults and --config, same deployment.
    fresh: Settings
    recorded: bool = False
    changes: list[Change] = field(default_factory=list)  # what --config changed
    notes: list[str] = field(default_factory=list)


def starting_settings(state: StateFile, config: Path | None, region: str | None) -> Start:
    """The recorded settings with --config's fields over them; the guide's defaults if none."""
    if state.settings is None:
        settings = load(config, region=region)
        notes = []
        if state.damaged:
            notes.append(state.damaged)
        elif state.existed and state.sections:
            notes.append(
                f"{state.path} was written by an earlier version and records no settings: "
                "starting from the guide's defaults"
                + (" and --config" if config else "")
                + "; they are recorded from the next run on."
            )
        return Start(settings, settings, notes=notes)
    recorded = from_record(state.settings, str(state.path))
    wanted = read_config(config).get("deployment", {})
    name, where = recorded.deployment.name, recorded.deployment.region
    if wanted.get("name", name) != name:
        raise ConfigError(
            f"{state.path} records the deployment {name!r}, and {config} names "
            f"{wanted['name']!r}: a different deployment needs its own state file (--state "
            f"{wanted['name']}-state.json). Nothing was changed."
        )
    asked = region or wanted.get("region")
    if asked and asked != where:
        raise ConfigError(
            f"{state.path} records the deployment {name!r} in {where}, where its resources "
            f"are; moving it to {asked} would lose sight of them. Use another --state file "
            f"for a deployment in {asked} (or delete {state.path} if nothing of {name!r} "
            "exists any more). Nothing was changed."
        )
    settings = load(config, base=recorded)
    notes = []
    ambient = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if ambient and ambient != where:
        notes.append(f"region {where}, as recorded with the deployment (AWS_REGION is ignored)")
    fresh_base = Settings.for_deployment(name).replace("deployment", region=where)
    fresh = load(config, base=fresh_base)
    return Start(
        settings, fresh, recorded=True, changes=differences(recorded, settings), notes=notes
    )
