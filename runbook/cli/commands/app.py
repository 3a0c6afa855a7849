"""`runbook` with no command: the guided app (Textual), in this terminal; the only place the
command line loads screens/, and only when the app opens."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

from runbook.cli.codes import OK

if TYPE_CHECKING:
    from runbook.cli.target import Reach
    from runbook.engine import EngineFor
    from runbook.recorded import Start


def run(
    engine_for: EngineFor,
    args: argparse.Namespace,
    start: Start,
    *,
    offline: bool,
    reach: Reach | None = None,
) -> int:
    from screens.app import RunbookApp, run_app

    region = start.settings.deployment.region

    if args.dry_run and args.sandbox:
        # Looks at the emulator, changes nothing in it.
        mode, where = "dry run", "dry run against the local emulator (sandbox)"
    elif args.sandbox:
        mode, where = "sandbox", "local emulator (sandbox)"
    elif offline:
        mode, where = "dry run", "dry run, offline: no AWS credentials, nothing is looked up"
    elif args.dry_run:
        mode, where = "dry run", "dry run: no AWS calls that change anything"
    else:
        profile = args.profile or os.environ.get("AWS_PROFILE")
        mode = "aws"
        where = f"AWS {region}" + (f", profile {profile}" if profile else "")
    app = RunbookApp(engine_for, mode=mode, where=where, start=start, reach=reach)
    code = run_app(app) or OK
    if args.sandbox:
        from runbook.cli.target import still_running_note

        print(still_running_note())
    return code
