"""A command run on its deployment: the state file it names, the settings it starts from,
the target (AWS, the sandbox, or none offline) and the command's own module, which builds its
engine; and what a failure says. Imported by runbook/cli/main.py once the arguments are read.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.text import Text

from runbook import settings as settings_module
from runbook.cli import target
from runbook.cli.codes import BAD_INPUT, FAILED, INTERRUPTED
from runbook.errors import NO_CREDENTIALS_ADVICE, RunbookError, is_aws_error, problem_from
from runbook.recorded import Start, starting_settings
from runbook.state import StateFile
from runbook.validation import validate

if TYPE_CHECKING:
    from rich.console import Console

    from runbook.aws import Aws
    from runbook.engine import EngineFor

REFUSED = "RefusedByAwsRules"  # runbook.rules.CODE, without importing the rules to start
# Problems that are the person's input, found before anything was sent: exit 2, as a refused
# setting is. (runbook.steps.app_secrets: a secret [app] names with no value given.)
BAD_INPUT_CODES = {REFUSED, "AppSecretMissing"}


def error_object(problem: Any, details: Sequence[str]) -> dict[str, Any]:
    """A failure as a script reads it on stdout (`--json`)."""
    return {
        "code": problem.code,
        "message": problem.message,
        "advice": problem.advice,
        "operation": problem.operation,
        "details": list(details),
    }


def named(console: Console, args: argparse.Namespace) -> int:
    """The deployment the command names (its state file), then the settings it starts from."""
    from runbook.cli.named import new_deployment_note, open_state

    named = open_state(args)
    state = named.state
    try:
        start = starting_settings(state, args.config, args.region)
        if getattr(args, "deployment", None) and not state.existed:
            start = _by_name(args, start)
    except settings_module.ConfigError as exc:
        # Plain text: a config's [section] is not rich markup.
        console.print(Text.assemble(("✗ config: ", "red"), str(exc)), soft_wrap=True)
        return BAD_INPUT
    if named.new:
        start.notes.append(new_deployment_note(state, start.settings))
    args.new_deployment = named.new
    errors = validate(start.settings)
    if errors:
        console.print("[red]✗ These settings would be refused; nothing was done:[/]")
        for error in errors:
            console.print(Text(f"  {error}"), soft_wrap=True)
        return BAD_INPUT
    try:
        return _run(console, args, start, state)
    except Exception as exc:
        if not isinstance(exc, RunbookError) and not is_aws_error(exc):
            raise  # a bug: its traceback, not a problem worded as AWS's
        from runbook.cli import render
        from runbook.cli.named import NotNamed
        from runbook.state import StateWriteError

        problem = problem_from(exc)
        details = getattr(exc, "details", ())
        if getattr(args, "json", False):  # a script reads stdout as JSON, failures included
            print(json.dumps({"error": error_object(problem, details)}, indent=2))
        else:
            render.error(console, problem.code, problem.message, problem.advice, details)
        # A call AWS's rules refuse is bad input: nothing was sent. So is a state file that
        # names no deployment we may act on, or cannot be written (it stays as it was).
        bad_input = problem.code in BAD_INPUT_CODES or isinstance(exc, NotNamed | StateWriteError)
        return BAD_INPUT if bad_input else FAILED
    except KeyboardInterrupt:
        console.print(f"\n[yellow]{_interrupted(args)}[/]", soft_wrap=True)
        return INTERRUPTED


# Commands that read only: stopping one midway leaves nothing half-done.
READ_ONLY = {"plan", "status", "logs", "export"}


def _interrupted(args: argparse.Namespace) -> str:
    """What stopping with ctrl+c means for this command, truly."""
    if args.command == "logs":
        return "Stopped following the logs." if args.follow else "Stopped reading the logs."
    if args.command in READ_ONLY or getattr(args, "dry_run", False):
        return "Interrupted. This command changes nothing, so nothing was left half-done."
    return (
        "Interrupted. Run the same command again: it resumes where it stopped, "
        "without making anything twice."
    )


def _by_name(args: argparse.Namespace, start: Start) -> Start:
    """`destroy --deployment NAME` with no state file: the guide's names for NAME."""
    name = args.deployment
    configured = settings_module.read_config(args.config).get("deployment", {}).get("name")
    if configured not in (None, name):
        raise settings_module.ConfigError(
            f"{args.config} names the deployment {configured!r}, and --deployment {name!r}; "
            "nothing was sent."
        )
    base = settings_module.Settings.for_deployment(name)
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if region:
        base = base.replace("deployment", region=region)
    settings = settings_module.load(args.config, region=args.region, base=base)
    return Start(settings, settings, notes=start.notes)


def _tell_start(console: Console, args: argparse.Namespace, start: Start) -> None:
    """Where the settings come from, and what --config changed in the recorded ones."""
    out = console if not getattr(args, "json", False) else _stderr()
    for note in start.notes:
        out.print(Text(f"· {note}", style="dim"), soft_wrap=True)
    if not start.changes:
        return
    records = args.command == "deploy" and not getattr(args, "dry_run", False)
    out.print(
        Text(
            f"--config changes {len(start.changes)} recorded setting"
            + ("s" if len(start.changes) != 1 else "")
            + (
                " (recorded when a section runs):"
                if records
                else " (this command records nothing):"
            ),
            style="bold",
        )
    )
    for change in start.changes:
        out.print(Text(f"  {change}"), soft_wrap=True)


def _stderr() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def _run(console: Console, args: argparse.Namespace, start: Start, state: StateFile) -> int:
    settings = start.settings
    offline = (args.command == "plan" and args.offline) or args.command == "export"
    dry_run = bool(getattr(args, "dry_run", False))
    reach = None
    if args.command is None and args.sandbox:
        # The app draws first: the sandbox is started or found behind its welcome screen.
        aws, reach = target.sandbox_later(args, settings, state)
    else:
        aws = None if offline else target.aws_for(args, settings)
    if aws is None and not (args.command in (None, "plan", "export") or dry_run):
        from runbook.errors import Problem

        raise RunbookError(
            Problem("NoCredentials", "No AWS credentials were found.", NO_CREDENTIALS_ADVICE)
        )
    if aws is None and not offline and args.command is not None:
        _stderr().print(
            "[yellow]No AWS credentials were found:[/] planning offline, as if nothing "
            "existed yet (add --sandbox for the local emulator, or configure credentials "
            "to plan against your account).",
            soft_wrap=True,
        )
    if args.command is not None:
        _tell_start(console, args, start)
    account = ""
    if aws is not None and reach is None and _changes(args):
        from runbook.cli.named import claim

        account = claim(console, args, aws, state, settings)
    state.target = aws.label if aws else state.target
    engine_for = target.engine_for(args, settings, aws, state, account)
    return _dispatch(console, args, engine_for, start, aws, reach)


def _changes(args: argparse.Namespace) -> bool:
    from runbook.cli.named import changes

    return changes(args)


def _dispatch(
    console: Console,
    args: argparse.Namespace,
    engine_for: EngineFor,
    start: Start,
    aws: Aws | None,
    reach: target.Reach | None = None,
) -> int:
    """The command's own module builds the engine with its own listener, and closes it after
    (a build still running in the background ends with the command)."""
    from runbook.events import ignore

    dry_run = bool(getattr(args, "dry_run", False))
    if args.command is None:
        from runbook.cli.commands import app

        return app.run(engine_for, args, start, offline=aws is None, reach=reach)
    if args.command == "plan" or (args.command == "deploy" and dry_run):
        from runbook.cli.commands import plan

        with engine_for(ignore) as runbook:
            return plan.run(
                console,
                runbook,
                as_json=getattr(args, "json", False),
                full=getattr(args, "full", False),
            )
    if args.command == "deploy":
        if args.plain:
            from runbook.cli.prompts import run_plain

            return run_plain(engine_for, console, assume_yes=args.yes)
        from runbook.cli.commands import deploy

        return deploy.run(console, engine_for, assume_yes=args.yes)
    if args.command in ("rollback", "redeploy", "scale"):
        from runbook.cli.commands import day_two

        return day_two.run(console, engine_for, args)
    if args.command == "destroy":
        from runbook.cli.commands import destroy

        return destroy.run(console, engine_for, args)
    with engine_for(ignore) as runbook:
        if args.command == "status":
            from runbook.cli.commands import status

            return status.run_json(runbook) if args.json else status.run(console, runbook)
        if args.command == "run":
            from runbook.cli.commands import run

            return run.run(console, runbook, args.argv)
        if args.command == "logs":
            from runbook.cli.commands import logs

            assert runbook.aws is not None
            return logs.run(
                console, runbook.aws, runbook.settings, since=args.since, follow=args.follow
            )
        from runbook.cli.commands import export

        return export.run(console, runbook, output=args.output, fmt=args.format)
